#include "http/form.hpp"

#include "http/url_codec.hpp"

namespace eventfeed::http {

namespace {

char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool starts_with_ci(std::string_view text, std::string_view prefix) noexcept {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (lower(text[i]) != lower(prefix[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The value of parameter `name` in a header value's `; name=value` list (quotes removed).
std::optional<std::string_view> header_param(std::string_view value, std::string_view name) {
  std::size_t at = value.find(';');
  while (at != std::string_view::npos) {
    std::string_view rest = value.substr(at + 1);
    const auto next = rest.find(';');
    std::string_view item = trim(rest.substr(0, next));
    at = next == std::string_view::npos ? next : at + 1 + next;
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = trim(item.substr(0, eq));
    if (key.size() != name.size() || !starts_with_ci(key, name)) continue;
    std::string_view v = trim(item.substr(eq + 1));
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    return v;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> form::add_urlencoded(std::string_view text, bool strict) {
  while (!text.empty()) {
    const auto amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = eq == std::string_view::npos ? std::optional<std::string>(std::string())
                                              : percent_decode(pair.substr(eq + 1), true);
    if (!key || !value) {
      if (strict) return "the form body has a malformed %-escape";
      continue;
    }
    fields_.emplace_back(std::move(*key), std::move(*value));
  }
  return std::nullopt;
}

std::optional<std::string> form::add_multipart(std::string_view boundary, std::string_view body) {
  if (boundary.empty()) return "the multipart body's Content-Type names no boundary";
  const std::string delimiter = "--" + std::string(boundary);
  auto at = body.find(delimiter);
  if (at == std::string_view::npos) return "the multipart body has no part";
  for (;;) {
    at += delimiter.size();
    if (body.substr(at, 2) == "--") return std::nullopt;  // the closing delimiter
    if (body.substr(at, 2) != "\r\n") return "a multipart delimiter is not followed by CRLF";
    at += 2;
    const auto headers_end = body.find("\r\n\r\n", at);
    if (headers_end == std::string_view::npos) return "a multipart part has no header end";
    std::string_view headers = body.substr(at, headers_end - at);
    const auto content_start = headers_end + 4;
    const auto next = body.find("\r\n" + delimiter, content_start);
    if (next == std::string_view::npos) return "a multipart part is not closed";
    std::optional<std::string_view> name;
    while (!headers.empty()) {
      const auto eol = headers.find("\r\n");
      std::string_view line = headers.substr(0, eol);
      headers = eol == std::string_view::npos ? std::string_view{} : headers.substr(eol + 2);
      if (starts_with_ci(line, "content-disposition:")) name = header_param(line, "name");
    }
    if (!name) return "a multipart part has no Content-Disposition name";
    fields_.emplace_back(std::string(*name),
                         std::string(body.substr(content_start, next - content_start)));
    at = next + 2;
  }
}

std::optional<std::string> form::add_body(std::string_view content_type, std::string_view body) {
  if (body.empty()) return std::nullopt;
  if (starts_with_ci(content_type, "application/x-www-form-urlencoded"))
    return add_urlencoded(body, true);
  if (starts_with_ci(content_type, "multipart/form-data"))
    return add_multipart(header_param(content_type, "boundary").value_or(""), body);
  return std::nullopt;
}

void form::add_query(std::string_view query) {
  add_urlencoded(query, false);
}

const std::string* form::find(std::string_view name) const {
  for (const auto& [k, v] : fields_)
    if (k == name) return &v;
  return nullptr;
}

}  // namespace eventfeed::http
