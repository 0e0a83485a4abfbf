#include "core/cursor.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace eventfeed::core {
namespace {

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
