#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <pthread.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <cstdio>
#include <random>

#include "http/connection.hpp"
#include "http/timed_socket.hpp"

namespace eventfeed::http {

using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

namespace {

// Closes the connections of one context whose read or write deadline has passed (see
// timed_socket.hpp). Runs on that context until the server stops.
net::awaitable<void> sweep_loop(connection_shared& shared, deadline_list& deadlines) {
  net::steady_timer timer(co_await net::this_coro::executor);
  while (!shared.stopping.load(std::memory_order_relaxed)) {
    timer.expires_after(deadline_list::period);
    co_await timer.async_wait(use_tuple);
    deadlines.sweep(std::chrono::steady_clock::now());
  }
}

net::awaitable<void> accept_loop(connection_shared& st, tcp::acceptor& acceptor,
                                 std::vector<std::unique_ptr<net::io_context>>& contexts,
                                 std::vector<std::unique_ptr<deadline_list>>& deadlines) {
  std::size_t next = 0;
  net::steady_timer backoff(acceptor.get_executor());
  for (;;) {
    const std::size_t index = next++ % contexts.size();
    auto& target = *contexts[index];
    auto [ec, socket] = co_await acceptor.async_accept(target, use_tuple);
    if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of file descriptors (or a transient error): say so and back off instead of spinning.
      spdlog::warn("accept failed: {}", ec.message());
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(use_tuple);
      continue;
    }
    // The socket lives on the heap, owned by the session's completion handler, rather than in
    // a wrapper coroutine's frame: one frame less per connection. serve_connection only
    // borrows it; the handler shuts it down and closes it when the session ends.
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto stream = std::make_unique<timed_socket>(std::move(socket), *deadlines[index]);
    timed_socket& borrowed = *stream;
    // No cancellation signal is bound to the session (see connection_io): a parked poll is
    // cancelled through its own on_gone hook when the client leaves.
    net::co_spawn(target.get_executor(), serve_connection(borrowed, st),
                  [stream = std::move(stream)](std::exception_ptr) {
                    beast::error_code unused;
                    stream->socket().shutdown(tcp::socket::shutdown_send, unused);
                    stream->socket().close(unused);
                  });
  }
}

}  // namespace

server::server(server_options options, const router& routes)
    : options_(std::move(options)), routes_(routes) {
  unsigned n =
      options_.threads ? options_.threads : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) {
    contexts_.push_back(std::make_unique<net::io_context>(1));
    deadlines_.push_back(std::make_unique<deadline_list>());
  }
  std::random_device rd;
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%06x", rd() & 0xffffffu);
  shared_ = std::make_unique<connection_shared>(options_, routes_, prefix);
}

server::~server() {
  if (!threads_.empty()) stop(std::chrono::milliseconds(0));
  // Destroying a context destroys the sessions still suspended in it, and their destructors
  // touch `shared_`: the acceptor and the contexts go first, while `shared_` is alive.
  acceptor_.reset();
  work_.clear();
  contexts_.clear();
}

void server::listen() {
  if (acceptor_) return;
  auto address = net::ip::make_address(options_.address);
  tcp::endpoint ep(address, options_.port);
  acceptor_ = std::make_unique<tcp::acceptor>(*contexts_[0]);
  try {
    acceptor_->open(ep.protocol());
    acceptor_->set_option(tcp::acceptor::reuse_address(true));
    acceptor_->bind(ep);
    acceptor_->listen(net::socket_base::max_listen_connections);
  } catch (const boost::system::system_error& e) {
    acceptor_.reset();
    throw std::system_error(
        e.code(), "cannot listen on " + options_.address + ":" + std::to_string(options_.port));
  }
  port_ = acceptor_->local_endpoint().port();
}

void server::start() {
  listen();
  net::co_spawn(*contexts_[0], accept_loop(*shared_, *acceptor_, contexts_, deadlines_),
                net::detached);
  for (std::size_t i = 0; i < contexts_.size(); ++i)
    net::co_spawn(*contexts_[i], sweep_loop(*shared_, *deadlines_[i]), net::detached);
  for (std::size_t i = 0; i < contexts_.size(); ++i) {
    work_.push_back(net::make_work_guard(*contexts_[i]));
    threads_.emplace_back([c = contexts_[i].get(), i] {
      // Named for top -H, perf and gdb: "ef-io-0", "ef-io-1", ... (at most 15 characters).
      const std::string name = "ef-io-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      c->run();
    });
  }
}

net::any_io_executor server::executor() const {
  return contexts_.front()->get_executor();
}

std::size_t server::connections() const noexcept {
  return shared_->connections.load();
}
std::size_t server::in_flight() const noexcept {
  return shared_->in_flight.load();
}

void server::stop(std::chrono::milliseconds grace) {
  if (stopped_.exchange(true)) return;
  shared_->stopping.store(true);
  if (acceptor_) {
    net::post(*contexts_[0], [this] {
      beast::error_code ignored;
      acceptor_->close(ignored);
    });
  }
  // Let answers already being produced (parked polls the feed has just woken) reach their
  // clients: the last request to end wakes this (connection.hpp, in_flight_request).
  {
    std::unique_lock lock(shared_->idle_mutex);
    shared_->idle.wait_for(lock, grace, [this] { return shared_->in_flight.load() == 0; });
  }
  work_.clear();
  for (auto& ctx : contexts_) ctx->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace eventfeed::http
