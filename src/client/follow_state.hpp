// client/follow_state.hpp: the decisions of call_on_each_event, without any I/O on the network:
// where the cursor is, which URL to ask, what to do after a failure, how an answer is handed to
// the handler. Both the synchronous and the asynchronous form drive one of these (follow.cpp);
// neither has retry or cursor logic of its own.
//
// Invariants:
// - `cursor_` only moves forward, and only after the handler returned for the event at that
//   position, or past events the server said it skipped (`next` of an answer). With a cursor
//   file, every move is written to it before the next event is handed over.
// - Until the first answer of a start from the oldest event, there is no cursor (`has_cursor_`
//   false) and polls carry no `after`, so that a start from the oldest reports no gap.
// - A start from "now" is resolved by the server: the first poll asks `after=now` with no wait,
//   and its answer's `next` (the head of the streams then, or past what it returned) becomes the
//   cursor, written to the cursor file at once. Until that answer, `pending_now_` holds.
// - `failures_` counts failed attempts since the last answer; the first `urls.size() - 1`
//   failures move to the next URL at once, later ones wait for the backoff.
//
// Not thread-safe: owned by one follower.
#pragma once

#include <cstddef>
#include <optional>
#include <stop_token>
#include <string>

#include "client/backoff.hpp"
#include "eventfeed/follow.hpp"

namespace eventfeed::detail {

class follow_state {
 public:
  // Checks the options and reads the cursor file (see eventfeed/follow.hpp for the rules).
  static result<follow_state> open(stream_set streams, const follow_options& options);

  const stream_set& streams() const noexcept { return streams_; }
  std::size_t url_index() const noexcept { return url_; }

  // True while the start is "now" and not yet resolved by an answer.
  bool pending_now() const noexcept { return pending_now_; }

  // The next poll, from the cursor (or `now` with no wait, see the invariants).
  poll_options next_poll() const;

  // An attempt failed: the notice of the retry to make (URL index and wait), or, for an error
  // that cannot pass, that error.
  result<retry_notice> failed(error e);
  // An attempt succeeded: failures and backoff start again.
  void succeeded() noexcept;

  // Hands an answer to `handler`: the gap if any, then each event, advancing (and saving) the
  // cursor after each return, then past `next`. Once `stop` is requested (by the handler
  // itself, say after its last wanted event) it hands nothing more over and the cursor stays
  // after the last event handled. What the handler throws propagates, the cursor left before
  // the event. Fails only when the cursor file cannot be written.
  std::optional<error> deliver(const poll_result& answer, const event_handler& handler,
                               const std::stop_token& stop = {});

  follow_summary summary() const noexcept { return {cursor_, delivered_}; }

 private:
  follow_state(stream_set streams, const follow_options& options);
  std::optional<error> advance(position pos);

  stream_set streams_;
  std::string identity_;  // what the cursor file records: the names, sorted, comma-separated
  const follow_options* options_;
  backoff backoff_;
  std::size_t url_ = 0;
  std::size_t failures_ = 0;
  bool pending_now_ = false;
  bool has_cursor_ = false;
  position cursor_ = 0;
  std::uint64_t delivered_ = 0;
};

}  // namespace eventfeed::detail
