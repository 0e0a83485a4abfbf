// core/string_hash.hpp: a transparent hash, so maps keyed by std::string can be searched with a
// std::string_view (no temporary string on every lookup of a stream name).
#pragma once

#include <functional>
#include <string_view>

namespace eventfeed::core {

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

}  // namespace eventfeed::core
