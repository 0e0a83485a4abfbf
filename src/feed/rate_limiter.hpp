// feed/rate_limiter.hpp: a budget of requests per window, per key (a principal or a token).
//
// Mechanism. Each key owns one `rate_slot`: a single 64-bit atomic word that packs the start of
// the key's current window (40 bits: whole milliseconds since the limiter was created, from
// `clock::steady_now()`; about 34 years) and the number of requests admitted in it (24 bits,
// hence `rate_limit::max_budget`). `take` is lock-free: it reads the word, computes the next
// one and publishes it with a compare-exchange, retrying if another thread got there first. So
// a slot costs the same memory whatever its traffic, and two keys never contend.
//
// Windows are anchored, not aligned to the clock: a window opens at the first request after the
// previous one ended, and lasts `window` from that request. So "the (budget+1)-th request
// within `window` of the first one is refused" holds exactly. The anchor is that request's time
// rounded *up* to the millisecond, so a window may end up to 1 ms late, never early. A refused
// request consumes nothing: the count never exceeds the budget.
//
// Finding a slot (`slot(key)`) takes the lock of one of `shard_count` shards, chosen by the
// key's hash; no lock is shared by all threads. Slots are never freed while the limiter lives,
// so the reference `slot` returns stays valid: a dialect resolves the slot of each credential
// once, when its config is loaded, and keeps the pointer; a credential reloaded later finds its
// old slot and its spent budget. The flip side: every key ever seen stays in memory, so keys
// must come from a bounded set (configured credentials, authenticated principals), never
// straight from an unauthenticated request.
//
// A zero budget means "unlimited": `take` admits everything and reports no limit, and `slot`
// stores no keys (every key shares one unused slot).
//
// Thread-safety: every member function may be called from any thread at any time.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.hpp"
#include "core/string_hash.hpp"

namespace eventfeed::feed {

struct rate_limit {
  // The count field of a slot holds 24 bits.
  static constexpr std::uint32_t max_budget = (1u << 24) - 1;

  std::uint32_t budget = 0;  // requests per window, at most max_budget; 0 = unlimited
  std::chrono::milliseconds window{60'000};  // at least 1 ms when budget > 0
};

// What `take` decided, with what the rate-limit headers need. For an unlimited limiter
// `limit` is 0 and every other field is zero: there is nothing to report.
struct rate_decision {
  bool allowed = true;
  std::uint32_t limit = 0;                // the budget (X-RateLimit-Limit)
  std::uint32_t remaining = 0;            // left in this window after this request
  std::chrono::milliseconds reset_in{0};  // until the current window ends (rounded up)
  std::chrono::seconds retry_after{0};    // when refused: reset_in in whole seconds, >= 1
  std::int64_t reset_at_unix_s = 0;       // when the window ends, Unix seconds (rounded up)

  bool limited() const noexcept { return limit != 0; }
};

// One key's state. Opaque: only the limiter reads or writes it. Aligned to a cache line so that
// two busy keys never share one.
class alignas(64) rate_slot {
 private:
  friend class rate_limiter;
  std::atomic<std::uint64_t> state_{0};  // window start << 24 | count; count 0 = no window open
};

class rate_limiter {
 public:
  static constexpr std::size_t shard_count = 64;

  // `clock` must outlive the limiter. Throws std::invalid_argument if `limit.budget` is over
  // `rate_limit::max_budget`, or if it is non-zero with a window under 1 ms (a start-up error).
  rate_limiter(const core::clock& clock, rate_limit limit);
  rate_limiter(const rate_limiter&) = delete;
  rate_limiter& operator=(const rate_limiter&) = delete;

  // The slot of `key`, created on first use (under one shard's lock). The reference stays valid
  // for the limiter's life, and the same key always yields the same slot.
  rate_slot& slot(std::string_view key);

  // Counts one request against `slot` if its budget allows it. Lock-free, never blocks.
  rate_decision take(rate_slot& slot);
  rate_decision take(std::string_view key) { return take(slot(key)); }

  const rate_limit& limit() const noexcept { return limit_; }
  // How many keys have a slot (locks each shard in turn; for tests and statistics).
  std::size_t keys() const;

 private:
  struct alignas(64) shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::unique_ptr<rate_slot>, core::string_hash, std::equal_to<>>
        slots;
  };

  rate_decision decide(bool allowed, std::uint32_t count, std::chrono::nanoseconds now,
                       std::chrono::nanoseconds window_end) const;

  const core::clock& clock_;
  rate_limit limit_;
  std::chrono::steady_clock::time_point origin_;  // time 0 of the slots' window starts
  std::array<shard, shard_count> shards_;
  rate_slot unlimited_slot_;  // what slot() returns to every key when the budget is 0
};

}  // namespace eventfeed::feed
