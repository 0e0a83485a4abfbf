#include "core/filter.hpp"

#include <algorithm>

namespace eventfeed::core {

event_filter::event_filter(std::vector<std::string> types) : types_(std::move(types)) {
  std::sort(types_.begin(), types_.end());
  types_.erase(std::unique(types_.begin(), types_.end()), types_.end());
}

bool event_filter::accepts(std::string_view type) const noexcept {
  if (types_.empty()) return true;
  return std::binary_search(types_.begin(), types_.end(), type, std::less<>{});
}

result<event_filter> parse_type_list(std::string_view csv) {
  std::vector<std::string> types;
  if (csv.empty()) return event_filter{};
  std::size_t start = 0;
  while (true) {
    auto comma = csv.find(',', start);
    auto item = csv.substr(start, comma == std::string_view::npos ? csv.npos : comma - start);
    if (item.empty()) return {errc::bad_request, "event type list has an empty item"};
    if (item.size() > 200) return {errc::bad_request, "event type is longer than 200 characters"};
    types.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return event_filter{std::move(types)};
}

}  // namespace eventfeed::core
