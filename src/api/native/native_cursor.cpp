#include "api/native/native_cursor.hpp"

namespace eventfeed::api::native {

core::result<core::cursor> parse_native_cursor(std::string_view text) {
  if (text.empty()) return core::cursor::oldest();
  if (text == "now") return core::cursor::now();
  std::uint64_t p = 0;
  if (!core::parse_u64(text, p))
    return {core::errc::bad_request,
            "'after' must be a position (a non-negative integer) or 'now'"};
  return core::cursor::after_position(p);
}

}  // namespace eventfeed::api::native
