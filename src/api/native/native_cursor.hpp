// api/native/native_cursor.hpp: the native API's spelling of a cursor, `after`.
#pragma once

#include <string_view>

#include "core/cursor.hpp"

namespace eventfeed::api::native {

// Parses the `after` parameter: absent/empty → oldest, "now" → now, else a decimal position (no
// sign, no spaces, fits 64 bits).
core::result<core::cursor> parse_native_cursor(std::string_view text);

}  // namespace eventfeed::api::native
