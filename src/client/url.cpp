// client/url.cpp: base URLs and request-target encoding. Written by hand rather than with
// Boost.URL: Debian's compiled Boost.URL 1.81 reads past the end of string views that are not
// NUL-terminated (see http/url_codec.hpp), and we need only this much.
#include "client/url.hpp"

#include <charconv>
#include <cstdint>

#include "eventfeed/client.hpp"

namespace eventfeed {

namespace {

error url_error(std::string_view url, std::string_view why) {
  return error{error_kind::invalid_argument, 0, "invalid_url",
               "invalid URL '" + std::string(url) + "': " + std::string(why) +
                   " (expected http://host[:port][/prefix])"};
}

bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_unreserved(char c) noexcept {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

result<base_url> parse_url(std::string_view url) {
  if (url.empty()) return url_error(url, "it is empty");
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return url_error(url, "no http:// scheme");
  const std::string scheme = lower(url.substr(0, scheme_end));
  if (scheme == "https")
    return url_error(url,
                     "https is not supported by this client; use http:// (TLS belongs to a "
                     "proxy in front of the server)");
  if (scheme != "http") return url_error(url, "unsupported scheme '" + scheme + "'");

  std::string_view rest = url.substr(scheme_end + 3);
  const auto authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view path =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos)
    return url_error(url, "user info is not supported; pass the key separately");

  base_url out;
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return url_error(url, "unclosed '[' in the host");
    const std::string_view host = authority.substr(1, close - 1);
    if (host.empty()) return url_error(url, "no host");
    for (char c : host)
      if (!is_hex(c) && c != ':' && c != '.') return url_error(url, "invalid IPv6 address");
    out.host = std::string(host);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return url_error(url, "unexpected text after ']'");
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    const auto colon = authority.find(':');
    const std::string_view host = authority.substr(0, colon);
    if (host.empty()) return url_error(url, "no host");
    for (char c : host)
      if (!is_alpha(c) && !is_digit(c) && c != '.' && c != '-' && c != '_')
        return url_error(url, "invalid character '" + std::string(1, c) + "' in the host");
    out.host = std::string(host);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
  }
  if (has_port) {
    unsigned port = 0;
    const char* last = port_text.data() + port_text.size();
    auto [end, ec] = std::from_chars(port_text.data(), last, port);
    if (port_text.empty() || ec != std::errc{} || end != last || port == 0 || port > 65535)
      return url_error(url, "the port must be a number from 1 to 65535");
    out.port = static_cast<std::uint16_t>(port);
  }

  if (path.find_first_of("?#") != std::string_view::npos)
    return url_error(url, "a query or fragment is not allowed");
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '%') {
      if (i + 2 >= path.size() || !is_hex(path[i + 1]) || !is_hex(path[i + 2]))
        return url_error(url, "malformed %-escape in the path");
      continue;
    }
    const bool sub_delim = std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos;
    if (!is_unreserved(c) && !sub_delim && c != ':' && c != '@' && c != '/')
      return url_error(url, "invalid character in the path");
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out.prefix = std::string(path);
  return out;
}

namespace detail {

namespace {
std::string encode(std::string_view text, std::string_view also_plain) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (is_unreserved(c) || also_plain.find(c) != std::string_view::npos) {
      out.push_back(c);
    } else {
      const auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(hex[b >> 4]);
      out.push_back(hex[b & 0xF]);
    }
  }
  return out;
}
}  // namespace

std::string encode_path_segment(std::string_view text) {
  return encode(text, ":@");
}

std::string encode_query_value(std::string_view text) {
  return encode(text, "");
}

bool is_valid_stream_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 200) return false;
  for (char c : name) {
    if (!is_alpha(c) && !is_digit(c) &&
        std::string_view("{}:._-").find(c) == std::string_view::npos)
      return false;
  }
  return true;
}

bool is_valid_cursor(std::string_view after) noexcept {
  if (after.empty() || after == "now") return true;
  std::uint64_t pos = 0;
  const char* last = after.data() + after.size();
  auto [end, ec] = std::from_chars(after.data(), last, pos);
  return ec == std::errc{} && end == last && is_digit(after.front());
}

std::string format_seconds(std::chrono::milliseconds d) {
  const auto ms = d.count() < 0 ? std::int64_t{0} : static_cast<std::int64_t>(d.count());
  std::string out = std::to_string(ms / 1000);
  if (const auto frac = ms % 1000; frac != 0) {
    std::string digits = std::to_string(frac + 1000).substr(1);  // "005", "250", "500"
    while (digits.back() == '0') digits.pop_back();
    out += '.';
    out += digits;
  }
  return out;
}

}  // namespace detail
}  // namespace eventfeed
