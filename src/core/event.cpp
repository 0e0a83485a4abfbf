#include "core/event.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace eventfeed::core {

render_cache::~render_cache() {
  for (auto& slot : slots_) delete slot.load(std::memory_order_relaxed);
}

data_cache::~data_cache() {
  delete value_.load(std::memory_order_relaxed);
}

const boost::json::value& data_cache::get_or_parse(std::string_view text) const {
  if (const boost::json::value* cached = value_.load(std::memory_order_acquire)) return *cached;
  boost::system::error_code ec;
  auto parsed = std::make_unique<boost::json::value>(boost::json::parse(text, ec));
  if (ec) *parsed = nullptr;
  return detail::publish_once(value_, std::move(parsed));
}

}  // namespace eventfeed::core
