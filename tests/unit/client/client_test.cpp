#include "eventfeed/client.hpp"

#include <gtest/gtest.h>

// The client's calls that fail before any I/O: no network here. Exchanges with a real server,
// reconnection and cancellation of a parked poll are covered by tests/integration/.
namespace eventfeed {
namespace {

TEST(Client, EveryCallReportsABadUrl) {
  client c({.url = "https://example.com", .key = "k"});
  auto p = c.publish("room:a", "t");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.err().kind, error_kind::invalid_argument);
  EXPECT_EQ(p.err().code, "invalid_url");
  auto q = c.poll("room:a");
  ASSERT_FALSE(q);
  EXPECT_EQ(q.err().code, "invalid_url");
  EXPECT_FALSE(c.health());
}

TEST(Client, RejectsBadArgumentsBeforeSending) {
  client c({.url = "http://127.0.0.1:1"});  // never reached
  auto p = c.publish("room alice", "t");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.err().code, "invalid_stream");
  p = c.publish("room:alice", "t", "[]");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.err().code, "invalid_json");
  p = c.publish_batch("room:alice", {});
  ASSERT_FALSE(p);
  EXPECT_EQ(p.err().kind, error_kind::invalid_argument);
  auto q = c.poll("room:alice", {.after = "yesterday"});
  ASSERT_FALSE(q);
  EXPECT_EQ(q.err().code, "invalid_cursor");
  auto m = c.publish_many({stream_event{"ok", "t", "{}"}, stream_event{"not ok", "t", "{}"}});
  ASSERT_FALSE(m);
  EXPECT_EQ(m.err().code, "invalid_stream");
}

TEST(Client, CancelIsStickyUntilReset) {
  client c({.url = "http://127.0.0.1:1"});
  EXPECT_FALSE(c.cancelled());
  c.cancel();
  EXPECT_TRUE(c.cancelled());
  auto q = c.poll("room:a", {.after = "now"});
  ASSERT_FALSE(q);
  EXPECT_EQ(q.err().kind, error_kind::cancelled);
  EXPECT_FALSE(q.err().retryable());
  c.reset_cancel();
  EXPECT_FALSE(c.cancelled());
}

TEST(Client, MovesWithItsConnection) {
  client a({.url = "http://127.0.0.1:1"});
  client b(std::move(a));
  b.cancel();
  EXPECT_TRUE(b.cancelled());
}

}  // namespace
}  // namespace eventfeed
