// api/common/params.hpp: the numeric query parameters every dialect has (a hold time, a page
// size), parsed with defaults and clamped to their bounds, with the same error texts everywhere.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/errc.hpp"

namespace eventfeed::api::common {

struct seconds_param {
  std::string_view name;               // as in the query string, for messages ("timeout")
  std::chrono::milliseconds fallback;  // when absent or empty
  std::chrono::milliseconds max;       // larger values are clamped to it
  bool fractions = true;               // "0.5" is half a second; false: whole seconds only
  bool clamp_negative = false;         // a negative value means 0 rather than an error
};

// A number of seconds: decimal, no sign unless `clamp_negative`, no exponent. Errors are
// errc::bad_request "'<name>' must be a number of seconds, 0 or more" (or "a whole number").
core::result<std::chrono::milliseconds> parse_seconds(const std::optional<std::string>& text,
                                                      const seconds_param& p);

struct count_param {
  std::string_view name;  // "limit"
  std::size_t fallback;   // when absent or empty
  std::size_t max;        // larger values are clamped to it
  std::size_t min = 1;    // smaller values are an error, or clamped with `clamp_low`
  bool clamp_low = false;
  // Digits too many for 64 bits ("99999999999999999999") mean `max` rather than an error.
  bool clamp_overflow = false;
};

// A decimal count. Errors are errc::bad_request "'<name>' must be a positive integer" (min 1)
// or "'<name>' must be an integer of at least <min>". Without `clamp_overflow`, a value too
// large for 64 bits is such an error too.
core::result<std::size_t> parse_count(const std::optional<std::string>& text, const count_param& p);

}  // namespace eventfeed::api::common
