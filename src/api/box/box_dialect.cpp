#include "api/box/box_dialect.hpp"

#include <algorithm>
#include <set>

#include "api/box/box_event.hpp"
#include "api/common/config_table.hpp"
#include "api/common/home_streams.hpp"

namespace eventfeed::api::box {

namespace {

bool parse_user(const common::config_table& t, core::identity& user) {
  auto u = t.table("user");
  if (!u) return t.has("user") ? false : t.fail("user", "is required: { id, name, login }");
  if (!u->only({"id", "name", "login"}) || !u->get("id", user.id) || !u->get("name", user.name) ||
      !u->get("login", user.login))
    return false;
  if (user.id.empty()) return u->fail("id", "is required (Box's user id, a string: \"11\")");
  return true;
}

bool parse_token(const common::config_table& t, token_entry& e) {
  if (!t.only({"token", "token_env", "user", "stream"}) ||
      !t.secret("token", "token_env", e.token) || !parse_user(t, e.user))
    return false;
  if (e.token.empty()) return t.fail("token", "is required (or token_env)");
  return t.stream("stream", "the stream of the user's events", e.stream);
}

}  // namespace

bool box_dialect::configure(const common::config_table& root) {
  auto t = root.table("box");
  if (!t) return !root.has("box");
  std::int64_t max_retries = opts_.channels.max_retries;
  std::int64_t retry_timeout = opts_.retry_timeout.count();
  if (!t->only({"rate_limit_per_minute", "rate_limit_window", "realtime_hold", "realtime_ttl",
                "realtime_max_retries", "realtime_retry_timeout", "tokens"}) ||
      !t->rate_limit(opts_.rate) || !t->seconds("realtime_hold", 0, 50, opts_.hold) ||
      !t->seconds("realtime_ttl", 1, 86400, opts_.channels.ttl) ||
      !t->integer("realtime_max_retries", 1, 1000, max_retries) ||
      !t->integer("realtime_retry_timeout", 1, 86400, retry_timeout))
    return false;
  opts_.channels.max_retries = static_cast<std::uint32_t>(max_retries);
  opts_.retry_timeout = std::chrono::seconds(retry_timeout);
  std::set<std::string> seen;
  return t->parse_tables("tokens", tokens_, [&](const common::config_table& e, token_entry& entry) {
    return parse_token(e, entry) &&
           (seen.insert(entry.token).second ||
            e.fail(e.has("token") ? "token" : "token_env", "this token is configured twice"));
  });
}

void box_dialect::adopt(const std::vector<token_entry>& tokens) {
  std::vector<common::home_credential> credentials;
  for (const auto& e : tokens)  // a budget per token; the token alone identifies its user
    credentials.push_back({e.token, {}, "box user " + e.user.id, e.user, e.stream, e.token});
  const auto streams = common::adopt_home_credentials(
      platform_->feed, std::string(name()), credentials, *limiter_, keys_,
      [](const core::new_event& e) { return check_event(e); });
  channels_->retain({streams.begin(), streams.end()});
}

void box_dialect::install(common::platform& p) {
  platform_ = &p;
  limiter_ = std::make_unique<feed::rate_limiter>(p.clock, opts_.rate);
  channels_ = std::make_shared<channel_registry>(p.clock, opts_.channels);
  adopt(tokens_);
  // Always: a reload may add the first token.
  register_routes(p, keys_, *limiter_, *channels_, opts_);
  // Expired channels are dropped within half their lifetime (at least every second, at most
  // every minute); a poll never needs this, since it checks its channel's expiry itself.
  const auto period = std::clamp<std::chrono::milliseconds>(
      opts_.channels.ttl / 2, std::chrono::seconds(1), std::chrono::minutes(1));
  p.tasks.every("box channels", period, [channels = channels_] { channels->collect(); });
}

void box_dialect::reload(common::dialect& fresh) {
  auto& next = static_cast<box_dialect&>(fresh);
  tokens_ = next.tokens_;
  adopt(tokens_);
}

}  // namespace eventfeed::api::box
