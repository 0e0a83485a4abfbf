// server/app.hpp: the one place where everything is wired together: config → store, feed,
// dialects (their routes), HTTP server, background tasks; and the graceful stop sequence.
#pragma once

#include <functional>
#include <memory>

#include "api/common/dialect.hpp"
#include "api/common/stored_credentials.hpp"
#include "core/clock.hpp"
#include "feed/feed.hpp"
#include "feed/task_group.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "server/config.hpp"
#include "store/store.hpp"

namespace eventfeed::server {

class app {
 public:
  // Throws std::runtime_error with a message for the operator if the store cannot open.
  explicit app(config cfg);
  ~app();

  // Listens and starts the I/O threads and the background tasks; throws std::system_error if
  // the address is taken.
  void start();
  // Graceful stop: parked polls are answered, background tasks end, in-flight responses get
  // `shutdown_grace` to finish, then threads stop and the store closes. Idempotent.
  void stop();
  // Hands each installed dialect the instance of itself that `fresh` configured (dialect.hpp,
  // `reload`): new credentials, rooms and users take effect for the next request; parked polls
  // go on. Everything else in `fresh` (listen address, store, limits) needs a restart. Call
  // from the main thread.
  void reload(config& fresh);

  unsigned short port() const noexcept { return server_->port(); }
  feed::engine& engine() noexcept { return *feed_; }
  const std::string& public_url() const noexcept { return platform_->public_url; }

 private:
  config cfg_;
  core::system_clock clock_;
  std::unique_ptr<store::store> store_;
  std::unique_ptr<feed::engine> feed_;
  // Loaded from the store before the dialects install; lives as long as the store.
  std::unique_ptr<api::common::credential_store> credentials_;
  http::router routes_;
  std::unique_ptr<http::server> server_;
  // Its tasks run on the server's first context: declared after the server, so destroyed
  // before it (even when a constructor throws), while that context is still alive.
  std::unique_ptr<feed::task_group> tasks_;
  std::unique_ptr<api::common::platform> platform_;
  bool started_ = false;
  bool stopped_ = false;
};

// Where a reloaded configuration comes from (the config file, read again).
using config_source = std::function<core::result<config>()>;

// Runs the server until SIGINT or SIGTERM, then stops gracefully; on SIGHUP, reloads through
// `reload_from` (if given) what can change while running. Returns the exit code.
int serve(config cfg, config_source reload_from = {});

}  // namespace eventfeed::server
