// api/native/native_api.hpp: eventfeed's own HTTP API (docs/api/native.md).
//
//   POST /v1/streams/{stream}/events   publish one event or a batch to one stream
//   POST /v1/events                    publish to several streams at once
//   GET  /v1/streams/{stream}/events   long-poll: ?after=P|now&timeout=S&limit=N&types=a,b
//   GET  /v1/events                    long-poll several streams sharing a {tag}: ?streams=a,b&...
//   GET  /v1/streams/{stream}          {"stream", "head", "oldest", "waiters"}
//
// Authentication is `Authorization: Bearer <key>`; errors are {"error": {"code", "message"}}
// (the router's default shape). This file only translates: HTTP in, feed call, HTTP out; the
// admission, the error table and the poll sequence are api/common's.
#pragma once

#include <chrono>
#include <string>

#include "api/common/credentials.hpp"
#include "api/common/errors.hpp"
#include "api/common/gateway.hpp"
#include "api/common/signed_tokens.hpp"
#include "core/event.hpp"
#include "feed/feed.hpp"
#include "http/router.hpp"

namespace eventfeed::api::native {

// The most streams one GET /v1/events may name: 50 names of the longest kind still fit the
// request line in the 16 KiB header limit, percent-encoded.
inline constexpr std::size_t max_poll_streams = 50;

struct options {
  std::chrono::milliseconds default_timeout{30'000};
  std::chrono::milliseconds max_timeout{90'000};
  std::size_t default_limit = 100;
  std::size_t max_limit = 1000;
  std::size_t max_batch = 1000;
};

// Where the native API finds callers besides its key directory: signed tokens that `jwt`
// verifies, and stored keys (`stored`, the credential store's index of kind "key"), whose
// revocations are announced on `revocations` (a poll parked with a revoked key is answered 401).
struct other_credentials {
  const common::jwt_trust* jwt = nullptr;
  const common::credential_index* stored = nullptr;
  common::revocation_board* revocations = nullptr;
};

void register_routes(http::router& routes, feed::engine& feed, const common::key_directory& keys,
                     options opts = {}, other_credentials others = {});

// How the native API admits a caller (`Authorization: Bearer`, its messages), for its routes
// and the admin API's.
common::admission_policy admission(const other_credentials& others);

// The native rendering of one event, cached on the event:
// {"position":P,"time":T,"type":"...","data":{...}}.
const std::string& render_event(const core::event& ev);

// The native API's error table: the common one, with `WWW-Authenticate: Bearer` on a 401.
common::error_table errors();

}  // namespace eventfeed::api::native
