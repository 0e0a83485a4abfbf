// http/connection.hpp: one HTTP/1.1 connection, from the first byte to close, over any Beast
// stream: `beast::tcp_stream` in the server, `beast::test::stream` in unit tests.
//
// The loop: read a request (headers within `idle_timeout`, then the body within `read_timeout`,
// answering `Expect: 100-continue`), route it, run the handler, write the answer within
// `write_timeout`, and loop while keep-alive holds. Limits answer before any handler runs:
// headers over `max_header_bytes` → 431, a body over `max_body_bytes` → 413, malformed HTTP →
// 400, each in the error shape of the API that owns the path, and then the connection closes.
// Timeouts exist only on streams that have them (`expires_after`); a test stream has none.
//
// While a handler runs, the connection can watch for the peer going away (connection_io): a
// read into the connection's buffer that completes on EOF or reset. Bytes a client pipelines
// meanwhile stay in the buffer and are parsed as the next request.
//
// Thread affinity: a connection runs on one executor for its whole life.
#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "http/request_context.hpp"
#include "http/router.hpp"
#include "http/server_options.hpp"

namespace eventfeed::http {

// State shared by every connection of one server. Thread-safe.
struct connection_shared {
  connection_shared(const server_options& o, const router& r, std::string prefix = "req")
      : options(o), routes(r), id_prefix(std::move(prefix)) {}

  const server_options& options;
  const router& routes;
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> in_flight{0};  // requests read and not yet answered
  std::atomic<bool> stopping{false};      // answer with Connection: close from now on
  std::string id_prefix;
  std::atomic<std::uint64_t> next_id{0};

  std::string make_request_id();
};

namespace detail {

struct counted {
  std::atomic<std::size_t>& n;
  explicit counted(std::atomic<std::size_t>& c) : n(c) {
    n.fetch_add(1, std::memory_order_relaxed);
  }
  ~counted() { n.fetch_sub(1, std::memory_order_relaxed); }
  counted(const counted&) = delete;
  counted& operator=(const counted&) = delete;
};

// A failed request read: the status and code to answer with, or none (peer gone or timed out).
struct read_failure {
  bhttp::status status;
  std::string_view code;
  std::string message;
};
std::optional<read_failure> classify_read_error(beast::error_code ec, const server_options& o);

void finish_headers(response& res, unsigned version, bool keep_alive, std::string_view id,
                    const server_options& o);

net::awaitable<response> run_handler(connection_shared& shared, const request& req,
                                     std::string_view id, connection_io* io);

template <class Stream>
void expire_after(Stream& stream, std::chrono::milliseconds d) {
  if constexpr (requires { stream.expires_after(d); }) stream.expires_after(d);
}
template <class Stream>
void expire_never(Stream& stream) {
  if constexpr (requires { stream.expires_never(); }) stream.expires_never();
}

template <class Stream>
class connection final : public connection_io {
 public:
  connection(Stream& stream, beast::flat_buffer& buffer, std::size_t buffer_limit)
      : stream_(stream), buffer_(buffer), buffer_limit_(buffer_limit) {}

  net::awaitable<void> watch_disconnect() override {
    for (;;) {
      if (buffer_.size() >= buffer_limit_) break;  // a pipelining client is not gone; stop reading
      auto [ec, n] =
          co_await stream_.async_read_some(buffer_.prepare(512), net::as_tuple(net::use_awaitable));
      if (ec) co_return;  // closed, reset, or cancelled because the handler finished
      buffer_.commit(n);
    }
    net::steady_timer forever(stream_.get_executor(), net::steady_timer::time_point::max());
    co_await forever.async_wait(net::as_tuple(net::use_awaitable));
  }

 private:
  Stream& stream_;
  beast::flat_buffer& buffer_;
  std::size_t buffer_limit_;
};

}  // namespace detail

// Serves requests on `stream` until the peer closes, an error, or a response without
// keep-alive. Does not close the stream; the caller owns it.
template <class Stream>
net::awaitable<void> serve_connection(Stream& stream, connection_shared& shared) {
  constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
  detail::counted connection_count(shared.connections);
  const auto& o = shared.options;
  beast::flat_buffer buffer;
  detail::connection<Stream> io(stream, buffer, o.max_header_bytes + o.max_body_bytes);

  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(o.max_header_bytes));
    parser.body_limit(o.max_body_bytes);

    detail::expire_after(stream, o.idle_timeout);
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple);
    if (!ec && !parser.is_done()) {
      if (parser.get()[bhttp::field::expect] == "100-continue") {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
        detail::expire_after(stream, o.write_timeout);
        std::tie(ec, n) = co_await bhttp::async_write(stream, cont, use_tuple);
      }
      if (!ec) {
        detail::expire_after(stream, o.read_timeout);
        std::tie(ec, n) = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
      }
    }
    if (ec) {
      if (auto failure = detail::classify_read_error(ec, o)) {
        const std::string id = shared.make_request_id();
        std::string_view target = parser.is_header_done() ? parser.get().target() : "/";
        std::string_view path = target.substr(0, target.find('?'));
        auto res =
            shared.routes.render_error(path, failure->status, failure->code, failure->message);
        detail::finish_headers(res, 11, false, id, o);
        detail::expire_after(stream, o.write_timeout);
        co_await bhttp::async_write(stream, res, use_tuple);
        if (o.access_log)
          spdlog::info("{} - - {} {} rejected: {}", id, static_cast<unsigned>(failure->status),
                       res.body().size(), ec.message());
      }
      co_return;
    }

    request req = parser.release();
    const std::string id = shared.make_request_id();
    detail::counted active(shared.in_flight);
    const auto started = std::chrono::steady_clock::now();
    detail::expire_never(stream);
    response res = co_await detail::run_handler(shared, req, id, &io);
    const bool keep_alive =
        req.keep_alive() && res.keep_alive() && !shared.stopping.load(std::memory_order_relaxed);
    detail::finish_headers(res, req.version(), keep_alive, id, o);
    detail::expire_after(stream, o.write_timeout);
    auto [wec, wn] = co_await bhttp::async_write(stream, res, use_tuple);
    if (o.access_log) {
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
      spdlog::info("{} {} {} {} {} {}us{}", id, std::string_view(req.method_string()),
                   std::string_view(req.target()), static_cast<unsigned>(res.result_int()), wn, us,
                   wec ? " write failed: " + wec.message() : "");
    }
    if (wec || !keep_alive) co_return;
  }
}

}  // namespace eventfeed::http
