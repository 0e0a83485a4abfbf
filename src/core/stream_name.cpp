#include "core/stream_name.hpp"

namespace eventfeed::core {

namespace {
bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '{' ||
         c == '}' || c == ':' || c == '.' || c == '_' || c == '-';
}
}  // namespace

bool is_valid_stream_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > max_stream_name) return false;
  for (char c : name)
    if (!is_name_char(c)) return false;
  return true;
}

result<std::string> parse_stream_name(std::string_view name) {
  if (name.empty()) return {errc::invalid_stream, "stream name is empty"};
  if (name.size() > max_stream_name)
    return {errc::invalid_stream, "stream name is longer than 200 characters"};
  for (char c : name)
    if (!is_name_char(c))
      return {errc::invalid_stream,
              "stream name may only contain letters, digits and {}:._- characters"};
  return std::string(name);
}

std::string_view stream_tag(std::string_view name) noexcept {
  auto open = name.find('{');
  if (open == std::string_view::npos) return name;
  auto close = name.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return name;
  return name.substr(open + 1, close - open - 1);
}

bool stream_pattern::matches(std::string_view name) const noexcept {
  // Iterative glob with single-star backtracking: O(len(glob) * len(name)) worst case.
  std::string_view g = glob_;
  std::size_t gi = 0, ni = 0, star = std::string_view::npos, mark = 0;
  while (ni < name.size()) {
    if (gi < g.size() && g[gi] == '*') {
      star = gi++;
      mark = ni;
    } else if (gi < g.size() && g[gi] == name[ni]) {
      ++gi;
      ++ni;
    } else if (star != std::string_view::npos) {
      gi = star + 1;
      ni = ++mark;
    } else {
      return false;
    }
  }
  while (gi < g.size() && g[gi] == '*') ++gi;
  return gi == g.size();
}

}  // namespace eventfeed::core
