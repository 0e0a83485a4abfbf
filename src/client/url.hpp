// client/url.hpp: the pieces of a request target: percent-encoding of path segments and query
// values, stream-name checks, and the `timeout` parameter's spelling. parse_url() itself is
// public (eventfeed/client.hpp).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace eventfeed::detail {

// Percent-encodes every byte outside RFC 3986 "unreserved" (A-Z a-z 0-9 - . _ ~) and ':' and
// '@', which a path segment may hold as is: "{acme}user:42" -> "%7Bacme%7Duser:42".
std::string encode_path_segment(std::string_view text);

// Percent-encodes every byte outside "unreserved", for a query parameter's value.
std::string encode_query_value(std::string_view text);

// True when `name` matches [A-Za-z0-9{}:._-]{1,200}, the server's rule for stream names.
bool is_valid_stream_name(std::string_view name) noexcept;

// True for "", "now" and a decimal position without sign or spaces that fits 64 bits.
bool is_valid_cursor(std::string_view after) noexcept;

// A duration as the seconds the native API expects: 30000ms -> "30", 1500ms -> "1.5",
// 250ms -> "0.25"; negative durations -> "0".
std::string format_seconds(std::chrono::milliseconds d);

}  // namespace eventfeed::detail
