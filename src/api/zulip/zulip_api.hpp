// api/zulip/zulip_api.hpp: Zulip's real-time events API (docs/api/zulip.md;
// ../shared/spec/zulip.md).
//
//   GET    /api/v1/server_settings   the server's Zulip version (no credential needed)
//   POST   /api/v1/register          a new durable event queue
//   GET    /api/v1/events            acknowledge with last_event_id, then long-poll the queue
//   DELETE /api/v1/events            delete a queue
//
// Credentials: HTTP Basic `email:api_key`. Parameters come from a urlencoded or multipart body,
// then the query string; typed values are JSON text inside them. Every answer is JSON:
// {"result":"success","msg":"",...} or {"result":"error","msg":...,"code":...}, with the
// X-RateLimit-* headers of the user's budget (200 requests a minute by default).
//
// Queues are feed::queue_registry's: durable, collected after their idle lifespan. An event's
// id is its position in the log (increasing, not consecutive, as Zulip allows). A poll reads
// after the queue's acknowledged cursor: what the client has not acknowledged comes again. A
// poll that waits its heartbeat time (45-55 s) answers a heartbeat whose id is where the queue
// has read to, so acknowledging it moves the queue past events its filter skipped; a newer poll
// of the same queue answers the older one at once, empty; after a restart a queue's first answer
// carries a `restart` event.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "api/common/credentials.hpp"
#include "api/common/dialect.hpp"
#include "core/event.hpp"
#include "core/publish.hpp"
#include "feed/queues.hpp"
#include "feed/rate_limiter.hpp"

namespace eventfeed::api::zulip {

struct settings {
  std::string public_stream;  // the realm's channel messages; empty: none
  std::chrono::seconds heartbeat{45};
  std::chrono::seconds heartbeat_jitter{10};  // a heartbeat comes after heartbeat + [0, jitter]
  std::chrono::seconds queue_lifespan{600};   // when register gives none
  std::chrono::seconds max_queue_lifespan{7 * 24 * 3600};
  std::size_t max_batch = 1000;                         // most events in one answer
  feed::rate_limit rate{200, std::chrono::minutes(1)};  // per user
  std::string zulip_version = "10.0";
  std::string zulip_merge_base = "10.0";
  std::int64_t zulip_feature_level = 300;
};

// Registers the routes and the error shape. Everything passed must outlive the router.
void register_routes(common::platform& p, const common::key_directory& users,
                     feed::rate_limiter& limiter, feed::queue_registry& queues, const settings& s);

// Whether `key` has the form of a Zulip API key: 32 letters and digits.
bool well_formed_api_key(std::string_view key);

// {"type":...,<the event's data>,"id":<position>}, cached on the event.
const std::string& render_event(const core::event& ev);

// What an event on a Zulip stream must be for the clients to read it: data a JSON object
// without `id` or `type` (the server sets them); a `message` event's data carries the message
// object (docs/api/zulip.md). Nothing when it is fine, else what is wrong.
std::optional<std::string> check_event(const core::new_event& e);

}  // namespace eventfeed::api::zulip
