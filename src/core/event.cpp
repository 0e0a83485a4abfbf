#include "core/event.hpp"

namespace eventfeed::core {

render_cache::~render_cache() {
  for (auto& slot : slots_) delete slot.load(std::memory_order_relaxed);
}

}  // namespace eventfeed::core
