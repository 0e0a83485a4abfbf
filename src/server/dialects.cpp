#include "server/dialects.hpp"

#include "api/box/box_dialect.hpp"
#include "api/chaturbate/chaturbate_dialect.hpp"
#include "api/native/native_dialect.hpp"
#include "api/zulip/zulip_dialect.hpp"

namespace eventfeed::server {

dialect_registry builtin_dialects() {
  dialect_registry r;
  r.factories.push_back([] { return std::make_unique<api::native::native_dialect>(); });
  r.factories.push_back([] { return std::make_unique<api::chaturbate::chaturbate_dialect>(); });
  r.factories.push_back([] { return std::make_unique<api::zulip::zulip_dialect>(); });
  r.factories.push_back([] { return std::make_unique<api::box::box_dialect>(); });
  return r;
}

}  // namespace eventfeed::server
