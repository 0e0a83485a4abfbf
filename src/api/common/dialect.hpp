// api/common/dialect.hpp: the seam between the server and one HTTP dialect.
//
// A dialect is a plug-in of the server: it reads its own sections of the config file, then
// installs its routes, its error shape and its background tasks on the platform the server
// hands it. The server knows dialects only through this interface and one list of factories
// (server/dialects.cpp), so adding a dialect touches `server/` in one place.
//
// Lifecycle: created by the config parser (one instance per server configuration), `configure`d
// with the document's root table, then `install`ed once by the app before the server listens.
// After that its handlers run on the I/O threads, and on SIGHUP the app hands it a freshly
// configured instance of itself to `reload` from.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "feed/feed.hpp"
#include "feed/task_group.hpp"
#include "http/router.hpp"

namespace eventfeed::api::common {

class config_table;
class credential_store;

// What the server gives every dialect when it installs.
struct platform {
  http::router& routes;
  feed::engine& feed;
  const core::clock& clock;
  feed::task_group& tasks;  // for periodic work (queue collection); stopped before the store
  // The externally visible base URL (`[server] public_url`, default http:// and the listening
  // address), without a trailing slash, for dialects that hand out absolute URLs. Set once the
  // server has bound its port and before any request is served; read-only afterwards.
  std::string public_url;
  // Credentials created at runtime (stored_credentials.hpp), shared by every dialect: each
  // puts those of its kinds into its key ring and rebuilds the ring on every change. Null
  // when the server runs without (unit tests).
  credential_store* credentials = nullptr;
};

class dialect {
 public:
  virtual ~dialect() = default;

  // A short name for logs ("native", "zulip").
  virtual std::string_view name() const noexcept = 0;
  // The top-level config keys this dialect owns (`[zulip]`, `[[keys]]`): the parser refuses
  // every top-level key that no dialect and not the server owns.
  virtual std::vector<std::string> sections() const = 0;
  // Reads its sections from the document's root (each may be absent, meaning the defaults).
  // Returns false with the problem recorded in the root's errors.
  virtual bool configure(const config_table& root) = 0;
  // Registers its routes, error renderer and background tasks. Called once.
  virtual void install(platform& p) = 0;
  // Adopts what may change while the server runs (credentials, a dialect's rooms or users) from
  // `fresh`: an instance of the same dialect configured from the reloaded file, never
  // installed. Requests admitted before keep going (a parked poll is not disturbed); requests
  // after see the new credentials. Called on the main thread after install. The default keeps
  // everything.
  virtual void reload(dialect& fresh) { (void)fresh; }
};

}  // namespace eventfeed::api::common
