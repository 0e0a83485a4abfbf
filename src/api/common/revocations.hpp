// api/common/revocations.hpp: answering the polls parked with a credential that is revoked.
//
// A poll admitted with a stored credential may wait for minutes; revoking (or rotating) the
// credential must not leave it to deliver. The gateway gives each poll a `ticket` with the
// serial of the secret it was admitted with (key_entry::serial; 0: not a stored credential).
// The first time the poll is about to wait, the ticket `track`s it here; each wait registers the
// function that cancels it (`on_wait`); when the poll ends, `release` says whether the
// credential was revoked meanwhile, and the gateway then answers the dialect's 401 instead of
// what the poll found. `revoke(serial)` marks every tracked poll of that serial and cancels its
// wait. A poll answered without waiting is never tracked: like any request in flight when the
// revocation lands, it was admitted before it.
//
// A revocation can land between a poll's admission (the ring still held the credential) and its
// first wait: the board remembers every serial it has revoked (8 bytes each; serials are never
// reused in a process), and `track` marks such a poll revoked, so its wait is cancelled at once.
//
// Memory: a ticket is 24 bytes of the parked poll's frame. A tracked poll (only stored
// credentials, only once waiting) also costs one `tracked` (about 56 bytes) and one node of the
// board's map.
//
// Thread-safety: every member may be called from any thread; one mutex guards the board. The
// cancel functions are called outside it (a cancel function is safe to call at any time, even
// after the wait is over: feed::poll_request::on_wait).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace eventfeed::api::common {

class revocation_board {
 public:
  struct tracked {
    std::uint64_t serial = 0;
    bool revoked = false;          // guarded by the board's mutex
    std::function<void()> cancel;  // of the current wait, if any; guarded by the board's mutex
    revocation_board* board = nullptr;
  };

  revocation_board() = default;
  revocation_board(const revocation_board&) = delete;
  revocation_board& operator=(const revocation_board&) = delete;

  // Starts tracking a poll admitted with `serial` (not 0).
  std::unique_ptr<tracked> track(std::uint64_t serial);
  // The poll is about to wait; `cancel` ends that wait. Cancels at once if already revoked.
  void on_wait(tracked& t, const std::function<void()>& cancel);
  // Stops tracking; whether the credential was revoked while the poll ran.
  bool release(tracked& t);
  // Revokes `serial`: every poll tracked with it is marked and its wait cancelled.
  void revoke(std::uint64_t serial);

  std::size_t tracked_count() const;

  // One poll's part in the above; see the file comment.
  class ticket {
   public:
    ticket(revocation_board* board, std::uint64_t serial) noexcept
        : board_(serial ? board : nullptr), serial_(serial) {}
    // The poll is about to wait; `cancel` ends that wait.
    void on_wait(const std::function<void()>& cancel) {
      if (!board_) return;
      if (!tracked_) tracked_ = board_->track(serial_);
      board_->on_wait(*tracked_, cancel);
    }
    // Stops tracking; whether the credential was revoked while the poll waited.
    bool release() { return tracked_ && board_->release(*tracked_); }

   private:
    revocation_board* board_;
    std::uint64_t serial_;
    std::unique_ptr<tracked> tracked_;
  };

 private:
  mutable std::mutex mutex_;
  std::unordered_multimap<std::uint64_t, tracked*> polls_;
  std::unordered_set<std::uint64_t> revoked_;
};

}  // namespace eventfeed::api::common
