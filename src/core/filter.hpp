// core/filter.hpp: which events a consumer wants, by event type.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/errc.hpp"
#include "core/event.hpp"

namespace eventfeed::core {

class event_filter {
 public:
  event_filter() = default;  // accepts everything
  explicit event_filter(std::vector<std::string> types);

  bool accepts_all() const noexcept { return types_.empty(); }
  bool accepts(std::string_view type) const noexcept;
  bool accepts(const event& ev) const noexcept { return accepts(ev.type); }
  const std::vector<std::string>& types() const noexcept { return types_; }

 private:
  std::vector<std::string> types_;  // sorted, unique; empty = all
};

// Parses a comma-separated list ("tip,follow"). Empty items are rejected; an empty or absent
// list means "every type".
result<event_filter> parse_type_list(std::string_view csv);

}  // namespace eventfeed::core
