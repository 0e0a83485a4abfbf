#include "feed/feed.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <limits>
#include <optional>

#include "core/stream_name.hpp"
#include "feed/await_store.hpp"

namespace eventfeed::feed {

namespace {

// How many events one poll may scan past (filtered out) before it answers with what it has;
// bounds the work of a poll with a narrow filter over a busy stream.
constexpr std::size_t max_scan_per_poll = 10'000;

// Why a poll that answers without waiting (again) ends: events, the scan cap, or its deadline.
wake_reason end_reason(const std::vector<core::event_ptr>& events, bool complete) {
  if (!events.empty()) return wake_reason::events;
  return complete ? wake_reason::timeout : wake_reason::scan_limit;
}

// Sorts and de-duplicates a poll's streams (a stream named twice would be read twice and parked
// on twice) and checks that they share one {tag}: only streams of one tag share a position
// sequence, so only they can be followed with one cursor (the Redis backend keeps one sequence
// per tag). Returns the error to answer, if any.
std::optional<core::error> normalize_streams(std::vector<std::string>& streams) {
  if (streams.empty()) return core::error{core::errc::bad_request, "no stream to poll"};
  std::sort(streams.begin(), streams.end());
  streams.erase(std::unique(streams.begin(), streams.end()), streams.end());
  const std::string_view tag = core::stream_tag(streams.front());
  for (const auto& s : streams) {
    if (core::stream_tag(s) != tag)
      return core::error{core::errc::bad_request,
                         "streams polled together must share a {tag} (one position sequence): '" +
                             streams.front() + "' and '" + s + "' do not"};
  }
  return std::nullopt;
}

}  // namespace

engine::engine(store::store& store, const core::clock& clock, std::size_t hub_shards)
    : store_(store), clock_(clock), hub_(hub_shards) {}

// Not a coroutine when nothing guards the streams: the common publish checks nothing and goes
// straight to the store.
net::awaitable<core::result<std::vector<core::event_ptr>>> engine::async_publish(
    std::vector<core::new_event> events) {
  if (auto refused = check_publish(events)) return refuse_publish(std::move(*refused));
  return append(std::move(events));
}

net::awaitable<core::result<std::vector<core::event_ptr>>> engine::refuse_publish(
    core::error error) {
  co_return error;
}

net::awaitable<core::result<std::vector<core::event_ptr>>> engine::append(
    std::vector<core::new_event> events) {
  co_return co_await await_store<core::result<std::vector<core::event_ptr>>>([&](auto done) {
    store_.append(std::move(events), [this, done](core::result<std::vector<core::event_ptr>> r) {
      if (r) hub_.notify(*r);  // waiters learn of the events before the publisher
      done(std::move(r));
    });
  });
}

std::optional<core::error> engine::check_publish(const std::vector<core::new_event>& events) const {
  if (!guarded_.load(std::memory_order_acquire)) return std::nullopt;
  const auto guards = guards_.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < events.size(); ++i) {
    auto it = guards->find(events[i].stream);
    if (it == guards->end()) continue;
    for (const auto& [owner, check] : it->second) {
      if (auto problem = (*check)(events[i]))
        return core::error{core::errc::bad_request,
                           (events.size() > 1 ? "events[" + std::to_string(i) + "]: " : "") +
                               "a '" + events[i].type + "' event on stream '" + events[i].stream +
                               "' (served by the " + owner + " dialect): " + *problem};
    }
  }
  return std::nullopt;
}

void engine::guard_streams(const std::string& owner, const std::vector<std::string>& streams,
                           std::shared_ptr<const publish_check> check) {
  std::lock_guard lock(guards_mutex_);
  auto next = std::make_shared<guard_table>(*guards_.load(std::memory_order_acquire));
  for (auto it = next->begin(); it != next->end();) {
    std::erase_if(it->second, [&](const auto& entry) { return entry.first == owner; });
    it = it->second.empty() ? next->erase(it) : std::next(it);
  }
  for (const auto& stream : streams) (*next)[stream].emplace_back(owner, check);
  const bool any = !next->empty();
  guards_.store(std::move(next), std::memory_order_release);
  guarded_.store(any, std::memory_order_release);
}

net::awaitable<core::result<store::read_result>> engine::read_one(const std::string& stream,
                                                                  core::position after,
                                                                  std::size_t limit) {
  if (auto fast = store_.try_read(stream, after, limit)) co_return std::move(*fast);
  co_return co_await await_store<core::result<store::read_result>>(
      [&](auto done) { store_.read(stream, after, limit, std::move(done)); });
}

// Moves `out.scanned_to` over `merged` (sorted by position) up to `cut`, keeping what the filter
// accepts; true once `limit` events are kept.
bool engine::consume(scan& out, const std::vector<core::event_ptr>& merged, core::position cut,
                     const poll_request& request, std::size_t& scanned) {
  for (const auto& ev : merged) {
    if (ev->pos > cut) break;
    out.scanned_to = ev->pos;
    ++scanned;
    if (request.filter.accepts(*ev)) {
      out.events.push_back(ev);
      if (out.events.size() >= request.limit) return true;
    }
  }
  return false;
}

bool engine::try_scan(const poll_request& request, core::position after, scan& out) {
  // The common case, answered without a coroutine: one stream, read from the store's memory,
  // in one chunk. Anything else takes read_matching.
  if (request.streams.size() != 1) return false;
  const std::size_t chunk = std::max<std::size_t>(request.limit, 1);
  auto r = store_.try_read(request.streams.front(), after, chunk);
  if (!r || !*r) return false;  // not in memory, or an error read_matching will report
  out = scan{};
  out.scanned_to = after;
  out.gap = (*r)->gap;
  auto& events = (*r)->events;
  if (request.filter.accepts_all() && events.size() < chunk) {
    // Everything read is kept (no filter, under the limit): take the read's vector as it is,
    // without copying each event pointer.
    if (!events.empty()) out.scanned_to = events.back()->pos;
    out.events = std::move(events);
    return true;
  }
  std::size_t scanned = 0;
  const bool full =
      consume(out, events, std::numeric_limits<core::position>::max(), request, scanned);
  // A full chunk may have more after it: only answer here if the answer is complete anyway.
  if (!full && events.size() >= chunk) return false;
  return true;
}

net::awaitable<core::result<engine::scan>> engine::read_matching(const poll_request& request,
                                                                 core::position after) {
  scan out;
  out.scanned_to = after;
  const std::size_t chunk = std::max<std::size_t>(request.limit, 1);
  std::size_t scanned = 0;
  std::vector<core::event_ptr> merged;
  for (;;) {
    // Read one chunk of every stream; a stream that filled its chunk may have more, so only
    // positions up to the smallest "last position" of such streams are complete.
    merged.clear();
    core::position cut = std::numeric_limits<core::position>::max();
    if (request.streams.size() > 1) {
      // The streams are read one after another, not as one snapshot: an append landing
      // between two reads can give a stream already read an event below one seen in a stream
      // read later, and `scanned_to` would pass it for good. Only positions up to the highest
      // head known *before* the reads are complete in every stream (a store makes a position
      // visible only with every lower one of its sequence); later ones wait for the next read.
      core::position known = 0;
      for (const auto& stream : request.streams) {
        auto info = co_await async_info(stream);
        if (!info) co_return std::move(info).err();
        known = std::max(known, info->head);
      }
      cut = known;
    }
    bool truncated = false;
    for (const auto& stream : request.streams) {
      auto r = co_await read_one(stream, out.scanned_to, chunk);
      if (!r) co_return std::move(r).err();
      // Any chunk may report one: retention can trim past `scanned_to` between two reads.
      if (r->gap) out.gap = true;
      if (r->events.size() >= chunk) {
        truncated = true;
        cut = std::min(cut, r->events.back()->pos);
      }
      merged.insert(merged.end(), r->events.begin(), r->events.end());
    }
    if (request.streams.size() > 1) {
      std::sort(merged.begin(), merged.end(),
                [](const core::event_ptr& a, const core::event_ptr& b) { return a->pos < b->pos; });
    }
    if (consume(out, merged, cut, request, scanned)) co_return out;
    if (!truncated) co_return out;
    if (scanned >= max_scan_per_poll) {
      out.complete = false;  // more is stored after scanned_to: the poll must not park
      co_return out;
    }
  }
}

net::awaitable<void> engine::read_matching_into(const poll_request& request, core::position after,
                                                core::result<scan>& out) {
  out = co_await read_matching(request, after);
}

net::awaitable<core::result<core::position>> engine::highest_head(
    const std::vector<std::string>& streams) {
  core::position head = 0;
  for (const auto& stream : streams) {
    auto info = co_await async_info(stream);
    if (!info) co_return std::move(info).err();
    head = std::max(head, info->head);
  }
  co_return head;
}

net::awaitable<core::result<core::position>> engine::before_latest(
    const std::vector<std::string>& streams, std::size_t count) {
  // The newest `count` of each stream, then the newest `count` of them all: reading after the
  // position just below the oldest of those gives exactly them (and what came since).
  std::vector<core::position> newest;
  for (const auto& stream : streams) {
    auto r = co_await read_last(stream, count);
    if (!r) co_return std::move(r).err();
    for (const auto& ev : r->events) newest.push_back(ev->pos);
  }
  if (count == 0 || newest.empty()) co_return co_await highest_head(streams);
  std::sort(newest.begin(), newest.end());
  if (newest.size() > count)
    newest.erase(newest.begin(), newest.end() - static_cast<std::ptrdiff_t>(count));
  co_return newest.front() - 1;
}

net::awaitable<core::result<store::read_result>> engine::read_last(const std::string& stream,
                                                                   std::size_t count) {
  if (auto fast = store_.try_read_last(stream, count)) co_return std::move(*fast);
  co_return co_await await_store<core::result<store::read_result>>(
      [&](auto done) { store_.read_last(stream, count, std::move(done)); });
}

net::awaitable<core::result<poll_result>> engine::refuse_poll(core::error error) {
  co_return error;
}

// Not a coroutine: the streams are checked before the poll's frame exists, so nothing of the
// check (an optional error) takes room in the frame every parked poll holds.
net::awaitable<core::result<poll_result>> engine::async_poll(poll_request&& request) {
  if (auto refused = normalize_streams(request.streams)) return refuse_poll(std::move(*refused));
  return run_poll(request);
}

net::awaitable<core::result<poll_result>> engine::run_poll(poll_request& request) {
  poll_result res;
  core::position after = request.from.pos;
  // Without a cursor the first read starts quietly at the oldest retained event. Every other
  // read starts at a position the client has (or this poll has) seen, so a gap there means
  // events were trimmed before they could be delivered: reported, whenever it is found.
  // The newest events are a start the server picked too.
  const bool quiet_first_gap = request.from.from == core::cursor::kind::oldest ||
                               request.from.from == core::cursor::kind::latest;
  if (request.from.from == core::cursor::kind::oldest) after = 0;
  if (request.from.from == core::cursor::kind::now ||
      request.from.from == core::cursor::kind::latest) {
    // One local for both: every parked poll holds this frame. (Not `?:` with a co_await in
    // it: GCC 12 miscompiles that in coroutines.)
    core::result<core::position> start = core::position{0};
    if (request.from.from == core::cursor::kind::now)
      start = co_await highest_head(request.streams);
    else
      start = co_await before_latest(request.streams, request.from.pos);
    if (!start) co_return std::move(start).err();
    after = *start;
  }

  const auto deadline = clock_.steady_now() + request.timeout;
  bool first = true;
  for (;;) {
    // Reads go through try_scan first: a coroutine call (and its frame) only when the store
    // must be awaited or the read is not a simple one. (Not written as `?:` with a co_await
    // in it: GCC 12 miscompiles that in coroutines.)
    core::result<scan> found = scan{};
    if (!try_scan(request, after, *found)) co_await read_matching_into(request, after, found);
    if (!found) co_return std::move(found).err();
    if (found->gap && !(first && quiet_first_gap)) res.gap = true;
    first = false;
    after = found->scanned_to;
    // An incomplete scan (the per-poll cap) answers now, empty, with `next` moved on: parking
    // would leave stored events unread until the next publish or the deadline.
    if (!found->events.empty() || !found->complete || request.timeout.count() <= 0 ||
        clock_.steady_now() >= deadline) {
      res.events = std::move(found->events);
      res.reason = end_reason(res.events, found->complete);
      res.next = after;
      co_return res;
    }

    auto w = std::make_shared<waiter>(request.streams, request.filter, deadline, request.key);
    hub_.park(w);
    // The read that closes the race with a publish that committed before park().
    if (!try_scan(request, after, *found)) co_await read_matching_into(request, after, found);
    if (!found || !found->events.empty() || !found->complete) hub_.claim(w, wake_reason::cancelled);
    if (!found) co_return std::move(found).err();
    if (found->gap) res.gap = true;
    after = found->scanned_to;
    if (!found->events.empty() || !found->complete) {
      res.events = std::move(found->events);
      res.reason = end_reason(res.events, found->complete);
      res.next = after;
      co_return res;
    }

    if (request.on_wait) request.on_wait([this, w] { hub_.claim(w, wake_reason::cancelled); });
    const wake_reason reason = co_await hub_.async_wait(w, net::use_awaitable);
    // After a timeout the loop reads once more and answers (the deadline has passed: the hub
    // times a poll out only once the clock reaches its deadline). That read moves `next` past
    // the events the filter refused while the poll waited (the hub wakes a poll only for an
    // event it accepts), so a client resuming from `next` does not scan them again; and it
    // catches an event that committed as the deadline passed.
    if (reason == wake_reason::events || reason == wake_reason::timeout) continue;
    res.reason = reason;
    res.next = after;
    co_return res;
  }
}

net::awaitable<core::result<store::stream_info>> engine::async_info(std::string stream) {
  if (auto fast = store_.try_info(stream)) co_return std::move(*fast);
  co_return co_await await_store<core::result<store::stream_info>>(
      [&](auto done) { store_.info(std::move(stream), std::move(done)); });
}

void engine::tick() {
  hub_.expire(clock_.steady_now());
  store_.trim_expired();
}

void engine::shutdown() {
  hub_.shutdown();
}

}  // namespace eventfeed::feed
