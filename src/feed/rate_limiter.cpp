#include "feed/rate_limiter.hpp"

#include <stdexcept>

namespace eventfeed::feed {

namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

// A slot's word: the window start (ms since the limiter's origin) above, the count below.
constexpr unsigned count_bits = 24;
constexpr std::uint64_t count_mask = (std::uint64_t{1} << count_bits) - 1;
static_assert(rate_limit::max_budget == count_mask);

constexpr std::uint64_t pack(milliseconds start, std::uint32_t count) noexcept {
  return static_cast<std::uint64_t>(start.count()) << count_bits | count;
}
constexpr milliseconds start_of(std::uint64_t state) noexcept {
  return milliseconds(static_cast<milliseconds::rep>(state >> count_bits));
}
constexpr std::uint32_t count_of(std::uint64_t state) noexcept {
  return static_cast<std::uint32_t>(state & count_mask);
}

}  // namespace

rate_limiter::rate_limiter(const core::clock& clock, rate_limit limit)
    : clock_(clock), limit_(limit), origin_(clock.steady_now()) {
  if (limit_.budget > rate_limit::max_budget) {
    throw std::invalid_argument("rate limit budget " + std::to_string(limit_.budget) +
                                " is over the maximum " + std::to_string(rate_limit::max_budget));
  }
  if (limit_.budget > 0 && limit_.window < milliseconds(1)) {
    throw std::invalid_argument("rate limit window must be at least 1 ms");
  }
}

rate_slot& rate_limiter::slot(std::string_view key) {
  if (limit_.budget == 0) return unlimited_slot_;
  shard& s = shards_[core::string_hash{}(key) % shard_count];
  std::lock_guard lock(s.mutex);
  auto it = s.slots.find(key);
  if (it == s.slots.end()) {
    it = s.slots.emplace(std::string(key), std::make_unique<rate_slot>()).first;
  }
  return *it->second;
}

rate_decision rate_limiter::take(rate_slot& slot) {
  if (limit_.budget == 0) return {};
  const nanoseconds now = clock_.steady_now() - origin_;
  // Relaxed is enough: the word guards no other memory, and every update of it is one
  // compare-exchange in the word's single modification order.
  std::uint64_t state = slot.state_.load(std::memory_order_relaxed);
  while (true) {
    const std::uint32_t count = count_of(state);
    nanoseconds window_end = start_of(state) + limit_.window;
    std::uint64_t next;
    if (count == 0 || now >= window_end) {
      // No window open: this request opens one, anchored at its own time rounded up, so that
      // the window lasts at least `window` from it.
      const milliseconds start = std::chrono::ceil<milliseconds>(now);
      next = pack(start, 1);
      window_end = start + limit_.window;
    } else if (count >= limit_.budget) {
      return decide(false, count, now, window_end);
    } else {
      next = state + 1;
    }
    if (slot.state_.compare_exchange_weak(state, next, std::memory_order_relaxed)) {
      return decide(true, count_of(next), now, window_end);
    }
  }
}

rate_decision rate_limiter::decide(bool allowed, std::uint32_t count, nanoseconds now,
                                   nanoseconds window_end) const {
  // Positive: `take` decides only while now < window_end (a window it opens ends after now).
  // So a refusal's retry_after, rounded up, is at least 1 s.
  const nanoseconds left = window_end - now;
  rate_decision d;
  d.allowed = allowed;
  d.limit = limit_.budget;
  d.remaining = limit_.budget - count;
  d.reset_in = std::chrono::ceil<milliseconds>(left);
  if (!allowed) d.retry_after = std::chrono::ceil<std::chrono::seconds>(left);
  d.reset_at_unix_s =
      std::chrono::ceil<std::chrono::seconds>(milliseconds(clock_.wall_ms()) + d.reset_in).count();
  return d;
}

std::size_t rate_limiter::keys() const {
  std::size_t n = 0;
  for (const shard& s : shards_) {
    std::lock_guard lock(s.mutex);
    n += s.slots.size();
  }
  return n;
}

}  // namespace eventfeed::feed
