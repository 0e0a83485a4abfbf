// api/chaturbate/chaturbate_api.hpp: the Chaturbate-style long-poll event feed
// (docs/api/chaturbate.md; ../shared/spec/chaturbate.md).
//
//   GET /events/{username}/{token}/?timeout=N&i=ID     (also without the trailing slash)
//
// The token in the path is the credential; each room's tokens resolve to a principal whose home
// stream is the room's. Without `i` the answer starts with the room's latest events; with it,
// after the event it names, waiting up to `timeout` seconds (0-90, default 10, clamped) when
// there is nothing yet. The answer is {"events": [{"method", "id", "object"}], "nextUrl"}: ids
// are "<ms>-<position>", and `nextUrl` is absolute (from the server's public URL), keeps the
// caller's timeout and is there on every answer, empty ones included. Errors are JSON
// {"status": "...", "code": "..."}: 401 for a wrong token or username, 404 for an unknown path,
// 429 with Retry-After past the token's budget.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/common/credentials.hpp"
#include "api/common/dialect.hpp"
#include "core/event.hpp"
#include "feed/rate_limiter.hpp"

namespace eventfeed::api::chaturbate {

struct options {
  std::size_t latest_events = 100;                       // what a request without `i` starts with
  std::size_t max_batch = 1000;                          // most events in one answer
  feed::rate_limit rate{2000, std::chrono::minutes(1)};  // per token
};

// Registers the route and the error shape. `keys` holds every room token (login: the room's
// username; principal: the room, its stream first); `limiter` the per-token budgets. All three
// must outlive the router.
void register_routes(common::platform& p, const common::key_directory& keys,
                     feed::rate_limiter& limiter, const options& opts);

// "<ms>-<position>": the event's time and position.
std::string event_id(const core::event& ev);
// The position of an id of that form; nullopt if `id` is not one.
std::optional<core::position> parse_event_id(std::string_view id);

// {"method":"...","id":"...","object":{...}}, cached on the event.
const std::string& render_event(const core::event& ev);

}  // namespace eventfeed::api::chaturbate
