#include "feed/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"

namespace eventfeed::feed {
namespace {

using namespace std::chrono_literals;

// Takes from `slot` `n` times and returns how many were allowed.
int allowed_of(rate_limiter& limiter, rate_slot& slot, int n) {
  int allowed = 0;
  for (int i = 0; i < n; ++i) allowed += limiter.take(slot).allowed ? 1 : 0;
  return allowed;
}

TEST(RateLimiter, RefusesTheRequestAfterTheBudget) {
  core::manual_clock clock;
  rate_limiter limiter(clock, {.budget = 3, .window = 60s});
  auto& slot = limiter.slot("token");
  for (std::uint32_t left : {2u, 1u, 0u}) {
    auto d = limiter.take(slot);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.remaining, left);
  }
  EXPECT_FALSE(limiter.take(slot).allowed);
  clock.advance(60s - 1ms);
  EXPECT_FALSE(limiter.take(slot).allowed);
}

TEST(RateLimiter, WindowIsAnchoredAtTheFirstRequestNotTheClock) {
  core::manual_clock clock;
  rate_limiter limiter(clock, {.budget = 2, .window = 60s});
  auto& slot = limiter.slot("token");
  clock.advance(45s);  // a window aligned to the limiter's start would end 15 s from here
  EXPECT_EQ(allowed_of(limiter, slot, 2), 2);
  clock.advance(55s);
  EXPECT_FALSE(limiter.take(slot).allowed);
  clock.advance(5s - 1ms);
  EXPECT_FALSE(limiter.take(slot).allowed);
  clock.advance(1ms);  // 60 s after the first request: a new window, anchored here
  auto d = limiter.take(slot);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 1u);
  EXPECT_EQ(d.reset_in, 60s);
}

TEST(RateLimiter, AWindowOpensAtTheFirstRequestAfterTheLastOneEnded) {
  core::manual_clock clock;
  rate_limiter limiter(clock, {.budget = 2, .window = 60s});
  auto& slot = limiter.slot("token");
  EXPECT_EQ(allowed_of(limiter, slot, 3), 2);
  clock.advance(10min + 123ms);  // idle long past the window's end
  auto first = limiter.take(slot);
  EXPECT_TRUE(first.allowed);
  EXPECT_EQ(first.reset_in, 60s);
  clock.advance(59'999ms);
  EXPECT_TRUE(limiter.take(slot).allowed);
  EXPECT_FALSE(limiter.take(slot).allowed);
  clock.advance(1ms);
  EXPECT_TRUE(limiter.take(slot).allowed);
}

TEST(RateLimiter, AWindowNeverEndsBeforeAFullWindowBetweenMilliseconds) {
  // The anchor is rounded up to the millisecond: a window may last up to 1 ms longer than
  // `window`, never shorter.
  core::manual_clock clock;
  rate_limiter limiter(clock, {.budget = 1, .window = 60s});
  auto& slot = limiter.slot("token");
  clock.advance(400us);
  auto first = limiter.take(slot);
  EXPECT_TRUE(first.allowed);
  EXPECT_EQ(first.reset_in, 60'001ms);  // 60,000.6 ms, rounded up
  clock.advance(60s - 1ns);
  EXPECT_FALSE(limiter.take(slot).allowed);
  clock.advance(1ns);  // exactly `window` after the first request, 0.6 ms before the anchor's end
  EXPECT_FALSE(limiter.take(slot).allowed);
  clock.advance(600us);
  EXPECT_TRUE(limiter.take(slot).allowed);
}

TEST(RateLimiter, ReportsRemainingResetAndRetryAfter) {
  core::manual_clock clock(1'700'000'000'000);
  rate_limiter limiter(clock, {.budget = 2, .window = 60s});
  auto& slot = limiter.slot("token");

  auto d = limiter.take(slot);  // t = 0: opens the window [0, 60 s)
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.limited());
  EXPECT_EQ(d.limit, 2u);
  EXPECT_EQ(d.remaining, 1u);
  EXPECT_EQ(d.reset_in, 60s);
  EXPECT_EQ(d.retry_after, 0s);
  EXPECT_EQ(d.reset_at_unix_s, 1'700'000'060);

  clock.advance(20'500ms);
  d = limiter.take(slot);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 0u);
  EXPECT_EQ(d.reset_in, 39'500ms);
  EXPECT_EQ(d.retry_after, 0s);
  EXPECT_EQ(d.reset_at_unix_s, 1'700'000'060);

  clock.advance(9s);  // t = 29.5 s
  d = limiter.take(slot);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.limit, 2u);
  EXPECT_EQ(d.remaining, 0u);
  EXPECT_EQ(d.reset_in, 30'500ms);
  EXPECT_EQ(d.retry_after, 31s);  // rounded up
  EXPECT_EQ(d.reset_at_unix_s, 1'700'000'060);

  clock.advance(30'200ms);  // t = 59.7 s
  d = limiter.take(slot);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reset_in, 300ms);
  EXPECT_EQ(d.retry_after, 1s);

  clock.advance(299ms + 500us);  // 0.5 ms before the end
  d = limiter.take(slot);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reset_in, 1ms);    // rounded up
  EXPECT_EQ(d.retry_after, 1s);  // at least 1
}

TEST(RateLimiter, ResetAtIsRoundedUpToTheSecond) {
  core::manual_clock clock(1'700'000'000'250);  // wall clock a quarter second past a second
  rate_limiter limiter(clock, {.budget = 5, .window = 10s});
  auto d = limiter.take("token");
  EXPECT_EQ(d.reset_in, 10s);
  EXPECT_EQ(d.reset_at_unix_s, 1'700'000'011);  // 1,700,000,010.25 rounded up
}

TEST(RateLimiter, RefusedRequestsDoNotConsumeBudgetOrMoveTheWindow) {
  core::manual_clock clock;
  rate_limiter limiter(clock, {.budget = 2, .window = 60s});
  auto& slot = limiter.slot("token");
  EXPECT_EQ(allowed_of(limiter, slot, 2), 2);
  for (int i = 0; i < 6; ++i) {
    clock.advance(9s);
    EXPECT_EQ(allowed_of(limiter, slot, 100), 0);
  }
  clock.advance(6s);  // 60 s after the first request
  EXPECT_EQ(allowed_of(limiter, slot, 3), 2);
}

TEST(RateLimiter, KeysAreIndependent) {
  core::manual_clock clock;
  rate_limiter limiter(clock, {.budget = 2, .window = 60s});
  EXPECT_EQ(allowed_of(limiter, limiter.slot("alice"), 5), 2);
  EXPECT_EQ(limiter.take("bob").remaining, 1u);
  clock.advance(30s);
  EXPECT_FALSE(limiter.take("alice").allowed);
  EXPECT_TRUE(limiter.take("bob").allowed);
  EXPECT_FALSE(limiter.take("bob").allowed);
  clock.advance(30s);  // alice's window ends here, bob's (opened at 0 too) as well
  EXPECT_TRUE(limiter.take("alice").allowed);
  EXPECT_EQ(limiter.keys(), 2u);
}

TEST(RateLimiter, SlotReferencesAreStableAndOnePerKey) {
  core::manual_clock clock;
  rate_limiter limiter(clock, {.budget = 3, .window = 60s});
  rate_slot* first = &limiter.slot("token");
  EXPECT_EQ(&limiter.slot("token"), first);
  EXPECT_NE(&limiter.slot("other"), first);
  EXPECT_TRUE(limiter.take(*first).allowed);
  for (int i = 0; i < 10'000; ++i) limiter.slot("key-" + std::to_string(i));  // rehashes
  EXPECT_EQ(limiter.keys(), 10'002u);
  EXPECT_EQ(&limiter.slot("token"), first);
  // Found again by its key (a reloaded credential), the slot keeps its spent budget.
  EXPECT_EQ(limiter.take("token").remaining, 1u);
  EXPECT_EQ(limiter.take(*first).remaining, 0u);
  EXPECT_FALSE(limiter.take("token").allowed);
}

TEST(RateLimiter, ZeroBudgetIsUnlimited) {
  core::manual_clock clock;
  rate_limiter limiter(clock, rate_limit{});
  EXPECT_EQ(limiter.limit().budget, 0u);
  auto& slot = limiter.slot("token");
  for (int i = 0; i < 10'000; ++i) {
    auto d = limiter.take(slot);
    ASSERT_TRUE(d.allowed);
    ASSERT_FALSE(d.limited());
  }
  auto d = limiter.take("another");
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.limit, 0u);
  EXPECT_EQ(d.remaining, 0u);
  EXPECT_EQ(d.reset_in, 0ms);
  EXPECT_EQ(d.retry_after, 0s);
  EXPECT_EQ(d.reset_at_unix_s, 0);
  EXPECT_EQ(limiter.keys(), 0u);  // nothing to count, so nothing stored
}

TEST(RateLimiter, RejectsABudgetOverTheCountFieldAndAnEmptyWindow) {
  core::manual_clock clock;
  EXPECT_NO_THROW(rate_limiter(clock, {.budget = rate_limit::max_budget, .window = 1ms}));
  EXPECT_THROW(rate_limiter(clock, {.budget = rate_limit::max_budget + 1}), std::invalid_argument);
  EXPECT_THROW(rate_limiter(clock, {.budget = 1, .window = 0ms}), std::invalid_argument);
  EXPECT_NO_THROW(rate_limiter(clock, {.budget = 0, .window = 0ms}));  // unlimited: no window
}

TEST(RateLimiter, ConcurrentTakesOnOneSlotAllowExactlyTheBudget) {
  constexpr int threads = 4;
  constexpr int per_thread = 5'000;
  constexpr std::uint32_t budget = 7'500;
  core::manual_clock clock;
  rate_limiter limiter(clock, {.budget = budget, .window = 60s});
  auto& slot = limiter.slot("shared");
  std::atomic<int> ready{0};
  std::vector<std::vector<std::uint32_t>> remaining(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < threads) std::this_thread::yield();
      for (int i = 0; i < per_thread; ++i) {
        auto d = t % 2 ? limiter.take(slot) : limiter.take("shared");
        if (d.allowed) remaining[t].push_back(d.remaining);
      }
    });
  }
  for (auto& th : pool) th.join();
  // Every admitted request saw a distinct count: `remaining` runs over budget-1 .. 0 once each.
  std::vector<std::uint32_t> all;
  for (const auto& r : remaining) all.insert(all.end(), r.begin(), r.end());
  ASSERT_EQ(all.size(), budget);
  std::sort(all.begin(), all.end());
  for (std::uint32_t i = 0; i < budget; ++i) ASSERT_EQ(all[i], i);
  EXPECT_FALSE(limiter.take(slot).allowed);
  EXPECT_EQ(limiter.keys(), 1u);
}

TEST(RateLimiter, ConcurrentLookupsFindOneSlotPerKey) {
  constexpr int threads = 4;
  constexpr int keys = 500;
  core::manual_clock clock;
  rate_limiter limiter(clock, {.budget = 10, .window = 60s});
  std::atomic<int> ready{0};
  std::vector<std::vector<rate_slot*>> seen(threads, std::vector<rate_slot*>(keys));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < threads) std::this_thread::yield();
      for (int k = 0; k < keys; ++k) seen[t][k] = &limiter.slot("key-" + std::to_string(k));
    });
  }
  for (auto& th : pool) th.join();
  for (int t = 1; t < threads; ++t) EXPECT_EQ(seen[t], seen[0]);
  EXPECT_EQ(limiter.keys(), static_cast<std::size_t>(keys));
}

}  // namespace
}  // namespace eventfeed::feed
