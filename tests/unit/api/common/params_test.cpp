#include "api/common/params.hpp"

#include <gtest/gtest.h>

namespace eventfeed::api::common {
namespace {

using namespace std::chrono_literals;

const seconds_param native_timeout{"timeout", 30s, 90s};
const seconds_param whole_clamped{"timeout", 10s, 90s, false, true};

TEST(ParseSeconds, DefaultsFractionsAndClampingAbove) {
  EXPECT_EQ(*parse_seconds(std::nullopt, native_timeout), 30s);
  EXPECT_EQ(*parse_seconds("", native_timeout), 30s);
  EXPECT_EQ(*parse_seconds("0", native_timeout), 0ms);
  EXPECT_EQ(*parse_seconds("0.5", native_timeout), 500ms);
  EXPECT_EQ(*parse_seconds("-0", native_timeout), 0ms) << "as the native API always took it";
  EXPECT_EQ(*parse_seconds("-0.0", native_timeout), 0ms);
  EXPECT_EQ(*parse_seconds("91", native_timeout), 90s);
  EXPECT_FALSE(parse_seconds("1e3", native_timeout)) << "no exponents";
  EXPECT_EQ(*parse_seconds("99999999999999999999", native_timeout), 90s)
      << "huge values are clamped, not overflowed";
}

TEST(ParseSeconds, RejectsGarbageAndNegativesUnlessClamped) {
  for (const char* bad : {"-1", "abc", "1s", " 1", "+1", "nan", "inf", "--1"}) {
    auto r = parse_seconds(bad, native_timeout);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.err().code, core::errc::bad_request);
    EXPECT_EQ(r.err().message, "'timeout' must be a number of seconds, 0 or more");
  }
  EXPECT_EQ(*parse_seconds("-5", whole_clamped), 0ms);
  EXPECT_EQ(*parse_seconds("120", whole_clamped), 90s);
  EXPECT_EQ(parse_seconds("1.5", whole_clamped).err().message,
            "'timeout' must be a whole number of seconds, 0 or more");
  EXPECT_FALSE(parse_seconds("--5", whole_clamped));
}

TEST(ParseCount, DefaultsClampsAndRefuses) {
  const count_param limit{"limit", 100, 500};
  EXPECT_EQ(*parse_count(std::nullopt, limit), 100u);
  EXPECT_EQ(*parse_count("800", limit), 500u);
  EXPECT_EQ(*parse_count("1", limit), 1u);
  for (const char* bad : {"0", "-1", "x", "1.0", "18446744073709551616"}) {
    auto r = parse_count(bad, limit);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.err().message, "'limit' must be a positive integer");
  }
  const count_param low_clamped{"limit", 100, 500, 1, true};
  EXPECT_EQ(*parse_count("0", low_clamped), 1u);
  const count_param from_zero{"count", 0, 10, 0};
  EXPECT_EQ(*parse_count("0", from_zero), 0u);
  EXPECT_EQ(parse_count("x", {"count", 0, 10, 2}).err().message,
            "'count' must be an integer of at least 2");
}

TEST(ParseCount, OverflowIsClampedOnlyWhenAsked) {
  const count_param clamped{.name = "limit", .fallback = 100, .max = 500, .clamp_overflow = true};
  EXPECT_EQ(*parse_count("99999999999999999999", clamped), 500u);
  EXPECT_EQ(*parse_count("18446744073709551616", clamped), 500u);
  EXPECT_EQ(*parse_count("18446744073709551615", clamped), 500u);
  for (const char* bad : {"0", "-99999999999999999999", "99999999999999999999x", "1e30"}) {
    auto r = parse_count(bad, clamped);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.err().message, "'limit' must be a positive integer") << bad;
  }
  EXPECT_FALSE(parse_count("99999999999999999999", {"limit", 100, 500}))
      << "the native API's 'not an integer'";
}

}  // namespace
}  // namespace eventfeed::api::common
