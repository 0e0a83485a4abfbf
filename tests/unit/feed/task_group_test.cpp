#include "feed/task_group.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>
#include <thread>

namespace eventfeed::feed {
namespace {

using namespace std::chrono_literals;

// An io_context running on a thread of its own, as the server's first context does.
class TaskGroup : public ::testing::Test {
 protected:
  TaskGroup() : work_(net::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~TaskGroup() override {
    group_.stop(1s);
    work_.reset();
    io_.stop();
    thread_.join();
  }

  template <class Pred>
  static bool eventually(Pred pred) {
    for (int i = 0; i < 2000 && !pred(); ++i) std::this_thread::sleep_for(1ms);
    return pred();
  }

  net::io_context io_{1};
  net::executor_work_guard<net::io_context::executor_type> work_;
  std::thread thread_;
  task_group group_{io_.get_executor()};
};

// Waits on a timer for far longer than any test: ends only by cancellation.
net::awaitable<void> wait_long(std::atomic<bool>* started, std::atomic<bool>* ended) {
  net::steady_timer t(co_await net::this_coro::executor);
  *started = true;
  t.expires_after(1h);
  co_await t.async_wait(net::as_tuple(net::use_awaitable));
  *ended = true;
}

// Ignores cancellation: only yields (posts are not cancellable) until told to finish.
net::awaitable<void> stubborn(std::atomic<bool>* started, std::atomic<bool>* release) {
  *started = true;
  while (!*release) co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
}

net::awaitable<void> fail_at_once() {
  throw std::runtime_error("boom");
  co_return;
}

TEST_F(TaskGroup, PeriodicWorkRunsUntilStopAndNotAfter) {
  std::atomic<int> calls{0};
  group_.every("count", 1ms, [&] { ++calls; });
  EXPECT_TRUE(eventually([&] { return calls >= 3; }));
  EXPECT_EQ(group_.running(), 1u);
  EXPECT_TRUE(group_.stop(1s));
  EXPECT_EQ(group_.running(), 0u);
  const int at_stop = calls;
  std::atomic<bool> later{false};
  net::post(io_, [&] { later = true; });
  ASSERT_TRUE(eventually([&] { return later.load(); }));
  EXPECT_EQ(calls, at_stop) << "no call after stop";
}

TEST_F(TaskGroup, StopCancelsAWaitingTask) {
  std::atomic<bool> started{false};
  std::atomic<bool> ended{false};
  group_.spawn("wait", [&] { return wait_long(&started, &ended); });
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  EXPECT_TRUE(group_.stop(1s));
  EXPECT_TRUE(ended) << "the wait was aborted and the task ran to its end";
}

TEST_F(TaskGroup, ATaskStoppedBeforeItStartedNeverRuns) {
  std::atomic<bool> started{false};
  std::atomic<bool> ended{false};
  // The executor is busy until `go`: the task is spawned but cannot start before stop().
  std::atomic<bool> go{false};
  net::post(io_, [&] {
    while (!go) std::this_thread::yield();
  });
  group_.spawn("never", [&] { return wait_long(&started, &ended); });
  EXPECT_EQ(group_.running(), 1u);
  EXPECT_FALSE(group_.stop(0ms)) << "it has not ended: it has not even started";
  go = true;
  EXPECT_TRUE(group_.stop(1s));
  EXPECT_FALSE(started);
  EXPECT_EQ(group_.running(), 0u);
}

TEST_F(TaskGroup, NothingSpawnedAfterStopRuns) {
  EXPECT_TRUE(group_.stop(1s));
  std::atomic<bool> ran{false};
  group_.every("late", 1ms, [&] { ran = true; });
  EXPECT_EQ(group_.running(), 0u);
  std::atomic<bool> flushed{false};
  net::post(io_, [&] { flushed = true; });
  ASSERT_TRUE(eventually([&] { return flushed.load(); }));
  EXPECT_FALSE(ran);
  EXPECT_TRUE(group_.stop(0ms)) << "stop is idempotent";
}

TEST_F(TaskGroup, AFailingTaskEndsAloneAndTheOthersGoOn) {
  std::atomic<int> calls{0};
  group_.every("count", 1ms, [&] { ++calls; });
  group_.spawn("fails", [] { return fail_at_once(); });
  ASSERT_TRUE(eventually([&] { return group_.running() == 1 && calls >= 2; }));
  EXPECT_TRUE(group_.stop(1s));
}

TEST_F(TaskGroup, StopSaysSoWhenATaskOutlivesTheBound) {
  std::atomic<bool> started{false};
  std::atomic<bool> release{false};
  group_.spawn("stubborn", [&] { return stubborn(&started, &release); });
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  EXPECT_FALSE(group_.stop(20ms));
  release = true;
  EXPECT_TRUE(group_.stop(1s)) << "a later stop waits for it again";
}

}  // namespace
}  // namespace eventfeed::feed
