// store/store.hpp: the store contract every backend (memory, sqlite, redis) implements.
//
// Positions: the store assigns them on append. They are strictly increasing within a stream and
// never reused; streams whose names share a `{tag}` share one sequence, so a cursor can follow
// several of them in order (a backend may simply use one sequence for everything).
//
// Visibility: once a position is readable, every lower position of its sequence that still
// exists is readable too (appends become visible in position order). feed::engine relies on
// this to merge several streams of one `{tag}` without skipping an event.
//
// Durability: `append` calls `done` only once the events are durable by the backend's promise
// (memory: never; sqlite: committed to the WAL; redis: acknowledged). Concurrent appends may be
// group-committed. `done` may run on any thread, possibly inline inside `append`; callers must
// not hold locks that `done` needs.
//
// Reads: `try_read`/`try_info` are the fast path, answered from memory without blocking; they
// return nullopt when the backend would have to go to disk or network, and the caller then uses
// `read`/`info`, whose callbacks run on a store thread (or inline). No call blocks an I/O thread.
//
// Records: small key/value state other than events (queues, ...) lives in the same store, so a
// restart loses nothing; see put_record and swap_record (compare-and-set, with an expiry).
//
// Retention: each stream keeps at most `max_events` events no older than `max_age`, by the first
// rule whose pattern matches its name. A read whose cursor is older than the oldest retained
// event starts at the oldest retained one and says `gap = true` when events of that stream after
// the cursor were removed (a cursor that missed nothing is not told of a gap).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/errc.hpp"
#include "core/event.hpp"
#include "core/publish.hpp"
#include "core/stream_name.hpp"

namespace eventfeed::store {

struct retention_rule {
  core::stream_pattern pattern{"*"};
  std::chrono::milliseconds max_age = std::chrono::hours(24 * 7);
  std::size_t max_events = 100'000;
};

// Rules are tried in order; the first match wins; streams matching none get `fallback`.
struct retention_policy {
  std::vector<retention_rule> rules;
  retention_rule fallback;

  const retention_rule& for_stream(std::string_view stream) const noexcept;
};

struct read_result {
  std::vector<core::event_ptr> events;  // in position order, at most `limit`
  core::position head = 0;              // the stream's last position when read (0: none yet)
  bool gap = false;                     // events after `after` were trimmed by retention
};

struct stream_info {
  core::position head = 0;    // last position ever assigned in the stream (0: none yet)
  core::position oldest = 0;  // position of the oldest retained event (0: none retained)
  std::size_t retained = 0;   // how many events are retained
};

using append_callback = std::function<void(core::result<std::vector<core::event_ptr>>)>;
using read_callback = std::function<void(core::result<read_result>)>;
using info_callback = std::function<void(core::result<stream_info>)>;
// Completion of a write that returns nothing: nullopt on success.
using done_callback = std::function<void(std::optional<core::error>)>;
// Completion of a compare-and-set: whether it wrote.
using swap_callback = std::function<void(core::result<bool>)>;

class store {
 public:
  virtual ~store() = default;

  // Appends `events` (to one or several streams) and calls `done` with them, positioned and
  // time-stamped, in the order given, once they are durable; or with errc::unavailable.
  virtual void append(std::vector<core::new_event> events, append_callback done) = 0;

  // Events of `stream` with position > `after`, at most `limit`.
  virtual std::optional<core::result<read_result>> try_read(std::string_view stream,
                                                            core::position after,
                                                            std::size_t limit) = 0;
  virtual void read(std::string stream, core::position after, std::size_t limit,
                    read_callback done) = 0;

  // The newest `limit` events of `stream` (all of them if it has fewer), in position order;
  // `gap` is false (nothing before them was asked for). What a client that joins late and
  // asks for "the latest events" gets.
  virtual std::optional<core::result<read_result>> try_read_last(std::string_view stream,
                                                                 std::size_t limit) = 0;
  virtual void read_last(std::string stream, std::size_t limit, read_callback done) = 0;

  virtual std::optional<core::result<stream_info>> try_info(std::string_view stream) = 0;
  virtual void info(std::string stream, info_callback done) = 0;

  // Small durable records the server keeps beside the events (a dialect's queues, ...), by kind
  // and key. Reads answer from memory (backends keep every record in memory: they are few and
  // small); writes complete once durable, like appends.
  virtual std::optional<std::string> get_record(std::string_view kind, std::string_view key) = 0;
  virtual std::vector<std::pair<std::string, std::string>> list_records(std::string_view kind) = 0;
  virtual void put_record(std::string kind, std::string key, std::string value,
                          done_callback done) = 0;
  virtual void erase_record(std::string kind, std::string key, done_callback done) = 0;
  // Compare-and-set: writes `value` (nullopt: erases the record) only if the record holds
  // `expected` right now (nullopt: there is no record), atomically with respect to every other
  // write of the store; `done(true)` if it wrote, `done(false)` if the record held something
  // else and nothing was written. A written record expires at `expires_at_ms` (wall-clock ms
  // since the epoch, the store's clock; 0: never): from then on it is absent from
  // get_record/list_records and from what a later swap compares with, and trim_expired removes
  // it for good. Durable like put_record. What a dialect's queues use: creating one only if
  // its id is new, moving its acknowledged cursor only from the value it read, and letting an
  // idle one expire.
  virtual void swap_record(std::string kind, std::string key, std::optional<std::string> expected,
                           std::optional<std::string> value, std::int64_t expires_at_ms,
                           swap_callback done) = 0;

  // Applies retention by age (count is applied on append) and removes expired records. Called
  // periodically by the feed; does a bounded amount of work per call so it never stalls appends.
  virtual void trim_expired() = 0;

  // Stops accepting appends and completes the ones in flight. Idempotent.
  virtual void close() = 0;

  // A short name for logs and /healthz ("memory", "sqlite").
  virtual std::string_view backend_name() const noexcept = 0;
};

}  // namespace eventfeed::store
