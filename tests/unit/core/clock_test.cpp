#include "core/clock.hpp"

#include <gtest/gtest.h>

namespace eventfeed::core {
namespace {

TEST(ManualClock, MovesOnlyWhenAdvanced) {
  manual_clock c(1'000);
  const auto t0 = c.steady_now();
  EXPECT_EQ(c.wall_ms(), 1'000);
  EXPECT_EQ(c.steady_now(), t0);
  c.advance(std::chrono::milliseconds(1'500));
  EXPECT_EQ(c.steady_now() - t0, std::chrono::milliseconds(1'500));
  EXPECT_EQ(c.wall_ms(), 2'500);
}

TEST(SystemClock, IsMonotonicAndNearTheEpochNow) {
  system_clock c;
  const auto a = c.steady_now();
  EXPECT_LE(a, c.steady_now());
  EXPECT_GT(c.wall_ms(), 1'600'000'000'000);  // after 2020
}

}  // namespace
}  // namespace eventfeed::core
