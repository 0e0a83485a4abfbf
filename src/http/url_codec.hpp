// http/url_codec.hpp: percent-decoding of path segments and query parameters.
//
// Written here rather than taken from Boost.URL: Debian's compiled Boost.URL 1.81 reads past the
// end of string views that are not NUL-terminated (found by ASan), and request targets are views
// into the parser's buffer.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace eventfeed::http {

// Decodes %XX escapes; with `plus_as_space`, '+' becomes ' ' (form encoding, for queries).
// nullopt for a malformed escape ("%G1", a trailing "%").
std::optional<std::string> percent_decode(std::string_view text, bool plus_as_space);

// Encodes `text` as one path segment: every byte but the unreserved ones (A-Z a-z 0-9 - . _ ~)
// as %XX, so that a '/' or a '?' in a username stays inside its segment.
std::string percent_encode_segment(std::string_view text);

// The decoded value of the first parameter named `name` in a query string ("a=1&b=2", without
// the '?'). A parameter without '=' has an empty value. nullopt when absent or malformed.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

}  // namespace eventfeed::http
