#include "api/zulip/zulip_dialect.hpp"

#include <spdlog/spdlog.h>

#include <set>

#include "api/common/config_table.hpp"
#include "core/stream_name.hpp"

namespace eventfeed::api::zulip {

namespace {

bool parse_stream(const common::config_table& t, std::string_view key, std::string& out) {
  if (!t.get(key, out)) return false;
  if (out.empty()) return true;
  if (auto name = core::parse_stream_name(out); !name) return t.fail(key, name.err().message);
  return true;
}

bool parse_user(const common::config_table& t, user& u) {
  if (!t.only({"email", "api_key", "api_key_env", "user_id", "full_name", "stream"}) ||
      !t.get("email", u.email) || !t.secret("api_key", "api_key_env", u.api_key) ||
      !t.integer("user_id", 1, std::int64_t{1} << 53, u.user_id) ||
      !t.get("full_name", u.full_name) || !parse_stream(t, "stream", u.stream))
    return false;
  if (u.email.empty()) return t.fail("email", "is required");
  if (!well_formed_api_key(u.api_key))
    return t.fail("api_key", "must be 32 letters and digits, as Zulip's API keys are");
  if (u.user_id == 0) return t.fail("user_id", "is required");
  if (u.stream.empty()) return t.fail("stream", "is required (the stream of this user's events)");
  if (u.full_name.empty()) u.full_name = u.email;
  return true;
}

}  // namespace

bool zulip_dialect::configure(const common::config_table& root) {
  auto t = root.table("zulip");
  if (!t) return !root.has("zulip");
  std::int64_t per_minute = settings_.rate.budget;
  std::chrono::milliseconds heartbeat = settings_.heartbeat, jitter = settings_.heartbeat_jitter,
                            lifespan = settings_.queue_lifespan, gc = gc_interval_;
  if (!t->only({"public_stream", "heartbeat_seconds", "heartbeat_jitter_seconds",
                "queue_lifespan_seconds", "max_queues_per_user", "max_queues",
                "rate_limit_per_minute", "gc_interval_seconds", "zulip_version",
                "zulip_feature_level", "users"}) ||
      !parse_stream(*t, "public_stream", settings_.public_stream) ||
      !t->seconds("heartbeat_seconds", 1, 300, heartbeat) ||
      !t->seconds("heartbeat_jitter_seconds", 0, 60, jitter) ||
      !t->seconds("queue_lifespan_seconds", 1, 7 * 24 * 3600, lifespan) ||
      !t->integer("max_queues_per_user", 1, 100'000, limits_.per_owner) ||
      !t->integer("max_queues", 1, 10'000'000, limits_.total) ||
      !t->integer("rate_limit_per_minute", 0, feed::rate_limit::max_budget, per_minute) ||
      !t->seconds("gc_interval_seconds", 1, 3600, gc) ||
      !t->get("zulip_version", settings_.zulip_version) ||
      !t->integer("zulip_feature_level", 0, 100'000, settings_.zulip_feature_level))
    return false;
  settings_.heartbeat = std::chrono::duration_cast<std::chrono::seconds>(heartbeat);
  settings_.heartbeat_jitter = std::chrono::duration_cast<std::chrono::seconds>(jitter);
  settings_.queue_lifespan = std::chrono::duration_cast<std::chrono::seconds>(lifespan);
  gc_interval_ = std::chrono::duration_cast<std::chrono::seconds>(gc);
  settings_.rate.budget = static_cast<std::uint32_t>(per_minute);
  settings_.zulip_merge_base = settings_.zulip_version;
  std::vector<common::config_table> entries;
  if (!t->tables("users", entries)) return false;
  std::set<std::string> emails;
  for (const auto& e : entries) {
    user u;
    if (!parse_user(e, u)) return false;
    if (!emails.insert(u.email).second)
      return e.fail("email", "'" + u.email + "' is configured twice");
    // One queue follows a user's stream and the realm's public stream with one cursor.
    if (!settings_.public_stream.empty() &&
        core::stream_tag(u.stream) != core::stream_tag(settings_.public_stream))
      return e.fail("stream", "must share a {tag} with zulip.public_stream ('" +
                                  settings_.public_stream + "'), e.g. '{" +
                                  std::string(core::stream_tag(settings_.public_stream)) +
                                  "}user:" + std::to_string(u.user_id) + "'");
    users_.push_back(std::move(u));
  }
  return true;
}

void zulip_dialect::adopt(const std::vector<user>& users) {
  auto ring = std::make_shared<common::key_ring>();
  std::vector<std::string> streams;
  if (!settings_.public_stream.empty()) streams.push_back(settings_.public_stream);
  for (const auto& u : users) {
    core::principal who;
    who.name = u.email;
    who.who = {std::to_string(u.user_id), u.full_name, u.email};
    who.streams = {u.stream};
    ring->add(u.api_key, std::move(who), u.email, &limiter_->slot(u.email));
    streams.push_back(u.stream);
  }
  keys_.replace(std::move(ring));
  static const auto check = std::make_shared<const feed::publish_check>(
      [](const core::new_event& e) { return check_event(e); });
  platform_->feed.guard_streams(std::string(name()), streams, check);
}

void zulip_dialect::install(common::platform& p) {
  platform_ = &p;
  limiter_ = std::make_unique<feed::rate_limiter>(p.clock, settings_.rate);
  queues_ = std::make_unique<feed::queue_registry>(p.feed.backing_store(), p.clock, "zulip.queue",
                                                   limits_);
  queues_->load();
  adopt(users_);
  register_routes(p, keys_, *limiter_, *queues_, settings_);
  p.tasks.every("zulip queue collection", gc_interval_, [q = queues_.get()] {
    if (const auto gone = q->sweep(); !gone.empty())
      spdlog::info("collected {} idle zulip queue(s)", gone.size());
  });
}

void zulip_dialect::reload(common::dialect& fresh) {
  auto& next = static_cast<zulip_dialect&>(fresh);
  users_ = next.users_;
  adopt(users_);
}

}  // namespace eventfeed::api::zulip
