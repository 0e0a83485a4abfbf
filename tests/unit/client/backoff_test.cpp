#include "client/backoff.hpp"

#include <gtest/gtest.h>

// The retry policy's waits: full jitter under ceilings that double up to the cap.
namespace eventfeed::detail {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, CeilingsDoubleUpToTheCapAndWaitsStayUnderThem) {
  backoff b({.initial = milliseconds(100), .cap = milliseconds(1000), .seed = 7});
  const std::vector<milliseconds> ceilings = {
      milliseconds(100),  milliseconds(200),  milliseconds(400), milliseconds(800),
      milliseconds(1000), milliseconds(1000), milliseconds(1000)};
  for (const auto c : ceilings) {
    EXPECT_EQ(b.ceiling(), c);
    const auto w = b.next();
    EXPECT_GE(w.count(), 0);
    EXPECT_LE(w, c);
  }
}

TEST(Backoff, NeverOverflowsAndNeverExceedsTheCap) {
  backoff b({.initial = milliseconds(1), .cap = milliseconds(30'000), .seed = 1});
  for (int i = 0; i < 10'000; ++i) EXPECT_LE(b.next(), milliseconds(30'000));
  EXPECT_EQ(b.ceiling(), milliseconds(30'000));
}

TEST(Backoff, JitterSpreadsTheWaitsOverTheWholeRange) {
  // Full jitter: over many draws at the cap, waits land in every tenth of [0, cap].
  backoff b({.initial = milliseconds(1000), .cap = milliseconds(1000), .seed = 3});
  std::array<int, 10> tenths{};
  for (int i = 0; i < 2000; ++i) {
    const auto w = b.next().count();
    ++tenths[static_cast<std::size_t>(std::min<std::int64_t>(w / 100, 9))];
  }
  for (int n : tenths) EXPECT_GT(n, 100);
}

TEST(Backoff, ResetStartsAgainFromTheFirstCeiling) {
  backoff b({.initial = milliseconds(50), .cap = milliseconds(400), .seed = 5});
  (void)b.next();
  (void)b.next();
  EXPECT_EQ(b.ceiling(), milliseconds(200));
  b.reset();
  EXPECT_EQ(b.ceiling(), milliseconds(50));
}

TEST(Backoff, TheSameSeedGivesTheSameWaits) {
  backoff a({.seed = 42}), b({.seed = 42});
  for (int i = 0; i < 20; ++i) EXPECT_EQ(a.next(), b.next());
}

TEST(Backoff, AnInitialAboveTheCapIsTheCap) {
  backoff b({.initial = milliseconds(5000), .cap = milliseconds(300), .seed = 9});
  EXPECT_EQ(b.ceiling(), milliseconds(300));
  EXPECT_LE(b.next(), milliseconds(300));
}

}  // namespace
}  // namespace eventfeed::detail
