#include "api/native/native_cursor.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace eventfeed::api::native {
namespace {

using core::cursor;
using core::errc;
using core::position;

TEST(NativeCursor, AbsentMeansOldest) {
  auto r = parse_native_cursor("");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->from, cursor::kind::oldest);
  EXPECT_EQ(r->pos, 0u);
}

TEST(NativeCursor, NowMeansOnlyNewEvents) {
  auto r = parse_native_cursor("now");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->from, cursor::kind::now);
}

TEST(NativeCursor, NumberIsAPosition) {
  auto zero = parse_native_cursor("0");
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->from, cursor::kind::after);
  EXPECT_EQ(zero->pos, 0u);

  auto big = parse_native_cursor("18446744073709551615");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->from, cursor::kind::after);
  EXPECT_EQ(big->pos, std::numeric_limits<position>::max());

  auto leading_zeros = parse_native_cursor("0042");
  ASSERT_TRUE(leading_zeros);
  EXPECT_EQ(leading_zeros->pos, 42u);
}

TEST(NativeCursor, GarbageAndOverflowAreBadRequests) {
  for (const char* text : {"NOW", "Now", "abc", "-1", "+1", " 1", "1 ", "1.5", "0x10", "1e3",
                           "12abc", "18446744073709551616", "99999999999999999999999"}) {
    auto r = parse_native_cursor(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.err().code, errc::bad_request) << text;
  }
}

}  // namespace
}  // namespace eventfeed::api::native
