// core/event.hpp: the event, its position, and the per-event caches (renderings, parsed data).
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
//
// The data cache memoises the parsed form of `data` the same way, for filters that test fields
// of it (core/filter.hpp): the first filter to need it parses the text; every other waiter
// tested against the event, on this publish or in a later poll that reads it, uses the same
// tree. So the text is parsed once per event (a few times if the first readers race; one
// result is kept), never once per waiter. The tree lives as long as the event.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace boost::json {
class value;
}

namespace eventfeed::core {

// A position is a 64-bit sequence number, strictly increasing within a stream and never
// reused. 0 means "before the first event".
using position = std::uint64_t;

namespace detail {

// Publishes `built` in the empty `slot` unless another thread has published first; returns what
// the slot holds then. The loser's object is freed here.
template <class T>
const T& publish_once(std::atomic<const T*>& slot, std::unique_ptr<T> built) {
  const T* expected = nullptr;
  if (slot.compare_exchange_strong(expected, built.get(), std::memory_order_acq_rel)) {
    return *built.release();
  }
  return *expected;
}

}  // namespace detail

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
    return detail::publish_once(slot, std::make_unique<std::string>(build()));
  }

 private:
  mutable std::array<std::atomic<const std::string*>, static_cast<std::size_t>(render_form::count_)>
      slots_{};
};

class data_cache {
 public:
  data_cache() = default;
  data_cache(const data_cache&) = delete;
  data_cache& operator=(const data_cache&) = delete;
  ~data_cache();

  // The parsed form of `text` (the event's `data`), parsed on the first call. Text that does
  // not parse is kept as a JSON null, so a bad `data` is parsed once too. Thread-safe; every
  // caller gets the same object, which lives as long as the cache. The first call allocates;
  // the others do not.
  const boost::json::value& get_or_parse(std::string_view text) const;

 private:
  mutable std::atomic<const boost::json::value*> value_{nullptr};
};

struct event {
  std::string stream;
  position pos = 0;
  std::int64_t time_ms = 0;  // milliseconds since the Unix epoch, assigned by the store
  std::string type;
  std::string data;  // a JSON object, as text
  render_cache cache;
  data_cache parsed;  // `data` parsed; read it through parsed_data()
};

// The event's `data` as a JSON value (an object, or null if the text does not parse), parsed at
// most once per event (see data_cache).
inline const boost::json::value& parsed_data(const event& ev) {
  return ev.parsed.get_or_parse(ev.data);
}

using event_ptr = std::shared_ptr<const event>;

}  // namespace eventfeed::core
