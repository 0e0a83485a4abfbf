#include "store/sqlite/sqlite_store.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <stdexcept>

namespace eventfeed::store::sqlite {

namespace {

// A prepared statement, reset after each use so it can be reused.
class statement {
 public:
  statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("cannot prepare statement: ") + sqlite3_errmsg(db));
  }
  ~statement() { sqlite3_finalize(stmt_); }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  statement& bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }
  // Runs a statement that returns no rows; returns the result code.
  int run() {
    int rc = step();
    reset();
    return rc == SQLITE_ROW ? SQLITE_DONE : rc;
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : "";
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Runs SQL without results; throws with `what` on failure.
void exec(sqlite3* db, const char* sql, std::string_view what) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = std::string(what) + ": " + (err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    throw std::runtime_error(msg);
  }
}

const char* schema_sql = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE sequence(id INTEGER PRIMARY KEY CHECK (id = 1), last INTEGER NOT NULL);
INSERT INTO sequence(id, last) VALUES (1, 0);
CREATE TABLE streams(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  head INTEGER NOT NULL,
  trimmed_through INTEGER NOT NULL DEFAULT 0,
  retained INTEGER NOT NULL DEFAULT 0);
CREATE TABLE events(
  stream_id INTEGER NOT NULL,
  pos INTEGER NOT NULL,
  time_ms INTEGER NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (stream_id, pos)) WITHOUT ROWID;
CREATE TABLE records(kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  expires_ms INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, key)) WITHOUT ROWID;
)sql";

// From one schema version to the next, by the version it starts from.
const char* migration_from_1 = R"sql(
ALTER TABLE records ADD COLUMN expires_ms INTEGER NOT NULL DEFAULT 0;
UPDATE meta SET value='2' WHERE key='schema_version';
)sql";

std::string write_error_message(sqlite3* db, int rc) {
  const int primary = rc & 0xff;
  std::string why = primary == SQLITE_FULL       ? "the disk is full"
                    : primary == SQLITE_IOERR    ? "an I/O error"
                    : primary == SQLITE_READONLY ? "the database is read-only"
                                                 : "a database error";
  return "the store cannot write (" + why + ": " + sqlite3_errmsg(db) + "); try again later";
}

}  // namespace

sqlite_store::sqlite_store(options opts, const core::clock* clock)
    : opts_(std::move(opts)), clock_(clock ? clock : &system_clock_) {
  opts_.tail_events = std::max<std::size_t>(opts_.tail_events, 1);
  opts_.reader_threads = std::max<std::size_t>(opts_.reader_threads, 1);
  try {
    open_database();
    load_state();
  } catch (...) {
    // The destructor will not run: release what open_database took, the lock above all.
    for (auto* db : reader_dbs_) sqlite3_close_v2(db);
    sqlite3_close_v2(writer_db_);
    if (lock_fd_ >= 0) ::close(lock_fd_);
    throw;
  }
  // Threads are named for top -H, perf and gdb.
  writer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ef-sqlite-write");
    writer_loop();
  });
  for (std::size_t i = 0; i < opts_.reader_threads; ++i)
    readers_.emplace_back([this, i] {
      pthread_setname_np(pthread_self(), "ef-sqlite-read");
      reader_loop(i);
    });
}

sqlite_store::~sqlite_store() {
  close();
  for (auto* db : reader_dbs_) sqlite3_close_v2(db);
  sqlite3_close_v2(writer_db_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the data directory
}

void sqlite_store::open_database() {
  std::error_code ec;
  std::filesystem::create_directories(opts_.data_dir, ec);
  if (ec)
    throw std::runtime_error("cannot create the data directory " + opts_.data_dir.string() + ": " +
                             ec.message() + " (choose another --data-dir or fix its permissions)");
  if (::access(opts_.data_dir.c_str(), W_OK | X_OK) != 0)
    throw std::runtime_error("the data directory " + opts_.data_dir.string() +
                             " is not writable (fix its permissions or choose another --data-dir)");
  // One server per data directory: positions and heads live in memory between commits, so two
  // processes on one file would hand out the same positions. The kernel drops the lock when the
  // process dies, even by SIGKILL, so a crash never leaves it behind.
  const auto lock_path = opts_.data_dir / "eventfeed.lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0)
    throw std::runtime_error("cannot create " + lock_path.string() + ": " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0)
    throw std::runtime_error("the data directory " + opts_.data_dir.string() +
                             " is in use by another eventfeed process; stop it or choose another "
                             "--data-dir");
  path_ = opts_.data_dir / database_file;
  const std::string file = path_.string();

  if (sqlite3_open_v2(file.c_str(), &writer_db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK)
    throw std::runtime_error("cannot open " + file + ": " + sqlite3_errmsg(writer_db_));
  sqlite3_extended_result_codes(writer_db_, 1);
  sqlite3_busy_timeout(writer_db_, 5000);

  // The first read of the file tells a database from anything else.
  const std::string not_ours = file +
                               " is not an eventfeed database or is corrupt; move it aside (or "
                               "restore it from a backup) and start again";
  char* err = nullptr;
  if (sqlite3_exec(writer_db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, &err) != SQLITE_OK) {
    sqlite3_free(err);
    throw std::runtime_error(not_ours);
  }
  exec(writer_db_,
       opts_.mode == durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
       "cannot set durability");
  exec(writer_db_, "PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY", "cannot configure");

  bool has_meta = false, has_tables = false;
  {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(writer_db_, "SELECT name FROM sqlite_master WHERE type='table'", -1, &st,
                           nullptr) != SQLITE_OK)
      throw std::runtime_error(not_ours);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      has_tables = true;
      auto* name = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      if (name && std::string_view(name) == "meta") has_meta = true;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) throw std::runtime_error(not_ours);
  }
  if (!has_tables) {
    exec(writer_db_, "BEGIN IMMEDIATE", "cannot create the schema");
    exec(writer_db_, schema_sql, "cannot create the schema in " + file);
    const std::string version_sql = "INSERT INTO meta(key, value) VALUES ('schema_version', '" +
                                    std::to_string(schema_version) + "')";
    exec(writer_db_, version_sql.c_str(), "cannot create the schema");
    exec(writer_db_, "COMMIT", "cannot create the schema in " + file);
  } else {
    if (!has_meta)
      throw std::runtime_error(file +
                               " holds tables but no eventfeed schema: it belongs to something "
                               "else; choose another --data-dir");
    statement version(writer_db_, "SELECT value FROM meta WHERE key='schema_version'");
    std::string found = version.step() == SQLITE_ROW ? version.text(0) : "";
    version.reset();
    if (found == "1") {  // an older file: brought up to date in one transaction
      exec(writer_db_, "BEGIN IMMEDIATE", "cannot migrate " + file);
      exec(writer_db_, migration_from_1, "cannot migrate " + file + " from schema version 1");
      exec(writer_db_, "COMMIT", "cannot migrate " + file);
      found = std::to_string(schema_version);
    }
    if (found != std::to_string(schema_version)) {
      int n = 0;
      try {
        n = std::stoi(found);
      } catch (...) {
      }
      if (n > schema_version)
        throw std::runtime_error(file + " has schema version " + found +
                                 ", newer than this eventfeed understands (" +
                                 std::to_string(schema_version) + "); run a newer eventfeed on it");
      throw std::runtime_error(file + " has an unknown schema version '" + found +
                               "'; it was not written by this eventfeed");
    }
  }

  for (std::size_t i = 0; i < opts_.reader_threads; ++i) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
      std::string msg = "cannot open " + file + " for reading: " + sqlite3_errmsg(db);
      sqlite3_close_v2(db);
      throw std::runtime_error(msg);
    }
    sqlite3_busy_timeout(db, 5000);
    reader_dbs_.push_back(db);
  }
}

void sqlite_store::load_state() {
  statement seq(writer_db_, "SELECT last FROM sequence WHERE id=1");
  if (seq.step() == SQLITE_ROW) sequence_ = static_cast<core::position>(seq.int64(0));
  seq.reset();

  statement streams(writer_db_, "SELECT id, name, head, trimmed_through, retained FROM streams");
  statement oldest(writer_db_,
                   "SELECT pos, time_ms FROM events WHERE stream_id=? ORDER BY pos LIMIT 1");
  while (streams.step() == SQLITE_ROW) {
    stream_state st;
    st.id = streams.int64(0);
    st.head = static_cast<core::position>(streams.int64(2));
    st.trimmed_through = static_cast<core::position>(streams.int64(3));
    st.retained = static_cast<std::size_t>(streams.int64(4));
    st.tail_complete_after = st.head;  // nothing in memory yet: only what comes next
    oldest.bind(1, st.id);
    if (oldest.step() == SQLITE_ROW) {
      st.oldest = static_cast<core::position>(oldest.int64(0));
      st.oldest_time_ms = oldest.int64(1);
    }
    oldest.reset();
    // The sequence row and the heads commit together; take the larger, to be safe.
    sequence_ = std::max(sequence_, st.head);
    streams_.emplace(streams.text(1), std::move(st));
  }
  streams.reset();

  statement records(writer_db_, "SELECT kind, key, value, expires_ms FROM records");
  while (records.step() == SQLITE_ROW)
    records_[std::pair{records.text(0), records.text(1)}] =
        record{records.text(2), records.int64(3)};
  records.reset();
}

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
        update_sequence(db, "UPDATE sequence SET last=? WHERE id=1"),
        put_record(db,
                   "INSERT OR REPLACE INTO records(kind, key, value, expires_ms) VALUES (?,?,?,?)"),
        erase_record(db, "DELETE FROM records WHERE kind=? AND key=?"),
        nth_pos(db, "SELECT pos FROM events WHERE stream_id=? ORDER BY pos LIMIT 1 OFFSET ?"),
        delete_through(db, "DELETE FROM events WHERE stream_id=? AND pos<=?"),
        first_event(db, "SELECT pos, time_ms FROM events WHERE stream_id=? ORDER BY pos LIMIT 1") {}
  statement insert_event, insert_stream, update_stream, update_sequence, put_record, erase_record,
      nth_pos, delete_through, first_event;
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

void sqlite_store::run_group(std::vector<job>& group, writer_statements& ws) {
  // A trim step runs first, as its own small transaction: work queued after a trim_expired()
  // call is acknowledged only after that step has committed.
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

  if (!writes.empty()) {
    auto* insert_event = &ws.insert_event;
    auto* insert_stream = &ws.insert_stream;
    auto* update_stream = &ws.update_stream;
    auto* update_sequence = &ws.update_sequence;
    auto* put_rec = &ws.put_record;
    auto* erase_rec = &ws.erase_record;
    auto* nth_pos = &ws.nth_pos;
    auto* delete_through = &ws.delete_through;

    // What the transaction will change, applied to the shared state only after COMMIT.
    struct touched {
      std::int64_t id = 0;
      bool is_new = false;
      core::position head = 0, trimmed_through = 0, oldest = 0;
      std::int64_t oldest_time_ms = 0;
      std::size_t retained = 0;
      std::vector<core::event_ptr> added;
    };
    std::unordered_map<std::string, touched, core::string_hash, std::equal_to<>> changes;
    std::vector<std::vector<core::event_ptr>> results(writes.size());
    // Record writes of this group in order, seen by the group's later compare-and-sets before
    // they reach records_ (after COMMIT); nullopt: erased. swapped[i]: swap i wrote.
    std::map<std::pair<std::string, std::string>, std::optional<record>, std::less<>> staged;
    std::vector<bool> swapped(writes.size(), false);
    core::position seq;
    {
      std::shared_lock lock(state_mutex_);
      seq = sequence_;
    }
    const std::int64_t now = clock_->wall_ms();
    int rc = sqlite3_exec(writer_db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);

    auto stream_for = [&](const std::string& name) -> touched* {
      auto it = changes.find(name);
      if (it != changes.end()) return &it->second;
      touched t;
      {
        std::shared_lock lock(state_mutex_);
        if (auto s = streams_.find(name); s != streams_.end()) {
          t.id = s->second.id;
          t.head = s->second.head;
          t.trimmed_through = s->second.trimmed_through;
          t.oldest = s->second.oldest;
          t.oldest_time_ms = s->second.oldest_time_ms;
          t.retained = s->second.retained;
        }
      }
      if (t.id == 0) {
        if ((rc = insert_stream->bind(1, name).run()) != SQLITE_DONE) return nullptr;
        t.id = sqlite3_last_insert_rowid(writer_db_);
        t.is_new = true;
      }
      return &changes.emplace(name, std::move(t)).first->second;
    };

    for (std::size_t i = 0; i < writes.size() && rc == SQLITE_OK; ++i) {
      if (auto* a = std::get_if<append_job>(&writes[i])) {
        for (auto& ne : a->events) {
          touched* t = stream_for(ne.stream);
          if (!t) break;
          auto ev = std::make_shared<core::event>();
          ev->pos = ++seq;
          ev->time_ms = now;
          ev->type = std::move(ne.type);
          ev->data = std::move(ne.data);
          ev->stream = std::move(ne.stream);
          rc = insert_event->bind(1, t->id)
                   .bind(2, static_cast<std::int64_t>(ev->pos))
                   .bind(3, ev->time_ms)
                   .bind(4, ev->type)
                   .bind(5, ev->data)
                   .run();
          if (rc != SQLITE_DONE) break;
          rc = SQLITE_OK;
          t->head = ev->pos;
          if (t->retained == 0) {
            t->oldest = ev->pos;
            t->oldest_time_ms = ev->time_ms;
          }
          ++t->retained;
          t->added.push_back(ev);
          results[i].push_back(std::move(ev));
        }
      } else if (auto* r = std::get_if<record_job>(&writes[i])) {
        auto key = std::pair{r->kind, r->key};
        if (r->expected) {
          // What the record holds now: this group's own earlier write, else the committed one.
          std::optional<std::string> current;
          if (auto st = staged.find(key); st != staged.end()) {
            if (st->second && st->second->live(now)) current = st->second->value;
          } else if (auto it = records_.find(key); it != records_.end() && it->second.live(now)) {
            current = it->second.value;
          }
          if (current != *r->expected) continue;  // someone else's value: nothing written
          swapped[i] = true;
        }
        rc = r->value ? put_rec->bind(1, r->kind)
                            .bind(2, r->key)
                            .bind(3, *r->value)
                            .bind(4, r->expires_ms)
                            .run()
                      : erase_rec->bind(1, r->kind).bind(2, r->key).run();
        if (rc == SQLITE_DONE) rc = SQLITE_OK;
        staged[std::move(key)] =
            r->value ? std::optional<record>(record{*r->value, r->expires_ms}) : std::nullopt;
      }
    }

    // Retention by count for the streams this group grew.
    for (auto& [name, t] : changes) {
      if (rc != SQLITE_OK) break;
      const auto max_events = opts_.retention.for_stream(name).max_events;
      if (t.retained <= max_events) continue;
      const auto excess = t.retained - max_events;
      nth_pos->bind(1, t.id).bind(2, static_cast<std::int64_t>(excess - 1));
      int step = nth_pos->step();
      const core::position cutoff =
          step == SQLITE_ROW ? static_cast<core::position>(nth_pos->int64(0)) : 0;
      nth_pos->reset();
      if (step != SQLITE_ROW) {
        rc = step;
        break;
      }
      if ((rc = delete_through->bind(1, t.id).bind(2, static_cast<std::int64_t>(cutoff)).run()) !=
          SQLITE_DONE)
        break;
      rc = SQLITE_OK;
      t.trimmed_through = std::max(t.trimmed_through, cutoff);
      t.retained = max_events;
      ws.first_event.bind(1, t.id);
      if (ws.first_event.step() == SQLITE_ROW) {
        t.oldest = static_cast<core::position>(ws.first_event.int64(0));
        t.oldest_time_ms = ws.first_event.int64(1);
      }
      ws.first_event.reset();
    }

    for (auto& [name, t] : changes) {
      if (rc != SQLITE_OK) break;
      rc = update_stream->bind(1, static_cast<std::int64_t>(t.head))
               .bind(2, static_cast<std::int64_t>(t.trimmed_through))
               .bind(3, static_cast<std::int64_t>(t.retained))
               .bind(4, t.id)
               .run();
      if (rc == SQLITE_DONE) rc = SQLITE_OK;
    }
    if (rc == SQLITE_OK) {
      rc = update_sequence->bind(1, static_cast<std::int64_t>(seq)).run();
      if (rc == SQLITE_DONE) rc = SQLITE_OK;
    }
    if (rc == SQLITE_OK) rc = sqlite3_exec(writer_db_, "COMMIT", nullptr, nullptr, nullptr);

    if (rc != SQLITE_OK) {
      const std::string message = write_error_message(writer_db_, rc);
      sqlite3_exec(writer_db_, "ROLLBACK", nullptr, nullptr, nullptr);
      for (auto& w : writes) {
        if (auto* a = std::get_if<append_job>(&w))
          a->done(core::error{core::errc::unavailable, message});
        else if (auto* r = std::get_if<record_job>(&w); r && r->expected)
          r->swapped(core::error{core::errc::unavailable, message});
        else if (r)
          r->done(core::error{core::errc::unavailable, message});
      }
    } else {
      {
        std::unique_lock lock(state_mutex_);
        sequence_ = seq;
        for (auto& [name, t] : changes) {
          auto it = streams_.find(name);
          if (it == streams_.end()) {
            it = streams_.emplace(name, stream_state{}).first;
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
          while (!st.tail.empty() && (st.tail.size() > opts_.tail_events ||
                                      st.tail.front()->pos <= st.trimmed_through)) {
            st.tail_complete_after = st.tail.front()->pos;
            st.tail.pop_front();
          }
        }
        for (auto& [key, rec] : staged) {
          if (rec)
            records_[key] = std::move(*rec);
          else
            records_.erase(key);
        }
      }
      for (std::size_t i = 0; i < writes.size(); ++i) {
        if (auto* a = std::get_if<append_job>(&writes[i]))
          a->done(std::move(results[i]));
        else if (auto* r = std::get_if<record_job>(&writes[i]); r && r->expected)
          r->swapped(static_cast<bool>(swapped[i]));
        else if (r)
          r->done(std::nullopt);
      }
    }
  }
}

// Expired records are already absent from reads (records_ is filtered by time); this removes
// them from the file and the mirror, in a transaction of its own.
void sqlite_store::remove_expired_records() {
  const std::int64_t now = clock_->wall_ms();
  bool any = false;
  for (const auto& [key, rec] : records_) any = any || !rec.live(now);
  if (!any) return;
  statement del(writer_db_, "DELETE FROM records WHERE expires_ms>0 AND expires_ms<=?");
  if (del.bind(1, now).run() != SQLITE_DONE) return;  // tried again at the next step
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
  int rc = sqlite3_exec(writer_db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  for (const auto& c : candidates) {
    if (rc != SQLITE_OK) break;
    last_due.bind(1, c.id).bind(2, c.cutoff_ms).bind(3, max_rows);
    if (last_due.step() != SQLITE_ROW) {
      last_due.reset();
      continue;
    }
    const auto through = static_cast<core::position>(last_due.int64(0));
    const auto removed = static_cast<std::size_t>(last_due.int64(1));
    last_due.reset();
    if (removed == 0) continue;
    if (del.bind(1, c.id).bind(2, static_cast<std::int64_t>(through)).run() != SQLITE_DONE ||
        update.bind(1, static_cast<std::int64_t>(through))
                .bind(2, static_cast<std::int64_t>(removed))
                .bind(3, c.id)
                .run() != SQLITE_DONE) {
      rc = SQLITE_ERROR;
      break;
    }
    trimmed t{c.name, through, removed, 0, 0};
    first.bind(1, c.id);
    if (first.step() == SQLITE_ROW) {
      t.oldest = static_cast<core::position>(first.int64(0));
      t.oldest_time_ms = first.int64(1);
    }
    first.reset();
    done.push_back(std::move(t));
  }
  if (rc == SQLITE_OK) rc = sqlite3_exec(writer_db_, "COMMIT", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_exec(writer_db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return;  // retried at the next step
  }
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

void sqlite_store::close() {
  {
    std::unique_lock lock(state_mutex_);
    if (closed_) return;
    closed_ = true;
  }
  {
    std::lock_guard lock(queue_mutex_);
    stop_writer_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();  // completes everything already queued
  {
    std::lock_guard lock(read_mutex_);
    stop_readers_ = true;
  }
  read_cv_.notify_all();
  for (auto& t : readers_)
    if (t.joinable()) t.join();
  sqlite3_exec(writer_db_, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
}

}  // namespace eventfeed::store::sqlite
