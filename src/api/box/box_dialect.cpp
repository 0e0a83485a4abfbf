#include "api/box/box_dialect.hpp"

#include <algorithm>
#include <set>
#include <string>

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

// 45000 ms as "45", 1500 ms as "1.5".
std::string seconds_text(std::chrono::milliseconds d) {
  std::string text = std::to_string(d.count() / 1000);
  if (const auto ms = d.count() % 1000) {
    std::string fraction = std::to_string(1000 + ms).substr(1);
    while (fraction.back() == '0') fraction.pop_back();
    text += "." + fraction;
  }
  return text;
}

}  // namespace

bool box_dialect::configure(const common::config_table& root) {
  auto t = root.table("box");
  if (!t) return !root.has("box");
  std::int64_t max_retries = opts_.channels.max_retries;
  std::int64_t retry_timeout = opts_.retry_timeout.count();
  if (!t->only({"rate_limit_per_minute", "rate_limit_window", "realtime_hold", "realtime_ttl",
                "realtime_max_retries", "realtime_retry_timeout", "tokens"}) ||
      !t->rate_limit(opts_.rate) || !t->seconds("realtime_hold", 1, 50, opts_.hold) ||
      !t->seconds("realtime_ttl", 1, 86400, opts_.channels.ttl) ||
      !t->integer("realtime_max_retries", 1, 1000, max_retries) ||
      !t->integer("realtime_retry_timeout", 1, 86400, retry_timeout))
    return false;
  // The SDKs abandon a realtime poll after retry_timeout: a quiet hold must end before that.
  if (std::chrono::seconds(retry_timeout) <= opts_.hold)
    return t->fail("realtime_retry_timeout", "must be more than realtime_hold (" +
                                                 seconds_text(opts_.hold) +
                                                 " s): clients abandon a realtime poll after it");
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
