// server/app.hpp: the one place where everything is wired together: config → key ring, store,
// feed, routes, HTTP server, ticker; and the graceful stop sequence.
#pragma once

#include <memory>

#include "core/clock.hpp"
#include "core/principal.hpp"
#include "feed/feed.hpp"
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

  // Listens and starts the I/O threads; throws std::system_error if the address is taken.
  void start();
  // Graceful stop: parked polls are answered, in-flight responses get `shutdown_grace` to
  // finish, then threads stop and the store closes. Idempotent.
  void stop();

  unsigned short port() const noexcept { return server_->port(); }
  feed::engine& engine() noexcept { return *feed_; }

 private:
  config cfg_;
  core::system_clock clock_;
  core::key_ring keys_;
  std::unique_ptr<store::store> store_;
  std::unique_ptr<feed::engine> feed_;
  http::router routes_;
  std::unique_ptr<http::server> server_;
  bool stopped_ = false;
};

// Runs the server until SIGINT or SIGTERM, then stops gracefully. Returns the exit code.
int serve(config cfg);

}  // namespace eventfeed::server
