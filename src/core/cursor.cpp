#include "core/cursor.hpp"

#include <charconv>

namespace eventfeed::core {

bool parse_u64(std::string_view text, std::uint64_t& out) noexcept {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && ptr == text.data() + text.size();
}

result<cursor> parse_native_cursor(std::string_view text) {
  if (text.empty()) return cursor::oldest();
  if (text == "now") return cursor::now();
  std::uint64_t p = 0;
  if (!parse_u64(text, p))
    return {errc::bad_request, "'after' must be a position (a non-negative integer) or 'now'"};
  return cursor::after_position(p);
}

}  // namespace eventfeed::core
