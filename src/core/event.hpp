// core/event.hpp: the event, its position, and the per-event render cache.
//
// An event is immutable once the store has assigned its position. It is shared, never copied:
// the store's in-memory tail, every read result and every waiter that delivers it hold the
// same `event_ptr`. `data` is kept as the exact JSON text that was validated at publish time,
// so the native rendering is plain concatenation and other dialects parse it at most once.
//
// The render cache memoises one serialised form per dialect on the event itself. When 10,000
// waiters are woken by one publish, the first to render an event fills the slot and the other
// 9,999 reuse it. Filling is lock-free: racing renderers each build a string, one wins the
// compare-exchange, the losers free theirs. A slot, once set, never changes until the event dies.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace eventfeed::core {

// A position is a 64-bit sequence number, strictly increasing within a stream and never
// reused. 0 means "before the first event".
using position = std::uint64_t;

// The output forms an event can be rendered into; one cache slot each.
enum class render_form : std::uint8_t { native, zulip, box, chaturbate, count_ };

class render_cache {
 public:
  render_cache() = default;
  render_cache(const render_cache&) = delete;
  render_cache& operator=(const render_cache&) = delete;
  ~render_cache();

  // Returns the cached string for `form`, building it with `build()` on first use.
  // Thread-safe; `build` may run more than once under a race, its result is used once.
  template <class Build>
  const std::string& get_or_build(render_form form, Build&& build) const {
    auto& slot = slots_[static_cast<std::size_t>(form)];
    if (const std::string* cached = slot.load(std::memory_order_acquire)) return *cached;
    auto built = std::make_unique<std::string>(build());
    const std::string* expected = nullptr;
    if (slot.compare_exchange_strong(expected, built.get(), std::memory_order_acq_rel)) {
      return *built.release();
    }
    return *expected;
  }

 private:
  mutable std::array<std::atomic<const std::string*>, static_cast<std::size_t>(render_form::count_)>
      slots_{};
};

struct event {
  std::string stream;
  position pos = 0;
  std::int64_t time_ms = 0;  // milliseconds since the Unix epoch, assigned by the store
  std::string type;
  std::string data;  // a JSON object, as text
  render_cache cache;
};

using event_ptr = std::shared_ptr<const event>;

}  // namespace eventfeed::core
