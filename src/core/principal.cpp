#include "core/principal.hpp"

#include <algorithm>

namespace eventfeed::core {

namespace {
bool any_match(const std::vector<stream_pattern>& patterns, std::string_view stream) noexcept {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const stream_pattern& p) { return p.matches(stream); });
}
}  // namespace

bool principal::may_publish(std::string_view stream) const noexcept {
  return any_match(publish, stream);
}

bool principal::may_read(std::string_view stream) const noexcept {
  return std::find(streams.begin(), streams.end(), stream) != streams.end() ||
         any_match(read, stream);
}

std::string_view principal::home_stream() const noexcept {
  return streams.empty() ? std::string_view{} : std::string_view(streams.front());
}

}  // namespace eventfeed::core
