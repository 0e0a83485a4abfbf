// store/sqlite/writer.cpp: the writer side of sqlite_store: the job queue, the writer thread,
// commit groups, and retention.
//
// The writer thread takes everything queued (up to max_group_events events) as one group and
// runs it in one transaction (group_run). Invariants:
// - Shared state (heads, tails, records, the sequence) moves only after COMMIT succeeded, under
//   the state lock, and before any callback of the group runs: a publisher never learns of a
//   position that a read could not yet see.
// - On any error the transaction rolls back and every write of the group is answered with the
//   error; the shared state is untouched, so the next group starts from what was committed.
// - Only this thread writes `records_` and the stream states, so it reads them without the
//   lock; the I/O threads read them under the shared lock.
// - A trim step (age retention) runs before the group's writes, as a transaction of its own:
//   work queued after a trim_expired() call is acknowledged only after that step committed.
#include <sqlite3.h>

#include <algorithm>
#include <map>

#include "store/sqlite/sql.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace eventfeed::store::sqlite {

void sqlite_store::enqueue(job j) {
  {
    std::lock_guard lock(queue_mutex_);
    if (!stop_writer_) {
      queue_.push_back(std::move(j));
      queue_cv_.notify_one();
      return;
    }
  }
  // The writer has stopped (close() raced this call): fail the job rather than lose it.
  const core::error closed{core::errc::shutting_down, "the store is closed"};
  if (auto* a = std::get_if<append_job>(&j)) a->done(closed);
  if (auto* r = std::get_if<record_job>(&j)) {
    if (r->expected)
      r->swapped(closed);
    else
      r->done(closed);
  }
}

void sqlite_store::append(std::vector<core::new_event> events, append_callback done) {
  enqueue(append_job{std::move(events), std::move(done)});
}

void sqlite_store::put_record(std::string kind, std::string key, std::string value,
                              done_callback done) {
  record_job j;
  j.kind = std::move(kind);
  j.key = std::move(key);
  j.value = std::move(value);
  j.done = std::move(done);
  enqueue(std::move(j));
}

void sqlite_store::erase_record(std::string kind, std::string key, done_callback done) {
  record_job j;
  j.kind = std::move(kind);
  j.key = std::move(key);
  j.done = std::move(done);
  enqueue(std::move(j));
}

void sqlite_store::swap_record(std::string kind, std::string key,
                               std::optional<std::string> expected,
                               std::optional<std::string> value, std::int64_t expires_at_ms,
                               swap_callback done) {
  record_job j;
  j.kind = std::move(kind);
  j.key = std::move(key);
  j.value = std::move(value);
  j.expected = std::move(expected);
  j.swapped = std::move(done);
  j.expires_ms = expires_at_ms;
  enqueue(std::move(j));
}

void sqlite_store::trim_expired() {
  // Called every few tens of milliseconds; one age-retention step per second is plenty.
  const std::int64_t now = clock_->wall_ms();
  std::int64_t last = last_trim_ms_.load();
  if (now - last < 1000 || !last_trim_ms_.compare_exchange_strong(last, now)) return;
  enqueue(trim_job{});
}

// The writer's prepared statements, reused by every group.
struct sqlite_store::writer_statements {
  explicit writer_statements(sqlite3* db)
      : insert_event(db,
                     "INSERT INTO events(stream_id, pos, time_ms, type, data) VALUES (?,?,?,?,?)"),
        insert_stream(db, "INSERT INTO streams(name, head) VALUES (?, 0)"),
        update_stream(db, "UPDATE streams SET head=?, trimmed_through=?, retained=? WHERE id=?"),
        put_record(db,
                   "INSERT OR REPLACE INTO records(kind, key, value, expires_ms) VALUES (?,?,?,?)"),
        erase_record(db, "DELETE FROM records WHERE kind=? AND key=?"),
        nth_pos(db, "SELECT pos FROM events WHERE stream_id=? ORDER BY pos LIMIT 1 OFFSET ?"),
        delete_through(db, "DELETE FROM events WHERE stream_id=? AND pos<=?"),
        first_event(db, "SELECT pos, time_ms FROM events WHERE stream_id=? ORDER BY pos LIMIT 1") {}
  statement insert_event, insert_stream, update_stream, put_record, erase_record, nth_pos,
      delete_through, first_event;
};

void sqlite_store::writer_loop() {
  writer_statements ws(writer_db_);
  std::vector<job> group;
  for (;;) {
    {
      std::unique_lock lock(queue_mutex_);
      queue_cv_.wait(lock, [this] { return stop_writer_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is done
      // Take a group: everything queued, up to max_group_events events.
      std::size_t events = 0;
      while (!queue_.empty()) {
        auto& next = queue_.front();
        if (auto* a = std::get_if<append_job>(&next)) {
          if (events > 0 && events + a->events.size() > opts_.max_group_events) break;
          events += a->events.size();
        }
        group.push_back(std::move(next));
        queue_.pop_front();
      }
    }
    run_group(group, ws);
    group.clear();
  }
}

// One commit group's writes in one transaction. What the transaction changes is staged here and
// reaches the store's shared state only in publish(), after COMMIT.
class sqlite_store::group_run {
 public:
  group_run(sqlite_store& store, writer_statements& ws, std::vector<job>& writes)
      : store_(store),
        ws_(ws),
        writes_(writes),
        results_(writes.size()),
        swapped_(writes.size(), false),
        now_(store.clock_->wall_ms()) {
    std::shared_lock lock(store.state_mutex_);
    seq_ = store.sequence_;
  }

  // Runs every write, count retention and the heads in one transaction and commits it. On
  // failure: the message for the clients, computed before the rollback can change SQLite's.
  std::optional<std::string> execute() {
    transaction txn(store_.writer_db_);
    int rc = txn.begun();
    for (std::size_t i = 0; i < writes_.size() && rc == SQLITE_OK; ++i) {
      if (auto* a = std::get_if<append_job>(&writes_[i]))
        rc = append(i, *a);
      else if (auto* r = std::get_if<record_job>(&writes_[i]))
        rc = write_record(i, *r);
    }
    if (rc == SQLITE_OK) rc = apply_count_retention();
    if (rc == SQLITE_OK) rc = write_heads();
    if (rc == SQLITE_OK) rc = txn.commit();
    if (rc == SQLITE_OK) return std::nullopt;
    return write_error_message(store_.writer_db_, rc);
  }

  // After COMMIT: the shared state moves, then every write is answered.
  void publish() {
    {
      std::unique_lock lock(store_.state_mutex_);
      store_.sequence_ = seq_;
      for (auto& [name, t] : changes_) apply(name, t);
      for (auto& [key, rec] : staged_) {
        if (rec)
          store_.records_[key] = std::move(*rec);
        else
          store_.records_.erase(key);
      }
    }
    for (std::size_t i = 0; i < writes_.size(); ++i) {
      if (auto* a = std::get_if<append_job>(&writes_[i]))
        a->done(std::move(results_[i]));
      else if (auto* r = std::get_if<record_job>(&writes_[i]); r && r->expected)
        r->swapped(static_cast<bool>(swapped_[i]));
      else if (r)
        r->done(std::nullopt);
    }
  }

  // After a failure: every write is answered with it; the shared state is untouched.
  void fail(const std::string& message) {
    const core::error err{core::errc::unavailable, message};
    for (auto& w : writes_) {
      if (auto* a = std::get_if<append_job>(&w))
        a->done(err);
      else if (auto* r = std::get_if<record_job>(&w); r && r->expected)
        r->swapped(err);
      else if (r)
        r->done(err);
    }
  }

 private:
  // A stream as this transaction leaves it.
  struct touched {
    std::int64_t id = 0;
    core::position head = 0, trimmed_through = 0, oldest = 0;
    std::int64_t oldest_time_ms = 0;
    std::size_t retained = 0;
    std::vector<core::event_ptr> added;
  };

  // The stream's staged state, created from the committed one (or a new row) on first use.
  touched* stream_for(const std::string& name, int& rc) {
    if (auto it = changes_.find(name); it != changes_.end()) return &it->second;
    touched t;
    {
      std::shared_lock lock(store_.state_mutex_);
      if (auto s = store_.streams_.find(name); s != store_.streams_.end()) {
        t.id = s->second.id;
        t.head = s->second.head;
        t.trimmed_through = s->second.trimmed_through;
        t.oldest = s->second.oldest;
        t.oldest_time_ms = s->second.oldest_time_ms;
        t.retained = s->second.retained;
      }
    }
    if (t.id == 0) {
      if ((rc = ws_.insert_stream.bind(1, name).run()) != SQLITE_OK) return nullptr;
      t.id = sqlite3_last_insert_rowid(store_.writer_db_);
    }
    return &changes_.emplace(name, std::move(t)).first->second;
  }

  int append(std::size_t i, append_job& a) {
    int rc = SQLITE_OK;
    for (auto& ne : a.events) {
      touched* t = stream_for(ne.stream, rc);
      if (!t) return rc;
      auto ev = std::make_shared<core::event>();
      ev->pos = ++seq_;
      ev->time_ms = now_;
      ev->type = std::move(ne.type);
      ev->data = std::move(ne.data);
      ev->stream = std::move(ne.stream);
      rc = ws_.insert_event.bind(1, t->id)
               .bind(2, static_cast<std::int64_t>(ev->pos))
               .bind(3, ev->time_ms)
               .bind(4, ev->type)
               .bind(5, ev->data)
               .run();
      if (rc != SQLITE_OK) return rc;
      t->head = ev->pos;
      if (t->retained == 0) {
        t->oldest = ev->pos;
        t->oldest_time_ms = ev->time_ms;
      }
      ++t->retained;
      t->added.push_back(ev);
      results_[i].push_back(std::move(ev));
    }
    return rc;
  }

  // A put, erase or compare-and-set; a compare-and-set sees this group's earlier writes.
  int write_record(std::size_t i, record_job& r) {
    auto key = std::pair{r.kind, r.key};
    if (r.expected) {
      std::optional<std::string> current;
      if (auto st = staged_.find(key); st != staged_.end()) {
        if (st->second && st->second->live(now_)) current = st->second->value;
      } else if (auto it = store_.records_.find(key);
                 it != store_.records_.end() && it->second.live(now_)) {
        current = it->second.value;
      }
      if (current != *r.expected) return SQLITE_OK;  // someone else's value: nothing written
      swapped_[i] = true;
    }
    const int rc = r.value ? ws_.put_record.bind(1, r.kind)
                                 .bind(2, r.key)
                                 .bind(3, *r.value)
                                 .bind(4, r.expires_ms)
                                 .run()
                           : ws_.erase_record.bind(1, r.kind).bind(2, r.key).run();
    staged_[std::move(key)] =
        r.value ? std::optional<record>(record{*r.value, r.expires_ms}) : std::nullopt;
    return rc;
  }

  // Retention by count, for the streams this group grew past their limit.
  int apply_count_retention() {
    for (auto& [name, t] : changes_) {
      const auto max_events = store_.opts_.retention.for_stream(name).max_events;
      if (t.retained <= max_events) continue;
      const auto excess = t.retained - max_events;
      ws_.nth_pos.bind(1, t.id).bind(2, static_cast<std::int64_t>(excess - 1));
      const int step = ws_.nth_pos.step();
      const core::position cutoff =
          step == SQLITE_ROW ? static_cast<core::position>(ws_.nth_pos.int64(0)) : 0;
      ws_.nth_pos.reset();
      if (step != SQLITE_ROW) return step;
      if (const int rc =
              ws_.delete_through.bind(1, t.id).bind(2, static_cast<std::int64_t>(cutoff)).run();
          rc != SQLITE_OK)
        return rc;
      t.trimmed_through = std::max(t.trimmed_through, cutoff);
      t.retained = max_events;
      ws_.first_event.bind(1, t.id);
      if (ws_.first_event.step() == SQLITE_ROW) {
        t.oldest = static_cast<core::position>(ws_.first_event.int64(0));
        t.oldest_time_ms = ws_.first_event.int64(1);
      }
      ws_.first_event.reset();
    }
    return SQLITE_OK;
  }

  int write_heads() {
    for (auto& [name, t] : changes_) {
      const int rc = ws_.update_stream.bind(1, static_cast<std::int64_t>(t.head))
                         .bind(2, static_cast<std::int64_t>(t.trimmed_through))
                         .bind(3, static_cast<std::int64_t>(t.retained))
                         .bind(4, t.id)
                         .run();
      if (rc != SQLITE_OK) return rc;
    }
    return SQLITE_OK;
  }

  // One stream's committed change into the shared state (under the state lock).
  void apply(const std::string& name, touched& t) {
    auto it = store_.streams_.find(name);
    if (it == store_.streams_.end()) {
      it = store_.streams_.emplace(name, stream_state{}).first;
      it->second.id = t.id;
    }
    stream_state& st = it->second;
    st.head = t.head;
    st.trimmed_through = t.trimmed_through;
    st.oldest = t.oldest;
    st.oldest_time_ms = t.oldest_time_ms;
    st.retained = t.retained;
    for (auto& ev : t.added) st.tail.push_back(std::move(ev));
    // Keep the tail within bounds and inside retention.
    while (!st.tail.empty() && (st.tail.size() > store_.opts_.tail_events ||
                                st.tail.front()->pos <= st.trimmed_through)) {
      st.tail_complete_after = st.tail.front()->pos;
      st.tail.pop_front();
    }
  }

  sqlite_store& store_;
  writer_statements& ws_;
  std::vector<job>& writes_;
  std::unordered_map<std::string, touched, core::string_hash, std::equal_to<>> changes_;
  std::vector<std::vector<core::event_ptr>> results_;
  // Record writes of this group in order; nullopt: erased. swapped_[i]: swap i wrote.
  std::map<std::pair<std::string, std::string>, std::optional<record>, std::less<>> staged_;
  std::vector<bool> swapped_;
  core::position seq_ = 0;
  const std::int64_t now_;
};

void sqlite_store::run_group(std::vector<job>& group, writer_statements& ws) {
  std::vector<job> writes;
  bool trim = false;
  for (auto& j : group) {
    if (std::holds_alternative<trim_job>(j))
      trim = true;
    else
      writes.push_back(std::move(j));
  }
  if (trim) {
    remove_expired_records();
    run_trim_step();
  }
  if (writes.empty()) return;
  group_run run(*this, ws, writes);
  if (auto failed = run.execute())
    run.fail(*failed);
  else
    run.publish();
}

// Expired records are already absent from reads (records_ is filtered by time); this removes
// them from the file and the mirror, in a transaction of its own.
void sqlite_store::remove_expired_records() {
  const std::int64_t now = clock_->wall_ms();
  bool any = false;
  for (const auto& [key, rec] : records_) any = any || !rec.live(now);
  if (!any) return;
  statement del(writer_db_, "DELETE FROM records WHERE expires_ms>0 AND expires_ms<=?");
  if (del.bind(1, now).run() != SQLITE_OK) return;  // tried again at the next step
  std::unique_lock lock(state_mutex_);
  std::erase_if(records_, [now](const auto& r) { return !r.second.live(now); });
}

void sqlite_store::run_trim_step() {
  // A bounded step of age retention: at most `max_streams` streams, `max_rows` rows each.
  constexpr std::size_t max_streams = 256;
  constexpr std::int64_t max_rows = 2000;
  const std::int64_t now = clock_->wall_ms();

  struct due {
    std::string name;
    std::int64_t id;
    std::int64_t cutoff_ms;
  };
  std::vector<due> candidates;
  {
    std::shared_lock lock(state_mutex_);
    if (streams_.empty()) return;
    std::size_t index = 0;
    for (const auto& [name, st] : streams_) {
      if (index++ < trim_cursor_ % streams_.size()) continue;
      const auto max_age = opts_.retention.for_stream(name).max_age.count();
      if (st.retained > 0 && now - st.oldest_time_ms > max_age)
        candidates.push_back({name, st.id, now - max_age});
      if (candidates.size() >= max_streams) break;
    }
    trim_cursor_ = candidates.size() >= max_streams ? trim_cursor_ + index : 0;
  }
  if (candidates.empty()) return;

  statement last_due(writer_db_,
                     "SELECT max(pos), count(*) FROM (SELECT pos FROM events WHERE stream_id=? AND "
                     "time_ms<? ORDER BY pos LIMIT ?)");
  statement del(writer_db_, "DELETE FROM events WHERE stream_id=? AND pos<=?");
  statement first(writer_db_,
                  "SELECT pos, time_ms FROM events WHERE stream_id=? ORDER BY pos LIMIT 1");
  statement update(writer_db_,
                   "UPDATE streams SET trimmed_through=max(trimmed_through, ?), "
                   "retained=max(retained-?, 0) WHERE id=?");
  struct trimmed {
    std::string name;
    core::position through;
    std::size_t removed;
    core::position oldest;
    std::int64_t oldest_time_ms;
  };
  std::vector<trimmed> done;
  transaction txn(writer_db_);
  if (txn.begun() != SQLITE_OK) return;  // retried at the next step
  for (const auto& c : candidates) {
    last_due.bind(1, c.id).bind(2, c.cutoff_ms).bind(3, max_rows);
    if (last_due.step() != SQLITE_ROW) {
      last_due.reset();
      continue;
    }
    const auto through = static_cast<core::position>(last_due.int64(0));
    const auto removed = static_cast<std::size_t>(last_due.int64(1));
    last_due.reset();
    if (removed == 0) continue;
    if (del.bind(1, c.id).bind(2, static_cast<std::int64_t>(through)).run() != SQLITE_OK ||
        update.bind(1, static_cast<std::int64_t>(through))
                .bind(2, static_cast<std::int64_t>(removed))
                .bind(3, c.id)
                .run() != SQLITE_OK)
      return;  // rolled back; retried at the next step
    trimmed t{c.name, through, removed, 0, 0};
    first.bind(1, c.id);
    if (first.step() == SQLITE_ROW) {
      t.oldest = static_cast<core::position>(first.int64(0));
      t.oldest_time_ms = first.int64(1);
    }
    first.reset();
    done.push_back(std::move(t));
  }
  if (txn.commit() != SQLITE_OK) return;  // rolled back; retried at the next step
  std::unique_lock lock(state_mutex_);
  for (auto& t : done) {
    auto it = streams_.find(t.name);
    if (it == streams_.end()) continue;
    auto& st = it->second;
    st.trimmed_through = std::max(st.trimmed_through, t.through);
    st.retained = st.retained > t.removed ? st.retained - t.removed : 0;
    st.oldest = t.oldest;
    st.oldest_time_ms = t.oldest_time_ms;
    while (!st.tail.empty() && st.tail.front()->pos <= st.trimmed_through) {
      st.tail_complete_after = st.tail.front()->pos;
      st.tail.pop_front();
    }
  }
}

}  // namespace eventfeed::store::sqlite
