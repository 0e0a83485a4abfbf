// store/sqlite/checkpoint.cpp: WAL checkpoints, off the commit path.
//
// SQLite's default checkpoints run inside the commit that pushes the WAL past 1,000 pages: that
// commit copies the WAL into the database file and syncs it, and every publish of its group
// waits (the p99 of a publish run was those commits). Here the writer connection has no
// automatic checkpoint (its WAL hook replaces it); after each commit the hook tells the
// checkpointer thread how many frames the WAL holds, and past options::checkpoint_frames the
// checkpointer runs a PASSIVE checkpoint on a connection of its own: it copies what it can
// without taking any lock the writer or the readers wait on, so commits go on meanwhile.
//
// Bounded growth. The WAL starts again from its beginning at the first write after a checkpoint
// copied every frame while no reader used the WAL. Under sustained writes a passive checkpoint
// is always a little behind, and the next writer's restart of the WAL gives up silently when a
// checkpoint is running at that moment. So past options::wal_limit_frames the writer itself
// runs a TRUNCATE checkpoint, in the hook, between its own transactions: it waits for the
// checkpointer's passive run to end (one checkpoint at a time: `checkpoint_run_mutex_`), copies
// what is left (little, a passive one ran meanwhile), waits for the readers, and resets the WAL
// to an empty file. That one commit group waits for it, and only when the checkpointer has
// fallen that far behind; the WAL stays under `wal_limit_frames` pages plus one group, whatever
// the load.
//
// Durability is unchanged: a checkpoint only copies committed frames into the database file
// (syncing it before the WAL may be reused), whichever connection runs it.
//
// Thread affinity: on_wal_commit runs on the writer thread, inside its COMMIT; checkpoint_loop
// on the checkpointer thread, the only user of checkpoint_db_.
#include <pthread.h>
#include <sqlite3.h>

#include "store/sqlite/sqlite_store.hpp"

namespace eventfeed::store::sqlite {

int sqlite_store::on_wal_commit(void* self, sqlite3* db, const char*, int frames) {
  auto* store = static_cast<sqlite_store*>(self);
  if (static_cast<std::size_t>(frames) < store->opts_.checkpoint_frames) return SQLITE_OK;
  if (static_cast<std::size_t>(frames) >= store->opts_.wal_limit_frames) {
    int log = 0, copied = 0;
    // SQLite refuses a second checkpoint while one runs (SQLITE_BUSY, without waiting), so the
    // writer waits for the checkpointer's passive one to end first. SQLITE_BUSY from a reader
    // that outlasted the busy timeout is not an error: a later commit tries again.
    std::lock_guard one_at_a_time(store->checkpoint_run_mutex_);
    sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &copied);
    store->checkpoints_.fetch_add(1, std::memory_order_relaxed);
    return SQLITE_OK;
  }
  {
    std::lock_guard lock(store->checkpoint_mutex_);
    store->checkpoint_wanted_ = true;
  }
  store->checkpoint_cv_.notify_one();
  return SQLITE_OK;
}

void sqlite_store::checkpoint_loop() {
  for (;;) {
    {
      std::unique_lock lock(checkpoint_mutex_);
      checkpoint_cv_.wait(lock, [this] { return stop_checkpointer_ || checkpoint_wanted_; });
      if (stop_checkpointer_) return;
      checkpoint_wanted_ = false;
    }
    int log = 0, copied = 0;
    // A PASSIVE checkpoint takes no lock the writer or the readers wait on; it copies what no
    // reader still needs. Any failure is retried after the next commit.
    std::lock_guard one_at_a_time(checkpoint_run_mutex_);
    sqlite3_wal_checkpoint_v2(checkpoint_db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    checkpoints_.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace eventfeed::store::sqlite
