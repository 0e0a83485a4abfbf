#include "api/chaturbate/chaturbate_dialect.hpp"

#include <set>

#include "api/chaturbate/methods.hpp"
#include "api/common/config_table.hpp"
#include "api/common/home_streams.hpp"

namespace eventfeed::api::chaturbate {

namespace {

// `tokens = [...]`, or `tokens_env = "NAME"` holding them comma-separated.
bool parse_tokens(const common::config_table& t, std::vector<std::string>& out) {
  std::string env;
  if (!t.strings("tokens", out) || !t.get("tokens_env", env)) return false;
  if (!env.empty()) {
    if (!out.empty()) return t.fail("", "set either 'tokens' or 'tokens_env', not both");
    std::string joined;
    if (!t.env("tokens_env", joined)) return false;
    std::size_t start = 0;
    while (start <= joined.size()) {
      const auto comma = joined.find(',', start);
      std::string token = joined.substr(start, comma == std::string::npos ? comma : comma - start);
      while (!token.empty() && token.front() == ' ') token.erase(token.begin());
      while (!token.empty() && token.back() == ' ') token.pop_back();
      if (!token.empty()) out.push_back(std::move(token));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (out.empty()) return t.fail("tokens", "is required: at least one token (or tokens_env)");
  for (const auto& token : out)
    if (token.find_first_of("/?# ") != std::string::npos)
      return t.fail("tokens", "a token must not contain '/', '?', '#' or spaces");
  return true;
}

bool parse_room(const common::config_table& t, room& r) {
  if (!t.only({"username", "tokens", "tokens_env", "stream"}) || !t.get("username", r.username) ||
      !parse_tokens(t, r.tokens))
    return false;
  if (r.username.empty()) return t.fail("username", "is required");
  if (r.username.find('/') != std::string::npos) return t.fail("username", "must not contain '/'");
  return t.stream("stream", "the stream of the room's events", r.stream);
}

}  // namespace

bool chaturbate_dialect::configure(const common::config_table& root) {
  auto t = root.table("chaturbate");
  if (!t) return !root.has("chaturbate");
  if (!t->only({"rate_limit_per_minute", "rate_limit_window", "latest_events", "rooms"}) ||
      !t->rate_limit(opts_.rate) || !t->integer("latest_events", 0, 1000, opts_.latest_events))
    return false;
  std::set<std::string> usernames;
  return t->parse_tables("rooms", rooms_, [&](const common::config_table& e, room& r) {
    if (!parse_room(e, r)) return false;
    return usernames.insert(r.username).second ||
           e.fail("username", "'" + r.username + "' is configured twice");
  });
}

void chaturbate_dialect::adopt(const std::vector<room>& rooms) {
  std::vector<common::home_credential> credentials;
  for (const auto& r : rooms)
    for (const auto& token : r.tokens)  // a budget per token
      credentials.push_back({token,
                             r.username,
                             r.username,
                             {"", r.username, r.username},
                             r.stream,
                             r.username + '\n' + token});
  common::adopt_home_credentials(platform_->feed, std::string(name()), credentials, *limiter_,
                                 keys_, [](const core::new_event& e) { return check_event(e); });
}

void chaturbate_dialect::install(common::platform& p) {
  platform_ = &p;
  limiter_ = std::make_unique<feed::rate_limiter>(p.clock, opts_.rate);
  adopt(rooms_);
  // Always: a reload may add the first room.
  register_routes(p, keys_, *limiter_, opts_);
}

void chaturbate_dialect::reload(common::dialect& fresh) {
  auto& next = static_cast<chaturbate_dialect&>(fresh);
  rooms_ = next.rooms_;
  adopt(rooms_);
}

}  // namespace eventfeed::api::chaturbate
