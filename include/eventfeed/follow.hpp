// eventfeed/follow.hpp: call_on_each_event, a consumer loop over the native API that hides
// long-polling, retries, backoff, failover and cursor keeping behind one call.
//
//   eventfeed::follow_options o;
//   o.urls = {"http://10.0.0.1:8080", "http://10.0.0.2:8080"};
//   o.key = "reader-key";
//   o.cursor_file = "room-alice.cursor";   // resume here after a restart
//   o.start_if_missing = true;             // the first run starts from `from`
//   auto end = eventfeed::call_on_each_event("room:alice", [](const eventfeed::delivery& d) {
//     if (d.gap) std::cerr << "missed events after " << d.gap_after << '\n';
//     else std::cout << eventfeed::to_json(d.ev) << '\n';
//   }, o, stop.get_token());
//   if (!end) std::cerr << end.err().to_string() << '\n';
//
// How it works. The loop keeps one cursor: the position of the last event handed to the handler
// that returned, or a later one when the server said it skipped events the type filter rejects.
// It long-polls from that cursor, hands each event of an answer to the handler in order, and
// advances the cursor only after the handler returns; with a cursor file, the file is rewritten
// (a new file renamed over the old one, so it is always whole) after every advance. Hence each
// event reaches the handler exactly once across lost connections, restarts of the server and
// failover: a retried poll asks again from the cursor, and positions never move backwards on a
// server nor across failover (DESIGN.md). Across a restart of the consumer itself, exactly once
// holds for every event whose handler returned and whose cursor write finished; one killed
// between the two is handed over again (at least once), which a handler that records its own
// effect idempotently (by position) turns into exactly once.
//
// Starting point: the cursor file's position when the file exists. When it does not, the loop
// fails (error_kind::local, "cursor_file_missing") unless `start_if_missing`, so a lost or
// mistyped file is never silently replaced by "now". A damaged file (cut short, not ours, for
// another stream) or one that cannot be read is an error too, never a fresh start. Without a
// cursor file, the start is `from`. "now" is resolved by the server before anything else (a
// first poll with `after=now` that does not wait: its `next` is the head) and written to the
// cursor file at once, so a consumer killed before the first event arrives still resumes from
// that head, not from a later "now".
//
// Several streams. Streams whose names share a `{tag}` share one position sequence, so one
// cursor follows them together (stream_set: `{"{acme}user:42", "{acme}public"}`): each poll
// asks for all of them (GET /v1/events?streams=...), the handler gets their events merged in
// position order, each with its `stream`, and everything above holds for the set as for one
// stream. The cursor file names the set (sorted, so the order they are given in does not
// matter); a file of another set is an error.
//
// Failures. Errors that may pass (transport errors; 429, 500, 502, 503, 504) are retried
// forever. The loop moves to the next URL of `urls` at once after a failure, until every URL
// has failed since the last answer; from then on it waits before each attempt: exponential
// backoff with full jitter, a uniform random delay in [0, min(cap, initial * 2^n)] for the
// n-th wait (see retry_policy). An answer with `Retry-After` (429, 503) is honoured instead:
// the loop waits that long and asks the same URL again. Errors that cannot pass (401, 403, 400
// such as a bad stream name, 404, an answer that is not the API's) end the loop, returned as
// the error. `on_retry`, when set, hears of every retry before its wait.
//
// Gaps. When retention removed events after the cursor before they were read, the handler is
// called once with `gap` set (and `gap_after`, the cursor), before the events that follow.
//
// Stopping. `stop` (a std::stop_token) may be requested from any thread, a signal-handling
// thread typically: the poll in flight or the wait is abandoned within milliseconds and the
// call returns the cursor reached. Once the stop is requested no further event is handed over,
// not even the rest of the answer at hand, so a handler that requests it after the last event
// it wants leaves the cursor right after that event. A handler that throws ends the loop: the
// exception leaves call_on_each_event unchanged and the cursor is not advanced past the event it
// was given.
//
// Thread affinity: the handler and `on_retry` run on the thread that called
// call_on_each_event. The async form (eventfeed/follow_async.hpp) runs the same loop on an Asio
// executor.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "eventfeed/client.hpp"

namespace eventfeed {

// How long to wait between attempts once every URL has failed: the n-th wait (n = 0, 1, ...) is
// a uniform random duration in [0, min(cap, initial * 2^n)] ("full jitter": consumers that lost
// the same server do not come back in step).
struct retry_policy {
  std::chrono::milliseconds initial{250};
  std::chrono::milliseconds cap{30'000};
  std::uint64_t seed = 0;  // of the jitter's generator; 0: a random seed
};

// What the handler receives: one event, or the notice of a gap before the events after it.
struct delivery {
  bool gap = false;
  position gap_after = 0;  // gap: events after this position were removed unread
  event ev{};              // not gap: the event
};

// One retry, told before its wait.
struct retry_notice {
  error err{};                          // why the attempt failed
  std::string url{};                    // where the next attempt goes
  std::chrono::milliseconds delay{};    // the wait before it
  std::chrono::milliseconds ceiling{};  // the backoff's bound for this wait (0: a failover or a
                                        // Retry-After, not a backoff wait)
};

struct follow_options {
  std::vector<std::string> urls = {"http://127.0.0.1:8080"};  // tried in turn on failures
  std::string key{};
  // Where to start without a cursor file: "now" (new events only), "" (the oldest retained
  // event) or a position ("17": everything after 17).
  std::string from = "now";
  std::vector<std::string> types{};                // only these event types; empty for all
  std::size_t limit = 0;                           // events per poll; 0 for the server's default
  std::chrono::milliseconds poll_timeout{30'000};  // how long the server may hold a poll
  // The cursor's file: read at the start, rewritten atomically after each handled event. Empty:
  // none (the cursor lives only in memory).
  std::string cursor_file{};
  bool start_if_missing = false;  // a missing cursor_file starts from `from` instead of failing
  // fsync each cursor write and its directory: the cursor then survives power loss too, at the
  // cost of a disk flush per event (~10 ms on a plain disk). Without it the rename keeps the file
  // whole and current through any crash of the process.
  bool sync_cursor_file = false;
  retry_policy retry{};
  std::function<void(const retry_notice&)> on_retry{};
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds poll_grace{10'000};  // added to poll_timeout on the client
};

// How a loop ended without an error: stopped through its stop_token.
struct follow_summary {
  position cursor = 0;          // the cursor reached (0: nothing read yet from the oldest)
  std::uint64_t delivered = 0;  // events handed to the handler by this call
};

using event_handler = std::function<void(const delivery&)>;

// Follows `streams` (one stream, or several sharing a {tag}) until `stop` is requested (a
// summary) or an error that cannot be retried (the error). Rethrows what the handler throws.
// See the top of this file.
result<follow_summary> call_on_each_event(const stream_set& streams, event_handler handler,
                                          const follow_options& options, std::stop_token stop = {});

}  // namespace eventfeed
