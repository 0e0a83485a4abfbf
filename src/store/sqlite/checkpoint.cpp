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
// is always a little behind, so past options::wal_limit_frames the checkpointer runs a RESTART
// checkpoint instead: it waits for the current commit, holds new ones back while it copies the
// rest (milliseconds: a passive one ran just before), and so makes the next commit restart the
// WAL. `journal_size_limit` (the same size) then cuts the file back. The WAL thus stays under
// about `wal_limit_frames` pages plus what is committed while the RESTART waits, whatever the
// load.
//
// Durability is unchanged: a checkpoint only copies committed frames into the database file
// (syncing it before the WAL may be reused), whichever connection runs it.
#include <pthread.h>
#include <sqlite3.h>

#include "store/sqlite/sqlite_store.hpp"

namespace eventfeed::store::sqlite {

int sqlite_store::on_wal_commit(void* self, sqlite3*, const char*, int frames) {
  auto* store = static_cast<sqlite_store*>(self);
  if (static_cast<std::size_t>(frames) < store->opts_.checkpoint_frames) return SQLITE_OK;
  {
    std::lock_guard lock(store->checkpoint_mutex_);
    store->wal_frames_ = static_cast<std::size_t>(frames);
  }
  store->checkpoint_cv_.notify_one();
  return SQLITE_OK;
}

void sqlite_store::checkpoint_loop() {
  for (;;) {
    std::size_t frames = 0;
    {
      std::unique_lock lock(checkpoint_mutex_);
      checkpoint_cv_.wait(lock, [this] { return stop_checkpointer_ || wal_frames_ > 0; });
      if (stop_checkpointer_) return;
      frames = wal_frames_;
      wal_frames_ = 0;
    }
    const int mode =
        frames >= opts_.wal_limit_frames ? SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE;
    int log = 0, copied = 0;
    // SQLITE_BUSY (a RESTART that could not get the writer's lock in time) is not an error: the
    // next commit asks again.
    sqlite3_wal_checkpoint_v2(checkpoint_db_, nullptr, mode, &log, &copied);
    checkpoints_.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace eventfeed::store::sqlite
