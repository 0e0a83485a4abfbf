#include "core/principal.hpp"

#include <algorithm>

namespace eventfeed::core {

namespace {
bool any_match(const std::vector<stream_pattern>& patterns, std::string_view stream) noexcept {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const stream_pattern& p) { return p.matches(stream); });
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}
}  // namespace

bool principal::may_publish(std::string_view stream) const noexcept {
  return any_match(publish, stream);
}

bool principal::may_read(std::string_view stream) const noexcept {
  return any_match(read, stream);
}

void key_ring::add(std::string key, principal who) {
  entries_.emplace_back(std::move(key), std::move(who));
}

const principal* key_ring::find(std::string_view key) const noexcept {
  const principal* found = nullptr;
  for (const auto& [k, p] : entries_)
    if (constant_time_equal(k, key) && !found) found = &p;
  return found;
}

std::optional<std::string_view> bearer_token(std::string_view authorization) noexcept {
  constexpr std::string_view scheme = "bearer ";
  if (authorization.size() <= scheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    char c = authorization[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != scheme[i]) return std::nullopt;
  }
  auto token = authorization.substr(scheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

}  // namespace eventfeed::core
