// core/cursor.hpp: "I have seen everything up to position N". Each dialect has its own spelling
// of a cursor (native `after`, Zulip's `last_event_id`, Box's `stream_position`, `i=`) and
// parses it into this.
#pragma once

#include <string_view>

#include "core/errc.hpp"
#include "core/event.hpp"

namespace eventfeed::core {

struct cursor {
  enum class kind : std::uint8_t {
    oldest,  // from the oldest retained event (no cursor given)
    now,     // only what is published from now on
    after,   // everything after `pos`
    latest,  // from the newest `pos` events on (here `pos` is a count, not a position)
  };
  kind from = kind::oldest;
  position pos = 0;

  static cursor oldest() noexcept { return {}; }
  static cursor now() noexcept { return {kind::now, 0}; }
  static cursor after_position(position p) noexcept { return {kind::after, p}; }
  static cursor latest(std::size_t count) noexcept { return {kind::latest, count}; }
};

// Parses a decimal unsigned 64-bit integer; rejects signs, spaces, empty and overflow.
bool parse_u64(std::string_view text, std::uint64_t& out) noexcept;

}  // namespace eventfeed::core
