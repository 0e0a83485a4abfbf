#include "http/timed_socket.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

namespace eventfeed::http {
namespace {

using clock = std::chrono::steady_clock;

struct counter {
  int calls = 0;
  static void bump(void* self) { ++static_cast<counter*>(self)->calls; }
};

class TimedSocketTest : public ::testing::Test {
 protected:
  net::io_context ioc_;
  deadline_list list_;
  timed_socket socket_{net::ip::tcp::socket(ioc_), list_};
  clock::time_point t0_ = clock::now();
};

TEST_F(TimedSocketTest, ADeferredActionRunsOnceAtTheFirstSweepAtOrAfterItsTime) {
  counter c;
  socket_.defer(t0_ + std::chrono::milliseconds(200), &counter::bump, &c);
  EXPECT_EQ(list_.size(), 1u) << "deferring links the socket into its sweep";
  list_.sweep(t0_ + std::chrono::milliseconds(199));
  EXPECT_EQ(c.calls, 0);
  list_.sweep(t0_ + std::chrono::milliseconds(200));
  EXPECT_EQ(c.calls, 1);
  list_.sweep(t0_ + std::chrono::seconds(10));
  EXPECT_EQ(c.calls, 1) << "a deferred action runs once";
}

TEST_F(TimedSocketTest, ACancelledDeferralNeverRunsAndALaterOneReplacesAnEarlier) {
  counter first, second;
  socket_.defer(t0_, &counter::bump, &first);
  socket_.cancel_defer();
  list_.sweep(t0_ + std::chrono::seconds(1));
  EXPECT_EQ(first.calls, 0);

  socket_.defer(t0_, &counter::bump, &first);
  socket_.defer(t0_ + std::chrono::seconds(1), &counter::bump, &second);
  list_.sweep(t0_ + std::chrono::milliseconds(500));
  EXPECT_EQ(first.calls + second.calls, 0);
  list_.sweep(t0_ + std::chrono::seconds(1));
  EXPECT_EQ(first.calls, 0);
  EXPECT_EQ(second.calls, 1);
}

TEST_F(TimedSocketTest, TheSweepClosesOnlySocketsPastTheirDeadline) {
  socket_.socket().open(net::ip::tcp::v4());
  timed_socket other(net::ip::tcp::socket(ioc_), list_);
  other.socket().open(net::ip::tcp::v4());
  socket_.expires_after(std::chrono::milliseconds(100));
  other.expires_after(std::chrono::seconds(100));
  EXPECT_EQ(list_.sweep(clock::now() + std::chrono::seconds(1)), 1u);
  EXPECT_TRUE(socket_.timed_out());
  EXPECT_FALSE(socket_.socket().is_open());
  EXPECT_FALSE(other.timed_out());
  EXPECT_TRUE(other.socket().is_open());
}

}  // namespace
}  // namespace eventfeed::http
