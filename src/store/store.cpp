#include "store/store.hpp"

namespace eventfeed::store {

const retention_rule& retention_policy::for_stream(std::string_view stream) const noexcept {
  for (const auto& rule : rules)
    if (rule.pattern.matches(stream)) return rule;
  return fallback;
}

}  // namespace eventfeed::store
