// client/backoff.hpp: exponential backoff with full jitter (see retry_policy in
// eventfeed/follow.hpp). The n-th wait since the last reset is drawn uniformly from
// [0, ceiling(n)], ceiling(n) = min(cap, initial * 2^n); the ceilings grow and stop at the cap,
// and no wait ever exceeds it. A seed makes the sequence reproducible (tests).
//
// Not thread-safe: one follower owns one backoff.
#pragma once

#include <chrono>
#include <random>

#include "eventfeed/follow.hpp"

namespace eventfeed::detail {

class backoff {
 public:
  explicit backoff(const retry_policy& policy);

  // The bound of the next wait.
  std::chrono::milliseconds ceiling() const noexcept { return ceiling_; }
  // Draws the next wait, then doubles the ceiling (up to the cap).
  std::chrono::milliseconds next();
  // After a success: the next wait is the first one again.
  void reset() noexcept { ceiling_ = first_; }

 private:
  std::chrono::milliseconds first_;
  std::chrono::milliseconds cap_;
  std::chrono::milliseconds ceiling_;
  std::mt19937_64 rng_;
};

}  // namespace eventfeed::detail
