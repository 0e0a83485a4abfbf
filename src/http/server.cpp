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

#include "http/request_context.hpp"

namespace eventfeed::http {

using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

struct server::shared_state {
  const server_options& options;
  const router& routes;
  std::atomic<std::size_t>& connections;
  std::atomic<std::size_t>& in_flight;
  std::atomic<bool>& stopping;
  std::string id_prefix;
  std::atomic<std::uint64_t> next_id{0};

  std::string make_request_id() {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s-%llx", id_prefix.c_str(),
                  static_cast<unsigned long long>(next_id.fetch_add(1, std::memory_order_relaxed)));
    return buf;
  }
};

namespace {

struct counted {
  std::atomic<std::size_t>& n;
  explicit counted(std::atomic<std::size_t>& c) : n(c) { n.fetch_add(1, std::memory_order_relaxed); }
  ~counted() { n.fetch_sub(1, std::memory_order_relaxed); }
};

// Classifies a failed request read: the status to answer with, or none (just close).
std::optional<std::pair<bhttp::status, std::string_view>> read_failure(beast::error_code ec) {
  if (ec == bhttp::error::header_limit)
    return std::pair{bhttp::status::request_header_fields_too_large, "headers_too_large"};
  if (ec == bhttp::error::body_limit)
    return std::pair{bhttp::status::payload_too_large, "payload_too_large"};
  if (ec.category() == beast::error_code(bhttp::error::header_limit).category() &&
      ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message)
    return std::pair{bhttp::status::bad_request, "malformed_http"};
  return std::nullopt;  // closed, reset, timed out: nobody to answer
}

std::string_view failure_message(bhttp::status status, const server_options& o, std::string& buf) {
  switch (status) {
    case bhttp::status::request_header_fields_too_large:
      buf = "request header block is larger than " + std::to_string(o.max_header_bytes) + " bytes";
      break;
    case bhttp::status::payload_too_large:
      buf = "request body is larger than " + std::to_string(o.max_body_bytes) + " bytes";
      break;
    default: buf = "request is not valid HTTP/1.1"; break;
  }
  return buf;
}

void finish_headers(response& res, unsigned version, bool keep_alive, std::string_view id,
                    const server_options& o) {
  res.version(version);
  res.keep_alive(keep_alive);
  res.set(bhttp::field::server, o.server_header);
  res.set("X-Request-Id", id);
  if (res.find(bhttp::field::cache_control) == res.end())
    res.set(bhttp::field::cache_control, "no-store");
  res.prepare_payload();
}

net::awaitable<response> run_handler(server::shared_state& st, const request& req,
                                     std::string_view id, beast::tcp_stream& stream,
                                     beast::flat_buffer& buffer) {
  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));
  auto match = st.routes.find(req.method(), path);
  if (!match.h) {
    if (match.path_known)
      co_return st.routes.render_error(path, bhttp::status::method_not_allowed,
                                       "method_not_allowed", "method not allowed on this path");
    co_return st.routes.render_error(path, bhttp::status::not_found, "not_found",
                                     "no such endpoint");
  }
  request_context ctx(req, std::move(match.params), id, st.routes, &stream, &buffer,
                      st.options.max_header_bytes + st.options.max_body_bytes);
  try {
    co_return co_await (*match.h)(ctx);
  } catch (const std::exception& e) {
    spdlog::error("request {} {} failed: {}", id, target, e.what());
  }
  co_return st.routes.render_error(path, bhttp::status::internal_server_error, "internal",
                                   "internal error");
}

net::awaitable<void> run_session(server::shared_state& st, tcp::socket socket) {
  counted connection(st.connections);
  const auto& o = st.options;
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  std::string message_buf;

  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(o.max_header_bytes));
    parser.body_limit(o.max_body_bytes);

    stream.expires_after(o.idle_timeout);
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple);
    if (!ec && !parser.is_done()) {
      if (parser.get()[bhttp::field::expect] == "100-continue") {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
        stream.expires_after(o.write_timeout);
        std::tie(ec, n) = co_await bhttp::async_write(stream, cont, use_tuple);
      }
      if (!ec) {
        stream.expires_after(o.read_timeout);
        std::tie(ec, n) = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
      }
    }
    if (ec) {
      if (auto failure = read_failure(ec)) {
        const std::string id = st.make_request_id();
        std::string_view target = parser.is_header_done() ? parser.get().target() : "/";
        std::string_view path = target.substr(0, target.find('?'));
        auto res = st.routes.render_error(path, failure->first, failure->second,
                                          failure_message(failure->first, o, message_buf));
        finish_headers(res, 11, false, id, o);
        stream.expires_after(o.write_timeout);
        co_await bhttp::async_write(stream, res, use_tuple);
        if (o.access_log)
          spdlog::info("{} - {} 0 {} rejected: {}", id, static_cast<unsigned>(failure->first),
                       res.body().size(), ec.message());
      }
      break;
    }

    request req = parser.release();
    const std::string id = st.make_request_id();
    counted active(st.in_flight);
    const auto started = std::chrono::steady_clock::now();
    stream.expires_never();
    response res = co_await run_handler(st, req, id, stream, buffer);
    const bool keep_alive =
        req.keep_alive() && res.keep_alive() && !st.stopping.load(std::memory_order_relaxed);
    finish_headers(res, req.version(), keep_alive, id, o);
    stream.expires_after(o.write_timeout);
    auto [wec, wn] = co_await bhttp::async_write(stream, res, use_tuple);
    if (o.access_log) {
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
      spdlog::info("{} {} {} {} {} {}us{}", id, std::string_view(req.method_string()),
                   std::string_view(req.target()), static_cast<unsigned>(res.result_int()), wn, us,
                   wec ? " write failed: " + wec.message() : "");
    }
    if (wec || !keep_alive) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.socket().close(ignored);
}

net::awaitable<void> accept_loop(server::shared_state& st, tcp::acceptor& acceptor,
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
    net::co_spawn(target, run_session(st, std::move(socket)), net::detached);
  }
}

}  // namespace

server::server(server_options options, const router& routes)
    : options_(std::move(options)), routes_(routes) {
  unsigned n = options_.threads ? options_.threads : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) contexts_.push_back(std::make_unique<net::io_context>(1));
  std::random_device rd;
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%06x", rd() & 0xffffffu);
  state_ = std::unique_ptr<shared_state>(
      new shared_state{options_, routes_, connections_, in_flight_, stopping_, prefix});
}

server::~server() {
  if (!threads_.empty()) stop(std::chrono::milliseconds(0));
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
    throw std::system_error(e.code(), "cannot listen on " + options_.address + ":" +
                                          std::to_string(options_.port));
  }
  port_ = acceptor_->local_endpoint().port();
  net::co_spawn(*contexts_[0], accept_loop(*state_, *acceptor_, contexts_), net::detached);
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
        while (!stopping_.load()) {
          timer.expires_after(period);
          co_await timer.async_wait(use_tuple);
          fn();
        }
      },
      net::detached);
}

void server::stop(std::chrono::milliseconds grace) {
  if (stopped_.exchange(true)) return;
  stopping_.store(true);
  if (acceptor_) {
    net::post(*contexts_[0], [this] {
      beast::error_code ignored;
      acceptor_->close(ignored);
    });
  }
  // Let answers already being produced (parked polls the feed has just woken) reach their
  // clients; a control thread may poll this counter, I/O threads never block on it.
  const auto until = std::chrono::steady_clock::now() + grace;
  while (in_flight_.load() > 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  work_.clear();
  for (auto& ctx : contexts_) ctx->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace eventfeed::http
