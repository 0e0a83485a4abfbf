// http/server.hpp: the HTTP/1.1 listener and its connections.
//
// Threads. `threads` io_contexts, one thread each. One acceptor (on the first context) hands
// each accepted socket to the next context in turn; a connection then lives on that one thread
// for its whole life, so its coroutine needs no strand.
//
// A connection is one coroutine (http/connection.hpp) on its thread's context, over a
// timed_socket whose read/write deadlines that context's sweep enforces (http/timed_socket.hpp).
//
// Shutdown (`stop`): the acceptor closes, responses in progress are allowed to finish (the feed
// answers parked polls itself), then after `grace` or once nothing is in progress the contexts
// are stopped and the threads joined.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
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
#include "http/server_options.hpp"

namespace eventfeed::http {

struct connection_shared;
class deadline_list;

class server {
 public:
  server(server_options options, const router& routes);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds and listens (once); throws std::system_error naming the address on failure. After
  // it, port() is the port bound, though nothing is accepted before start().
  void listen();
  // Listens if not yet done, then starts the I/O threads, which accept and serve.
  void start();
  // The first I/O context's executor (the acceptor's), for background work that belongs to
  // the server's threads.
  net::any_io_executor executor() const;
  // Closes the listener and, once in-flight responses finish or `grace` passes, stops and
  // joins the threads. Call from a thread that is not an I/O thread.
  void stop(std::chrono::milliseconds grace);

  unsigned short port() const noexcept { return port_; }
  std::size_t connections() const noexcept;
  std::size_t in_flight() const noexcept;

 private:
  server_options options_;
  const router& routes_;
  // One per context, same index: the deadlines of that context's connections. Declared before
  // the contexts so that they outlive the sessions (whose sockets unlink themselves).
  std::vector<std::unique_ptr<deadline_list>> deadlines_;
  std::vector<std::unique_ptr<net::io_context>> contexts_;
  // Keeps each context's run() from returning while it has no connection yet.
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::unique_ptr<net::ip::tcp::acceptor> acceptor_;
  std::unique_ptr<connection_shared> shared_;
  unsigned short port_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace eventfeed::http
