// store/sqlite/sqlite_store.hpp: the embedded, durable default store (one SQLite file in WAL mode).
//
// Its files: this class and its state (sqlite_store.cpp: open, load, close); the writer
// (writer.cpp: the queue, commit groups, retention); the readers (reader.cpp: the in-memory
// tails and the reader threads); the tables (schema.hpp); SQLite helpers (sql.hpp).
//
// Writes. One writer thread owns the only writing connection. Appends, record writes and
// retention steps are queued to it; it takes everything queued (a *group*), runs it as one
// transaction and commits once, so under load many publishes share one commit (and, in `full`
// durability, one fsync): throughput grows with concurrency instead of paying a commit each.
// Only after COMMIT succeeds does the in-memory state move (positions, heads, tails) and do the
// callbacks run; on failure (disk full, I/O error) the group rolls back, every append in it gets
// errc::unavailable, nothing that was acknowledged before is touched, and the next group simply
// tries again, so the store recovers by itself once space is back.
//
// Positions. One sequence for every stream (so any `{tag}` group shares it). Stream heads are
// kept in the `streams` table, committed with the events, apart from them, so positions continue
// after a restart and are never reused, even when retention has removed every event of a
// stream; the sequence is the largest head (schema.hpp), so a commit writes no sequence row.
//
// Checkpoints. The WAL is copied into the database file by a checkpointer thread of its own,
// not inside commits (checkpoint.cpp), and kept bounded under sustained load.
//
// Reads. Each stream keeps its most recent events (up to `tail_events`) in memory, contiguous up
// to the head: a read whose cursor is within the tail (every poll at the head, every fan-out) is
// answered from memory by try_read without touching the disk. Older cursors go to reader threads
// with their own read-only connections; WAL lets them read while the writer writes.
//
// Retention. By count, in the same transaction as the appends that exceed it; by age, in small
// steps (a bounded number of streams and rows per step) queued to the writer between groups, so
// neither ever stalls appends for long.
//
// Thread-safety: every public member may be called from any thread.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <variant>

#include "core/clock.hpp"
#include "core/string_hash.hpp"
#include "store/sqlite/schema.hpp"
#include "store/store.hpp"

namespace eventfeed::store::sqlite {

enum class durability {
  normal,  // WAL, synchronous=NORMAL: an acknowledged event survives a process crash
  full,    // WAL, synchronous=FULL: fsync at every commit group; it also survives power loss
};

struct options {
  std::filesystem::path data_dir = "./data";
  durability mode = durability::normal;
  retention_policy retention;
  std::size_t tail_events = 1024;  // recent events kept in memory per stream
  std::size_t reader_threads = 2;
  std::size_t max_group_events = 20'000;  // most events in one commit group
  // WAL checkpoints (checkpoint.cpp): a passive one on the checkpointer thread once the WAL
  // holds `checkpoint_frames` frames (32 MiB of 4 KiB pages: SQLite's own threshold is 1,000,
  // and checkpoints that often cost the publish runs of docs/benchmarks.md more than they
  // saved); a TRUNCATE by the writer past `wal_limit_frames` (128 MiB).
  std::size_t checkpoint_frames = 8'000;
  std::size_t wal_limit_frames = 32'000;
};

// The file inside data_dir.
inline constexpr const char* database_file = "eventfeed.db";

class sqlite_store final : public store {
 public:
  // Opens (or creates) the database. Throws std::runtime_error with a message for the operator
  // naming the file and what to do: unwritable directory, not a database or corrupt, unknown or
  // newer schema.
  explicit sqlite_store(options opts, const core::clock* clock = nullptr);
  ~sqlite_store() override;

  void append(std::vector<core::new_event> events, append_callback done) override;
  std::optional<core::result<read_result>> try_read(std::string_view stream, core::position after,
                                                    std::size_t limit) override;
  void read(std::string stream, core::position after, std::size_t limit,
            read_callback done) override;
  std::optional<core::result<read_result>> try_read_last(std::string_view stream,
                                                         std::size_t limit) override;
  void read_last(std::string stream, std::size_t limit, read_callback done) override;
  std::optional<core::result<stream_info>> try_info(std::string_view stream) override;
  void info(std::string stream, info_callback done) override;
  std::optional<std::string> get_record(std::string_view kind, std::string_view key) override;
  std::vector<std::pair<std::string, std::string>> list_records(std::string_view kind) override;
  void put_record(std::string kind, std::string key, std::string value,
                  done_callback done) override;
  void erase_record(std::string kind, std::string key, done_callback done) override;
  void swap_record(std::string kind, std::string key, std::optional<std::string> expected,
                   std::optional<std::string> value, std::int64_t expires_at_ms,
                   swap_callback done) override;
  void trim_expired() override;
  void close() override;
  std::string_view backend_name() const noexcept override { return "sqlite"; }

  const std::filesystem::path& path() const noexcept { return path_; }
  // How many WAL checkpoints the checkpointer thread has run.
  std::uint64_t checkpoints() const noexcept { return checkpoints_.load(); }

 private:
  struct stream_state {
    std::int64_t id = 0;
    core::position head = 0;
    core::position trimmed_through = 0;
    core::position oldest = 0;  // 0: nothing retained
    std::int64_t oldest_time_ms = 0;
    std::size_t retained = 0;
    std::deque<core::event_ptr> tail;        // the newest events, in order
    core::position tail_complete_after = 0;  // every event with pos > this is in `tail`
  };
  using stream_map =
      std::unordered_map<std::string, stream_state, core::string_hash, std::equal_to<>>;

  struct append_job {
    std::vector<core::new_event> events;
    append_callback done;
  };
  struct record_job {
    std::string kind, key;
    std::optional<std::string> value;  // nullopt: erase
    done_callback done;                // put_record and erase_record answer here
    // swap_record: written only if the record holds this (engaged: a compare-and-set, whose
    // inner nullopt means "no record"); the answer goes to `swapped`.
    std::optional<std::optional<std::string>> expected;
    swap_callback swapped;
    std::int64_t expires_ms = 0;  // 0: never
  };
  struct trim_job {};
  using job = std::variant<append_job, record_job, trim_job>;

  struct read_job {
    std::string stream;
    std::int64_t stream_id;
    core::position after;
    std::size_t limit;
    bool newest = false;  // read_last: the newest `limit` events, `after` unused
    read_result partial;  // head and gap, known before the disk read
    read_callback done;
  };

  void open_database();
  void load_state();
  void writer_loop();
  void checkpoint_loop();
  // The writer connection's WAL hook: after each commit, the frames the WAL holds.
  static int on_wal_commit(void* self, sqlite3* db, const char* name, int frames);
  void reader_loop(std::size_t index);
  // Queues a read for the reader threads (read and read_last when the tail cannot answer).
  void enqueue_read(std::string stream, core::position after, std::size_t limit, bool newest,
                    read_callback done);
  struct writer_statements;
  class group_run;  // one commit group's transaction (writer.cpp)
  void run_group(std::vector<job>& group, writer_statements& statements);
  void run_trim_step();
  void remove_expired_records();
  void enqueue(job j);

  options opts_;
  core::system_clock system_clock_;
  const core::clock* clock_;
  std::filesystem::path path_;
  int lock_fd_ = -1;  // flock'ed: one process per data directory
  sqlite3* writer_db_ = nullptr;
  sqlite3* checkpoint_db_ = nullptr;
  std::vector<sqlite3*> reader_dbs_;

  mutable std::shared_mutex state_mutex_;  // guards streams_, records_, sequence_, closed_
  stream_map streams_;
  struct record {
    std::string value;
    std::int64_t expires_ms = 0;  // 0: never
    bool live(std::int64_t now) const noexcept { return expires_ms == 0 || now < expires_ms; }
  };
  using record_map = std::map<std::pair<std::string, std::string>, record, std::less<>>;
  record_map records_;  // the committed records, mirrored (written by the writer thread only)
  core::position sequence_ = 0;
  bool closed_ = false;

  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<job> queue_;
  bool stop_writer_ = false;

  std::mutex read_mutex_;
  std::condition_variable read_cv_;
  std::deque<read_job> reads_;
  bool stop_readers_ = false;

  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;   // a commit left the WAL past checkpoint_frames
  std::mutex checkpoint_run_mutex_;  // held while a checkpoint runs: one at a time
  bool stop_checkpointer_ = false;
  std::atomic<std::uint64_t> checkpoints_{0};  // checkpoints run (for tests)

  std::atomic<std::int64_t> last_trim_ms_{0};
  std::size_t trim_cursor_ = 0;  // writer thread only: where the next age-retention step starts

  std::thread writer_;
  std::thread checkpointer_;
  std::vector<std::thread> readers_;
};

}  // namespace eventfeed::store::sqlite
