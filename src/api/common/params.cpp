#include "api/common/params.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace eventfeed::api::common {

core::result<std::chrono::milliseconds> parse_seconds(const std::optional<std::string>& text,
                                                      const seconds_param& p) {
  if (!text || text->empty()) return p.fallback;
  const auto fail = [&] {
    return core::error{core::errc::bad_request,
                       "'" + std::string(p.name) + "' must be " +
                           (p.fractions ? "a number of seconds, 0 or more"
                                        : "a whole number of seconds, 0 or more")};
  };
  std::string_view digits = *text;
  bool negative = false;
  if (p.clamp_negative && digits.front() == '-') {
    negative = true;
    digits.remove_prefix(1);
  }
  double seconds = 0;
  const char* last = digits.data() + digits.size();
  auto [end, ec] = std::from_chars(digits.data(), last, seconds, std::chars_format::fixed);
  if (digits.empty() || ec != std::errc{} || end != last || !std::isfinite(seconds) ||
      seconds < 0 || (negative && digits.front() == '-'))
    return fail();
  if (!p.fractions && seconds != std::floor(seconds)) return fail();
  if (negative) return std::chrono::milliseconds(0);
  // Clamp before converting: a huge value must not overflow the integer conversion.
  const double max_ms = static_cast<double>(p.max.count());
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::min(seconds * 1000.0, max_ms)));
}

core::result<std::size_t> parse_count(const std::optional<std::string>& text,
                                      const count_param& p) {
  if (!text || text->empty()) return p.fallback;
  std::uint64_t n = 0;
  const char* last = text->data() + text->size();
  auto [end, ec] = std::from_chars(text->data(), last, n);
  // from_chars consumed only digits when it overflowed.
  if (ec == std::errc::result_out_of_range && end == last && p.clamp_overflow) return p.max;
  // Otherwise overflow is an error too, as is anything but plain digits.
  if (ec != std::errc{} || end != last || (n < p.min && !p.clamp_low)) {
    return core::error{core::errc::bad_request,
                       "'" + std::string(p.name) + "' must be " +
                           (p.min == 1 ? std::string("a positive integer")
                                       : "an integer of at least " + std::to_string(p.min))};
  }
  return static_cast<std::size_t>(std::clamp<std::uint64_t>(n, p.min, p.max));
}

}  // namespace eventfeed::api::common
