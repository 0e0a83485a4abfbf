// store/sqlite/sqlite_store.cpp: opening the database (the data directory's lock, the
// connections, the schema), loading the committed state into memory, and closing. The writer is
// in writer.cpp, the readers in reader.cpp.
#include "store/sqlite/sqlite_store.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <stdexcept>

#include "store/sqlite/sql.hpp"

namespace eventfeed::store::sqlite {

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
    sqlite3_close_v2(checkpoint_db_);
    sqlite3_close_v2(writer_db_);
    if (lock_fd_ >= 0) ::close(lock_fd_);
    throw;
  }
  // Threads are named for top -H, perf and gdb.
  writer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ef-sqlite-write");
    writer_loop();
  });
  checkpointer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ef-sqlite-ckpt");
    checkpoint_loop();
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
  sqlite3_close_v2(checkpoint_db_);
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
  if (sqlite3_exec(writer_db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr) != SQLITE_OK)
    throw std::runtime_error(file +
                             " is not an eventfeed database or is corrupt; move it aside (or "
                             "restore it from a backup) and start again");
  exec(writer_db_,
       opts_.mode == durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
       "cannot set durability");
  exec(writer_db_, "PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY", "cannot configure");

  open_schema(writer_db_, file);

  // Checkpoints leave the commit path (checkpoint.cpp): the hook replaces the automatic ones.
  // After a WAL restart the file is cut back to the limit.
  opts_.checkpoint_frames = std::max<std::size_t>(opts_.checkpoint_frames, 1);
  opts_.wal_limit_frames = std::max(opts_.wal_limit_frames, opts_.checkpoint_frames);
  sqlite3_wal_hook(writer_db_, &sqlite_store::on_wal_commit, this);
  const std::string size_limit =
      "PRAGMA journal_size_limit=" + std::to_string(opts_.wal_limit_frames * 4096);
  exec(writer_db_, size_limit.c_str(), "cannot configure");
  if (sqlite3_open_v2(file.c_str(), &checkpoint_db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK)
    throw std::runtime_error("cannot open " + file +
                             " for checkpoints: " + sqlite3_errmsg(checkpoint_db_));
  sqlite3_busy_timeout(checkpoint_db_, 5000);
  exec(checkpoint_db_,
       opts_.mode == durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
       "cannot set durability");

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
    // The sequence is the largest head (schema.hpp); an older file's sequence row may say more.
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
    std::lock_guard lock(checkpoint_mutex_);
    stop_checkpointer_ = true;
  }
  checkpoint_cv_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
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
