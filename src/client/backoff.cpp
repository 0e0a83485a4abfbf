#include "client/backoff.hpp"

#include <algorithm>

namespace eventfeed::detail {

namespace {
std::chrono::milliseconds at_least_1ms(std::chrono::milliseconds d) {
  return std::max(d, std::chrono::milliseconds(1));
}
}  // namespace

backoff::backoff(const retry_policy& policy)
    : first_(at_least_1ms(std::min(policy.initial, at_least_1ms(policy.cap)))),
      cap_(at_least_1ms(policy.cap)),
      ceiling_(first_),
      rng_(policy.seed != 0 ? policy.seed : std::random_device{}()) {}

std::chrono::milliseconds backoff::next() {
  std::uniform_int_distribution<std::int64_t> pick(0, ceiling_.count());
  const std::chrono::milliseconds wait(pick(rng_));
  // Doubling stops at the cap, so the ceiling never overflows however many waits there are.
  ceiling_ = ceiling_ >= cap_ / 2 ? cap_ : ceiling_ * 2;
  return wait;
}

}  // namespace eventfeed::detail
