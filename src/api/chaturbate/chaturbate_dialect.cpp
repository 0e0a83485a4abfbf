#include "api/chaturbate/chaturbate_dialect.hpp"

#include <set>

#include "api/chaturbate/methods.hpp"
#include "api/common/config_table.hpp"
#include "core/stream_name.hpp"

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
      !parse_tokens(t, r.tokens) || !t.get("stream", r.stream))
    return false;
  if (r.username.empty()) return t.fail("username", "is required");
  if (r.username.find('/') != std::string::npos) return t.fail("username", "must not contain '/'");
  if (r.stream.empty()) return t.fail("stream", "is required (the stream of the room's events)");
  if (auto name = core::parse_stream_name(r.stream); !name)
    return t.fail("stream", name.err().message);
  return true;
}

}  // namespace

bool chaturbate_dialect::configure(const common::config_table& root) {
  auto t = root.table("chaturbate");
  if (!t) return !root.has("chaturbate");
  std::int64_t per_window = opts_.rate.budget;
  if (!t->only({"rate_limit_per_minute", "rate_limit_window", "latest_events", "rooms"}) ||
      !t->integer("rate_limit_per_minute", 0, feed::rate_limit::max_budget, per_window) ||
      !t->seconds("rate_limit_window", 1, 86400, opts_.rate.window) ||
      !t->integer("latest_events", 0, 1000, opts_.latest_events))
    return false;
  opts_.rate.budget = static_cast<std::uint32_t>(per_window);
  std::vector<common::config_table> entries;
  if (!t->tables("rooms", entries)) return false;
  std::set<std::string> usernames;
  for (const auto& e : entries) {
    room r;
    if (!parse_room(e, r)) return false;
    if (!usernames.insert(r.username).second)
      return e.fail("username", "'" + r.username + "' is configured twice");
    rooms_.push_back(std::move(r));
  }
  return true;
}

void chaturbate_dialect::adopt(const std::vector<room>& rooms) {
  auto ring = std::make_shared<common::key_ring>();
  std::vector<std::string> streams;
  for (const auto& r : rooms) {
    core::principal who;
    who.name = r.username;
    who.who = {"", r.username, r.username};
    who.streams = {r.stream};
    // The budget is per token, and a reload finds a token's slot (and what it spent) again.
    for (const auto& token : r.tokens)
      ring->add(token, who, r.username, &limiter_->slot(r.username + '\n' + token));
    streams.push_back(r.stream);
  }
  keys_.replace(std::move(ring));
  static const auto check = std::make_shared<const feed::publish_check>(
      [](const core::new_event& e) { return check_event(e); });
  platform_->feed.guard_streams(std::string(name()), streams, check);
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
