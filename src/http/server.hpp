// http/server.hpp: the HTTP/1.1 listener and its connections.
//
// Threads. `threads` io_contexts, one thread each. One acceptor (on the first context) hands
// each accepted socket to the next context in turn; a connection then lives on that one thread
// for its whole life, so its coroutine needs no strand.
//
// A connection is one coroutine: read a request (headers within `idle_timeout`, the body within
// `read_timeout`), route it, run the handler, write the answer within `write_timeout`, and loop
// while keep-alive holds. Limits answer before any handler runs: headers over
// `max_header_bytes` → 431, a body over `max_body_bytes` → 413, malformed HTTP → 400, each with
// a JSON body, then the connection is closed. Every response carries `X-Request-Id`.
//
// Shutdown (`stop`): the acceptor closes, responses in progress are allowed to finish (the feed
// answers parked polls itself), then after `grace` or once nothing is in progress the contexts
// are stopped and the threads joined.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http/router.hpp"

namespace eventfeed::http {

struct server_options {
  std::string address = "127.0.0.1";
  unsigned short port = 8080;  // 0: pick a free port (see server::port())
  unsigned threads = 0;        // 0: one per core
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds idle_timeout{60'000};  // keep-alive wait for the next request
  std::chrono::milliseconds read_timeout{30'000};  // to receive a request body
  std::chrono::milliseconds write_timeout{30'000};
  bool access_log = true;
  std::string server_header = "eventfeed";
};

class server {
 public:
  server(server_options options, const router& routes);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds and listens; throws std::system_error naming the address on failure.
  void start();
  // Runs `fn` on the first I/O thread every `period` until stop (the feed's ticker).
  void every(std::chrono::milliseconds period, std::function<void()> fn);
  // Closes the listener and, once in-flight responses finish or `grace` passes, stops and
  // joins the threads. Call from a thread that is not an I/O thread.
  void stop(std::chrono::milliseconds grace);

  unsigned short port() const noexcept { return port_; }
  std::size_t connections() const noexcept { return connections_.load(); }
  std::size_t in_flight() const noexcept { return in_flight_.load(); }

  struct shared_state;

 private:
  server_options options_;
  const router& routes_;
  std::vector<std::unique_ptr<net::io_context>> contexts_;
  // Keeps each context's run() from returning while it has no connection yet.
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::unique_ptr<net::ip::tcp::acceptor> acceptor_;
  std::unique_ptr<shared_state> state_;
  unsigned short port_ = 0;
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stopped_{false};
};

}  // namespace eventfeed::http
