// api/box/box_api.hpp: Box's user event stream and its long-poll realtime server
// (docs/api/box.md; ../shared/spec/box.md), as the official SDKs drive them:
//
//   OPTIONS /2.0/events                 Bearer; opens a realtime channel and answers its URL:
//     {"chunk_size":1,"entries":[{"type":"realtime_server","url":"<public_url>/2.0/realtime?
//      channel=<id>&stream_type=all","ttl":"10","max_retries":"10","retry_timeout":610}]}
//   GET <that url>&stream_position=P    no credential needed; {"version":1,"message":
//     "new_change"} at once when the user's stream has events after P (the channel's stream
//     type filtering), else when one arrives within the hold, else "reconnect" (also for an
//     unknown or expired channel and for polls past max_retries: never an error)
//   GET /2.0/events?stream_position=&stream_type=&limit=    Bearer; a page of Box event
//     objects: {"chunk_size":N,"next_stream_position":P,"entries":[...]}
//
// Errors under /2.0/ are Box's ClientError: {"type":"error","status","code","message",
// "request_id","help_url","context_info"}, with `box-request-id`; 401 carries
// `WWW-Authenticate: Bearer realm="Service", error="invalid_token", ...`, 429 is
// `rate_limit_exceeded` with Retry-After. Every answer is application/json.
#pragma once

#include <chrono>
#include <memory>

#include "api/box/channel_registry.hpp"
#include "api/common/credentials.hpp"
#include "api/common/dialect.hpp"
#include "feed/rate_limiter.hpp"
#include "http/router.hpp"

namespace eventfeed::api::box {

struct options {
  feed::rate_limit rate{1000, std::chrono::minutes(1)};  // per token
  // How long a realtime poll is held before `reconnect` (at most 50 s: below the Python SDK's
  // 60 s read timeout).
  std::chrono::milliseconds hold{std::chrono::seconds(45)};
  channel_limits channels;                  // ttl, max_retries
  std::chrono::seconds retry_timeout{610};  // what OPTIONS tells clients
  std::size_t default_limit = 100;          // GET /2.0/events without `limit`
  std::size_t max_limit = 500;              // larger limits are clamped
};

// The path of the realtime server, under the API's own prefix.
inline constexpr std::string_view realtime_path = "/2.0/realtime";

// Registers the routes and Box's error shape. `keys` holds every token (principal: the token's
// user, its stream first), `limiter` the per-token budgets, `channels` the realtime channels;
// all must outlive the router.
void register_routes(common::platform& p, const common::key_directory& keys,
                     feed::rate_limiter& limiter, channel_registry& channels, const options& opts);

// Box's ClientError body for an error, with the request id in the body and in `box-request-id`.
http::response render_error(const http::error_details& e);

}  // namespace eventfeed::api::box
