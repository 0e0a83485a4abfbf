// feed/hub.hpp: the registry of parked waiters, sharded by stream.
//
// Mechanism. Waiters are kept in per-stream lists inside `shard_count` shards, each with its
// own mutex; a stream always hashes to the same shard. A publish locks only the shard of each
// stream it touched, walks that stream's list, and claims the waiters whose filter accepts one
// of the new events: O(waiters of that stream), whatever the number of other waiters. Claimed
// waiters are removed from the list under the lock (swap-remove, each waiter knows its index)
// and woken after the lock is released, by posting to their own executors.
//
// No lost wake-ups. The feed parks a waiter *before* its final read of the store: any append
// that commits after that read notifies the hub after the waiter is in its list, and any append
// that committed before it is seen by the read. A waiter woken for nothing (its events were
// already read) simply reads again and parks again.
//
// Deadlines sit in a per-shard ordered index (the shard of the waiter's first stream) and are
// expired by `expire(now)`, which the server's ticker calls every few tens of milliseconds and
// tests call with a fake clock. Keys (Zulip's "the newest poll on a queue wins") live in one
// small map of their own.
//
// Thread-safety: every public function may be called from any thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/event.hpp"
#include "core/string_hash.hpp"
#include "feed/waiter.hpp"

namespace eventfeed::feed {

class hub {
 public:
  explicit hub(std::size_t shard_count = 64);
  hub(const hub&) = delete;
  hub& operator=(const hub&) = delete;
  ~hub();

  // Registers `w` on each of its streams and its deadline. If the hub is shut down, `w` is
  // claimed at once with `shutdown`. A previous waiter with the same key is superseded.
  void park(const std::shared_ptr<waiter>& w);

  // Completes with the reason `w` was woken. Honours per-operation cancellation: a cancelled
  // wait claims the waiter with `cancelled`. `w` must have been parked.
  template <class Token>
  auto async_wait(std::shared_ptr<waiter> w, Token&& token) {
    return boost::asio::async_initiate<Token, void(wake_reason)>(
        [this](auto handler, std::shared_ptr<waiter> parked) {
          auto slot = boost::asio::get_associated_cancellation_slot(handler);
          if (slot.is_connected()) {
            slot.assign([this, parked](boost::asio::cancellation_type) {
              claim(parked, wake_reason::cancelled);
            });
          }
          auto ex = boost::asio::get_associated_executor(handler);
          install_handler(
              *parked, boost::asio::any_io_executor(std::move(ex)),
              std::make_unique<waiter::handler_impl<decltype(handler)>>(std::move(handler)));
        },
        token, std::move(w));
  }

  // Claims `w` with `reason` if nobody has yet; returns whether this call claimed it.
  bool claim(const std::shared_ptr<waiter>& w, wake_reason reason);
  // Claims the waiter parked with `key`, if there is one, with `reason`; whether one was.
  bool claim_key(std::string_view key, wake_reason reason);

  // Wakes the waiters of `events`' streams whose filter accepts at least one of them.
  // Events of one stream must be in position order. Returns how many waiters were woken.
  std::size_t notify(const std::vector<core::event_ptr>& events);

  // Claims with `timeout` every waiter whose deadline is at or before `now`.
  std::size_t expire(std::chrono::steady_clock::time_point now);

  // Claims every waiter with `shutdown`; later parks are claimed at once.
  void shutdown();

  std::size_t waiters(std::string_view stream) const;
  std::size_t total_waiters() const noexcept { return total_.load(std::memory_order_relaxed); }

 private:
  struct stream_waiters {
    // Each entry names which of the waiter's links points back at it, so that moving an entry
    // updates that link alone and never reads the waiter's other links (guarded by other shards).
    struct entry {
      waiter* w;
      std::size_t link;  // index into w->links_ (and w->streams_)
    };
    std::vector<entry> items;
  };
  struct shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, stream_waiters, core::string_hash, std::equal_to<>> streams;
    std::multimap<std::chrono::steady_clock::time_point, waiter*> deadlines;
    // Owning references to the waiters whose deadline sits here, so that a waiter can never be
    // destroyed while a list still points at it.
    std::unordered_map<waiter*, std::shared_ptr<waiter>> owned;
  };

  shard& shard_for(std::string_view stream) const noexcept;
  void install_handler(waiter& w, boost::asio::any_io_executor ex, waiter::handler_type handler);
  // Removes `w` from every list and the deadline index. Call without holding any shard lock.
  void detach(const std::shared_ptr<waiter>& w);
  static void remove_from_list(stream_waiters& list, waiter& w, std::size_t link_index);
  void deliver(waiter& w);
  void forget_key(const std::shared_ptr<waiter>& w);
  // Wakes collected by one notify, grouped by the executor they run on (see hub.cpp).
  class wake_batch {
   public:
    void add(waiter& w);  // after w is claimed and detached
    void post();

   private:
    struct wake {
      waiter::handler_type handler;
      wake_reason reason;
    };
    struct group {
      boost::asio::any_io_executor executor;
      std::vector<wake> wakes;
    };
    std::vector<group> groups_;
  };
  static void post_wake(waiter& w);
  bool try_claim(waiter& w, wake_reason reason) noexcept;

  std::unique_ptr<shard[]> shards_;
  std::size_t shard_count_;
  std::atomic<std::size_t> total_{0};
  std::atomic<std::size_t> narrowed_{0};  // parked waiters whose filter has field predicates
  std::atomic<bool> shut_down_{false};
  std::mutex keys_mutex_;
  std::unordered_map<std::string, std::weak_ptr<waiter>> keys_;
};

}  // namespace eventfeed::feed
