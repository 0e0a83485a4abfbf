// feed/waiter.hpp: one parked long-poll, as the hub sees it.
//
// Lifecycle: created by feed::async_poll, registered with hub::park (from then on the hub holds
// a reference in the list of each stream it waits on, and in the deadline index), then awaited
// with hub::async_wait. Exactly one party *claims* it: a publish on one of its streams, its
// deadline, a newer poll with the same key, shutdown, or cancellation (client gone). The claimer
// detaches it from every hub index and delivers the wake reason to the awaiting coroutine,
// posted to that coroutine's executor. A wake can arrive before async_wait installs its handler;
// the reason is then kept and delivered as soon as the handler arrives.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/filter.hpp"

namespace eventfeed::feed {

enum class wake_reason : std::uint8_t {
  events,      // a publish on one of its streams carried an event its filter accepts
  timeout,     // its deadline passed
  superseded,  // a newer poll with the same key took its place
  shutdown,    // the server is stopping
  cancelled,   // the awaiting operation was cancelled (the client went away)
  // Not a hub wake: the engine's own reason for a poll that scanned its cap of events its
  // filter refused without finding one. Unlike `timeout`, the deadline has not passed: the
  // poll's `next` has moved past what was scanned and the client should poll again at once
  // (or the dialect continue the scan), not treat it as a quiet period.
  scan_limit,
};

class hub;

class waiter {
 public:
  waiter(std::vector<std::string> streams, core::event_filter filter,
         std::chrono::steady_clock::time_point deadline, std::optional<std::string> key = {})
      : streams_(std::move(streams)),
        filter_(std::move(filter)),
        deadline_(deadline),
        key_(std::move(key)) {}
  waiter(const waiter&) = delete;
  waiter& operator=(const waiter&) = delete;

  const std::vector<std::string>& streams() const noexcept { return streams_; }
  const core::event_filter& filter() const noexcept { return filter_; }
  std::chrono::steady_clock::time_point deadline() const noexcept { return deadline_; }
  const std::optional<std::string>& key() const noexcept { return key_; }
  bool claimed() const noexcept { return claimed_.load(std::memory_order_acquire); }

 private:
  friend class hub;
  // The awaiting operation's completion handler, type-erased. (Boost 1.81's
  // any_completion_handler recurses without end when moved as an lvalue, so not that.)
  struct handler_base {
    virtual ~handler_base() = default;
    virtual void invoke(wake_reason r) = 0;
  };
  template <class Handler>
  struct handler_impl final : handler_base {
    explicit handler_impl(Handler&& h) : handler(std::move(h)) {}
    void invoke(wake_reason r) override { std::move(handler)(r); }
    Handler handler;
  };
  using handler_type = std::unique_ptr<handler_base>;
  enum class handoff : std::uint8_t { empty, handler_set, woken };

  // Where this waiter sits in one stream's list; index is kept current by swap-removal.
  struct link {
    void* list = nullptr;  // hub::stream_waiters*, null once removed
    std::size_t index = 0;
  };

  std::vector<std::string> streams_;
  core::event_filter filter_;
  std::chrono::steady_clock::time_point deadline_;
  std::optional<std::string> key_;

  std::atomic<bool> claimed_{false};
  std::atomic<handoff> handoff_{handoff::empty};
  wake_reason reason_ = wake_reason::events;  // written by the claimer before `woken`
  boost::asio::any_io_executor executor_;     // where the handler runs (the poll's coroutine)
  handler_type handler_;
  std::vector<link> links_;  // one per stream, guarded by that stream's shard mutex
  std::multimap<std::chrono::steady_clock::time_point, waiter*>::iterator deadline_pos_;
  bool has_deadline_ = false;  // guarded by the deadline shard's mutex
};

}  // namespace eventfeed::feed
