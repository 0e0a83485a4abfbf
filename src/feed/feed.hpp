// feed/feed.hpp: feed::engine, what every dialect calls: publish, poll, stream info, shutdown.
//
// Publish: the store appends (durably, group-committed by the backend); once it reports the
// events durable, the hub wakes the waiters of the streams touched, and only then does the
// publisher's coroutine resume with the positions. A publisher never learns of a position that
// a poll could not yet read.
//
// Poll: resolve the cursor, read what is there (the store's in-memory fast path first), and if
// nothing the filter accepts is there, park a waiter in the hub, read once more (see hub.hpp on
// lost wake-ups), then wait. A wake for events loops back to reading; a deadline, a newer poll
// with the same key, shutdown or cancellation end the poll with no events and the cursor where
// it was (or past events the filter skipped). A read scans at most a bounded number of events
// the filter skips; a poll that stops there answers at once (empty, `next` moved on) instead of
// parking over events it has not read.
//
// A poll may follow several streams that share a `{tag}` (and so one position sequence): the
// reads are merged by position, so one cursor covers them all. Since the streams are read one
// after another, a merge only goes up to the highest head seen before its reads; an append
// that lands between two reads is picked up by the next read instead of being skipped.
//
// Threading: the awaitables resume on the caller's executor; store callbacks are posted back to
// it. Apart from `tick` (server ticker), every member may be called from any I/O thread.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/cursor.hpp"
#include "core/errc.hpp"
#include "core/event.hpp"
#include "core/filter.hpp"
#include "core/publish.hpp"
#include "core/string_hash.hpp"
#include "feed/hub.hpp"
#include "store/store.hpp"

namespace eventfeed::feed {

namespace net = boost::asio;

struct poll_request {
  // One, or several sharing a {tag} (one position sequence, so one cursor follows them all);
  // streams with different tags are refused with errc::bad_request.
  std::vector<std::string> streams;
  core::cursor from;
  core::event_filter filter;
  std::size_t limit = 100;  // most events in one answer
  std::chrono::milliseconds timeout{30'000};
  std::optional<std::string> key;  // a newer poll with the same key supersedes this one
  // Called each time the poll is about to wait in the hub, never when it answers at once, with
  // a function that cancels that wait (any thread may call it, any number of times, also after
  // the wait is over). A dialect starts watching the client's connection here and cancels the
  // wait if the client leaves; a poll answered from the store costs no watch.
  std::function<void(std::function<void()> cancel)> on_wait;
};

struct poll_result {
  std::vector<core::event_ptr> events;  // accepted by the filter, in position order
  core::position next = 0;  // the cursor to resume from: everything up to it has been seen
  // Events after the cursor were trimmed by retention before this poll could deliver them
  // (never for the first read of an `oldest` cursor, which starts at the oldest by definition).
  bool gap = false;
  // Why the poll ended: `events` (there are events), or the reason of an empty answer:
  // `timeout` (the deadline passed, or the poll had none), `scan_limit` (the poll scanned its
  // cap of events the filter refused and stopped early: `next` has moved on, poll again at
  // once), `superseded`, `shutdown`, `cancelled`.
  wake_reason reason = wake_reason::events;
};

// A check of one event about to be published on a stream a dialect serves: nullopt when the
// event is fit for the dialect's clients, else what is wrong, naming the field ("'tip.tokens'
// must be a positive integer"). Called on the publisher's I/O thread, before the store.
using publish_check = std::function<std::optional<std::string>(const core::new_event&)>;

class engine {
 public:
  engine(store::store& store, const core::clock& clock, std::size_t hub_shards = 64);

  // Refuses the whole batch with errc::bad_request if a publish check of one of its streams
  // fails for one event (see guard_streams); otherwise appends it.
  net::awaitable<core::result<std::vector<core::event_ptr>>> async_publish(
      std::vector<core::new_event> events);

  // Every event published on one of `streams` must pass `check` (and the checks other owners
  // set on that stream). Replaces all the checks `owner` (a dialect's name) set before, so a
  // dialect that reloads its streams calls it again with the new set. Thread-safe; publishes
  // see either the old set or the new one.
  void guard_streams(const std::string& owner, const std::vector<std::string>& streams,
                     std::shared_ptr<const publish_check> check);

  // `request` is taken by reference, so that the parked poll's coroutine frame holds a pointer
  // rather than a copy (every parked poll pays for its frame): it must live until the poll has
  // answered, as it does in `co_await engine.async_poll(std::move(req))`. The engine may reorder
  // and de-duplicate its `streams`.
  net::awaitable<core::result<poll_result>> async_poll(poll_request&& request);

  net::awaitable<core::result<store::stream_info>> async_info(std::string stream);

  // Expires due deadlines and applies age retention. Called by the server's ticker.
  void tick();

  // Answers every parked poll (reason `shutdown`) and refuses new parks; polls that find events
  // still answer them.
  void shutdown();

  // Answers the poll parked with `key` (poll_request::key), if any, as a newer poll with that
  // key would (reason `superseded`): a deleted queue's parked poll ends at once. Whether one
  // was parked.
  bool end_wait(std::string_view key) { return hub_.claim_key(key, wake_reason::superseded); }

  std::size_t waiters(std::string_view stream) const { return hub_.waiters(stream); }
  std::size_t total_waiters() const noexcept { return hub_.total_waiters(); }
  hub& waiter_hub() noexcept { return hub_; }
  store::store& backing_store() noexcept { return store_; }

 private:
  // stream -> (owner, check) of every check on it; immutable once published.
  using guard_table =
      std::unordered_map<std::string,
                         std::vector<std::pair<std::string, std::shared_ptr<const publish_check>>>,
                         core::string_hash, std::equal_to<>>;
  // The first failed check of `events`, as the error to answer.
  std::optional<core::error> check_publish(const std::vector<core::new_event>& events) const;
  static net::awaitable<core::result<std::vector<core::event_ptr>>> refuse_publish(
      core::error error);
  net::awaitable<core::result<std::vector<core::event_ptr>>> append(
      std::vector<core::new_event> events);

  struct scan {
    std::vector<core::event_ptr> events;
    core::position scanned_to = 0;
    bool gap = false;
    bool complete = true;  // false: stopped at the scan cap with more stored after scanned_to
  };
  net::awaitable<core::result<store::read_result>> read_one(const std::string& stream,
                                                            core::position after,
                                                            std::size_t limit);
  net::awaitable<core::result<scan>> read_matching(const poll_request& request,
                                                   core::position after);
  // async_poll's coroutine, once its streams are checked, and the answer to a refused poll.
  net::awaitable<core::result<poll_result>> run_poll(poll_request& request);
  static net::awaitable<core::result<poll_result>> refuse_poll(core::error error);
  // The helpers below exist for the size of run_poll's frame, which every parked poll holds:
  // what they await (a scan, each stream's info) lives in their own short-lived frames, and
  // run_poll keeps only the awaitable<void> or the small result it gets back.
  net::awaitable<void> read_matching_into(const poll_request& request, core::position after,
                                          core::result<scan>& out);
  net::awaitable<core::result<core::position>> highest_head(
      const std::vector<std::string>& streams);
  // Where a `latest` cursor starts: the position just below the oldest of the newest `count`
  // events of the streams together (the highest head when they have none).
  net::awaitable<core::result<core::position>> before_latest(
      const std::vector<std::string>& streams, std::size_t count);
  net::awaitable<core::result<store::read_result>> read_last(const std::string& stream,
                                                             std::size_t count);
  // read_matching's answer when it needs no waiting: one stream, in the store's memory, one
  // chunk. Fills `out` and returns true, or returns false (call read_matching; `out` may have
  // been written). An out-parameter rather than an optional: the caller is the poll coroutine,
  // whose frame every parked poll holds, and a returned temporary would take room in it.
  bool try_scan(const poll_request& request, core::position after, scan& out);
  static bool consume(scan& out, const std::vector<core::event_ptr>& merged, core::position cut,
                      const poll_request& request, std::size_t& scanned);

  store::store& store_;
  const core::clock& clock_;
  hub hub_;
  std::mutex guards_mutex_;  // serialises guard_streams (readers only load guards_)
  std::atomic<std::shared_ptr<const guard_table>> guards_{std::make_shared<const guard_table>()};
  // Whether any stream is guarded: a publish on a server without checks does not touch guards_
  // (whose load takes a lock inside the atomic shared_ptr).
  std::atomic<bool> guarded_{false};
};

}  // namespace eventfeed::feed
