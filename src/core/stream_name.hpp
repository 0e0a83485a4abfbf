// core/stream_name.hpp: stream names, `{tag}`s and the glob patterns that keys and retention
// rules use to name groups of streams.
#pragma once

#include <string>
#include <string_view>

#include "core/errc.hpp"

namespace eventfeed::core {

inline constexpr std::size_t max_stream_name = 200;

// True when `name` matches [A-Za-z0-9{}:._-]{1,200}.
bool is_valid_stream_name(std::string_view name) noexcept;

// Ok, or errc::invalid_stream with a message naming the problem.
result<std::string> parse_stream_name(std::string_view name);

// The `{tag}` of a stream name, Redis Cluster style: the text between the first '{' and the
// next '}', when it is non-empty; otherwise the whole name. Streams with the same tag share
// one position sequence.
std::string_view stream_tag(std::string_view name) noexcept;

// A glob over stream names where '*' matches any run of characters (including none) and every
// other character matches itself: `room:*`, `*`, `{acme}*`, `user:42`.
class stream_pattern {
 public:
  explicit stream_pattern(std::string glob) : glob_(std::move(glob)) {}
  bool matches(std::string_view name) const noexcept;
  const std::string& text() const noexcept { return glob_; }

 private:
  std::string glob_;
};

}  // namespace eventfeed::core
