#include "core/cursor.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace eventfeed::core {
namespace {

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

TEST(ParseU64, RejectsSignsSpacesEmptyAndOverflow) {
  std::uint64_t v = 7;
  EXPECT_TRUE(parse_u64("123", v));
  EXPECT_EQ(v, 123u);
  EXPECT_FALSE(parse_u64("", v));
  EXPECT_FALSE(parse_u64("-0", v));
  EXPECT_FALSE(parse_u64("+5", v));
  EXPECT_FALSE(parse_u64(" 5", v));
  EXPECT_FALSE(parse_u64("18446744073709551616", v));
  EXPECT_TRUE(parse_u64("18446744073709551615", v));
  EXPECT_EQ(v, std::numeric_limits<std::uint64_t>::max());
}

TEST(Cursor, FactoriesSetKindAndPosition) {
  EXPECT_EQ(cursor::oldest().from, cursor::kind::oldest);
  EXPECT_EQ(cursor::now().from, cursor::kind::now);
  auto c = cursor::after_position(17);
  EXPECT_EQ(c.from, cursor::kind::after);
  EXPECT_EQ(c.pos, 17u);
}

}  // namespace
}  // namespace eventfeed::core
