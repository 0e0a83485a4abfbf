#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdio>
#include <random>

#include "http/connection.hpp"

namespace eventfeed::http {

using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

namespace {

net::awaitable<void> run_session(connection_shared& shared, tcp::socket socket,
                                 std::shared_ptr<net::cancellation_signal> signal) {
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  beast::tcp_stream stream(std::move(socket));
  co_await serve_connection(stream, shared, std::move(signal));
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.socket().close(ignored);
}

net::awaitable<void> accept_loop(connection_shared& st, tcp::acceptor& acceptor,
                                 std::vector<std::unique_ptr<net::io_context>>& contexts) {
  std::size_t next = 0;
  net::steady_timer backoff(acceptor.get_executor());
  for (;;) {
    auto& target = *contexts[next++ % contexts.size()];
    auto [ec, socket] = co_await acceptor.async_accept(target, use_tuple);
    if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of file descriptors (or a transient error): say so and back off instead of spinning.
      spdlog::warn("accept failed: {}", ec.message());
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(use_tuple);
      continue;
    }
    spawn_session(
        target.get_executor(),
        [&st, s = std::move(socket)](std::shared_ptr<net::cancellation_signal> signal) mutable {
          return run_session(st, std::move(s), std::move(signal));
        },
        [](std::exception_ptr) {});
  }
}

}  // namespace

server::server(server_options options, const router& routes)
    : options_(std::move(options)), routes_(routes) {
  unsigned n =
      options_.threads ? options_.threads : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) contexts_.push_back(std::make_unique<net::io_context>(1));
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

void server::start() {
  auto address = net::ip::make_address(options_.address);
  tcp::endpoint ep(address, options_.port);
  acceptor_ = std::make_unique<tcp::acceptor>(*contexts_[0]);
  try {
    acceptor_->open(ep.protocol());
    acceptor_->set_option(tcp::acceptor::reuse_address(true));
    acceptor_->bind(ep);
    acceptor_->listen(net::socket_base::max_listen_connections);
  } catch (const boost::system::system_error& e) {
    throw std::system_error(
        e.code(), "cannot listen on " + options_.address + ":" + std::to_string(options_.port));
  }
  port_ = acceptor_->local_endpoint().port();
  net::co_spawn(*contexts_[0], accept_loop(*shared_, *acceptor_, contexts_), net::detached);
  for (auto& ctx : contexts_) {
    work_.push_back(net::make_work_guard(*ctx));
    threads_.emplace_back([c = ctx.get()] { c->run(); });
  }
}

void server::every(std::chrono::milliseconds period, std::function<void()> fn) {
  net::co_spawn(
      *contexts_[0],
      [this, period, fn = std::move(fn)]() -> net::awaitable<void> {
        net::steady_timer timer(*contexts_[0]);
        while (!shared_->stopping.load()) {
          timer.expires_after(period);
          co_await timer.async_wait(use_tuple);
          fn();
        }
      },
      net::detached);
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
  // clients; a control thread may poll this counter, I/O threads never block on it.
  const auto until = std::chrono::steady_clock::now() + grace;
  while (shared_->in_flight.load() > 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  work_.clear();
  for (auto& ctx : contexts_) ctx->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace eventfeed::http
