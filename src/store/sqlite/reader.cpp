// store/sqlite/reader.cpp: the read side of sqlite_store: the in-memory tails, the reader
// threads, stream info and records.
//
// Invariants:
// - A stream's tail holds its newest events, contiguous: every event with a position above
//   `tail_complete_after` is in it, up to the head. A read whose cursor is at or above that
//   point is answered from memory (try_read), under the shared state lock.
// - Other reads go to a reader thread with its own read-only connection (WAL lets it read while
//   the writer writes). Head and gap are taken from the state when the read is queued, before
//   the disk read, so the answer never claims a head older than the events it returns.
// - A read queued after close() is answered errc::shutting_down, never dropped.
#include <sqlite3.h>

#include <algorithm>

#include "store/sqlite/sql.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace eventfeed::store::sqlite {

std::optional<core::result<read_result>> sqlite_store::try_read(std::string_view stream,
                                                                core::position after,
                                                                std::size_t limit) {
  std::shared_lock lock(state_mutex_);
  auto it = streams_.find(stream);
  if (it == streams_.end()) return core::result<read_result>(read_result{});
  const stream_state& st = it->second;
  read_result r;
  r.head = st.head;
  r.gap = after < st.trimmed_through;
  // Served from memory when every event after `after` (or after the trim point, for an older
  // cursor) is in the tail.
  const core::position from = std::max(after, st.trimmed_through);
  if (from < st.tail_complete_after && st.retained > 0 && st.head > from) return std::nullopt;
  auto first =
      std::upper_bound(st.tail.begin(), st.tail.end(), from,
                       [](core::position p, const core::event_ptr& e) { return p < e->pos; });
  const auto n = std::min<std::size_t>(limit, static_cast<std::size_t>(st.tail.end() - first));
  r.events.assign(first, first + static_cast<std::ptrdiff_t>(n));
  return core::result<read_result>(std::move(r));
}

void sqlite_store::read(std::string stream, core::position after, std::size_t limit,
                        read_callback done) {
  if (auto fast = try_read(stream, after, limit)) {
    done(std::move(*fast));
    return;
  }
  enqueue_read(std::move(stream), after, limit, false, std::move(done));
}

std::optional<core::result<read_result>> sqlite_store::try_read_last(std::string_view stream,
                                                                     std::size_t limit) {
  std::shared_lock lock(state_mutex_);
  read_result r;
  auto it = streams_.find(stream);
  if (it == streams_.end()) return core::result<read_result>(std::move(r));
  const stream_state& st = it->second;
  r.head = st.head;
  // The tail holds the newest events: it answers when it has `limit` of them, or all there are.
  if (st.tail.size() < limit && st.tail.size() < st.retained) return std::nullopt;
  const auto n = std::min(limit, st.tail.size());
  r.events.assign(st.tail.end() - static_cast<std::ptrdiff_t>(n), st.tail.end());
  return core::result<read_result>(std::move(r));
}

void sqlite_store::read_last(std::string stream, std::size_t limit, read_callback done) {
  if (auto fast = try_read_last(stream, limit)) {
    done(std::move(*fast));
    return;
  }
  enqueue_read(std::move(stream), 0, limit, true, std::move(done));
}

void sqlite_store::enqueue_read(std::string stream, core::position after, std::size_t limit,
                                bool newest, read_callback done) {
  read_job pending;
  {
    std::shared_lock lock(state_mutex_);
    if (closed_) {
      lock.unlock();
      done(core::error{core::errc::shutting_down, "the store is closed"});
      return;
    }
    auto it = streams_.find(stream);
    if (it == streams_.end()) {
      lock.unlock();
      done(read_result{});
      return;
    }
    pending.stream_id = it->second.id;
    pending.partial.head = it->second.head;
    pending.partial.gap = !newest && after < it->second.trimmed_through;
  }
  pending.stream = std::move(stream);
  pending.after = after;
  pending.limit = limit;
  pending.newest = newest;
  pending.done = std::move(done);
  {
    // Checked under the readers' lock: a read queued after they were told to stop would never
    // be answered.
    std::unique_lock lock(read_mutex_);
    if (stop_readers_) {
      lock.unlock();
      pending.done(core::error{core::errc::shutting_down, "the store is closed"});
      return;
    }
    reads_.push_back(std::move(pending));
  }
  read_cv_.notify_one();
}

void sqlite_store::reader_loop(std::size_t index) {
  sqlite3* db = reader_dbs_[index];
  statement after(db,
                  "SELECT pos, time_ms, type, data FROM events WHERE stream_id=? AND pos>? "
                  "ORDER BY pos LIMIT ?");
  statement newest(db,
                   "SELECT pos, time_ms, type, data FROM events WHERE stream_id=? "
                   "ORDER BY pos DESC LIMIT ?");
  for (;;) {
    read_job pending;
    {
      std::unique_lock lock(read_mutex_);
      read_cv_.wait(lock, [this] { return stop_readers_ || !reads_.empty(); });
      if (reads_.empty()) return;
      pending = std::move(reads_.front());
      reads_.pop_front();
    }
    read_result r = std::move(pending.partial);
    statement& select = pending.newest ? newest : after;
    select.bind(1, pending.stream_id);
    if (pending.newest) {
      select.bind(2, static_cast<std::int64_t>(pending.limit));
    } else {
      select.bind(2, static_cast<std::int64_t>(pending.after))
          .bind(3, static_cast<std::int64_t>(pending.limit));
    }
    int rc;
    while ((rc = select.step()) == SQLITE_ROW) {
      auto ev = std::make_shared<core::event>();
      ev->stream = pending.stream;
      ev->pos = static_cast<core::position>(select.int64(0));
      ev->time_ms = select.int64(1);
      ev->type = select.text(2);
      ev->data = select.text(3);
      r.events.push_back(std::move(ev));
    }
    select.reset();
    if (rc != SQLITE_DONE) {
      pending.done(core::error{core::errc::unavailable,
                               std::string("the store cannot read: ") + sqlite3_errmsg(db)});
      continue;
    }
    if (pending.newest) std::reverse(r.events.begin(), r.events.end());
    pending.done(std::move(r));
  }
}

std::optional<core::result<stream_info>> sqlite_store::try_info(std::string_view stream) {
  std::shared_lock lock(state_mutex_);
  stream_info info;
  if (auto it = streams_.find(stream); it != streams_.end()) {
    info.head = it->second.head;
    info.oldest = it->second.oldest;
    info.retained = it->second.retained;
  }
  return core::result<stream_info>(info);
}

void sqlite_store::info(std::string stream, info_callback done) {
  done(std::move(*try_info(stream)));
}

std::optional<std::string> sqlite_store::get_record(std::string_view kind, std::string_view key) {
  const std::int64_t now = clock_->wall_ms();
  std::shared_lock lock(state_mutex_);
  auto it = records_.find(std::pair{std::string(kind), std::string(key)});
  if (it == records_.end() || !it->second.live(now)) return std::nullopt;
  return it->second.value;
}

std::vector<std::pair<std::string, std::string>> sqlite_store::list_records(std::string_view kind) {
  const std::int64_t now = clock_->wall_ms();
  std::shared_lock lock(state_mutex_);
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = records_.lower_bound(std::pair{std::string(kind), std::string()});
       it != records_.end() && it->first.first == kind; ++it)
    if (it->second.live(now)) out.emplace_back(it->first.second, it->second.value);
  return out;
}

}  // namespace eventfeed::store::sqlite
