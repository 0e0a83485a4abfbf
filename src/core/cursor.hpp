// core/cursor.hpp: "I have seen everything up to position N", and the native API's spelling.
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
  };
  kind from = kind::oldest;
  position pos = 0;

  static cursor oldest() noexcept { return {}; }
  static cursor now() noexcept { return {kind::now, 0}; }
  static cursor after_position(position p) noexcept { return {kind::after, p}; }
};

// Parses the native `after` parameter: absent/empty → oldest, "now" → now, else a decimal
// position (no sign, no spaces, fits 64 bits).
result<cursor> parse_native_cursor(std::string_view text);

// Parses a decimal unsigned 64-bit integer; rejects signs, spaces, empty and overflow.
bool parse_u64(std::string_view text, std::uint64_t& out) noexcept;

}  // namespace eventfeed::core
