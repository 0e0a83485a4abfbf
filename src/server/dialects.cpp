#include "server/dialects.hpp"

#include "api/native/native_dialect.hpp"

namespace eventfeed::server {

dialect_registry builtin_dialects() {
  dialect_registry r;
  r.factories.push_back([] { return std::make_unique<api::native::native_dialect>(); });
  return r;
}

}  // namespace eventfeed::server
