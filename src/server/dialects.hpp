// server/dialects.hpp: the list of dialects the server offers. The one place in `server/` that
// names them: a new dialect adds its factory to `builtin_dialects()` and links its library into
// eventfeed_server.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "api/common/dialect.hpp"

namespace eventfeed::server {

using dialect_factory = std::function<std::unique_ptr<api::common::dialect>()>;

// Factories of the dialects a configuration gets, in the order they install (routes of a
// later dialect never shadow an earlier one's).
struct dialect_registry {
  std::vector<dialect_factory> factories;
};

dialect_registry builtin_dialects();

}  // namespace eventfeed::server
