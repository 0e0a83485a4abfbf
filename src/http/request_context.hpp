// http/request_context.hpp: what a handler sees of one request.
//
// Besides the request, its path captures and query, it offers `until_disconnect`: run an
// awaitable (a long-poll) while watching the connection, and cancel it the moment the client
// goes away, so that a parked waiter is freed at once rather than at its deadline. Bytes a
// client pipelines meanwhile are kept in the connection's buffer for the next request.
//
// Thread affinity: a context lives on its connection's executor and must only be used there.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "http/router.hpp"

namespace eventfeed::http {

class request_context {
 public:
  request_context(const request& req, route_params params, std::string_view request_id,
                  const router& routes, beast::tcp_stream* stream, beast::flat_buffer* buffer,
                  std::size_t buffer_limit);

  const request& req() const noexcept { return req_; }
  std::string_view path() const noexcept { return path_; }
  std::string_view request_id() const noexcept { return request_id_; }
  const route_params& params() const noexcept { return params_; }
  // The decoded value of a path capture; the route guarantees it exists.
  const std::string& param(std::string_view name) const;
  // The decoded value of the first query parameter `name`, if present.
  std::optional<std::string> query(std::string_view name) const;
  // The value of a header, or empty.
  std::string_view header(bhttp::field f) const;

  // An error response in the shape of the API owning this path.
  response error(bhttp::status status, std::string_view code, std::string_view message) const {
    return routes_.render_error(path_, status, code, message);
  }

  // Runs `work`; if the client disconnects first, cancels it and returns nullopt.
  template <class T>
  net::awaitable<std::optional<T>> until_disconnect(net::awaitable<T> work) {
    using namespace net::experimental::awaitable_operators;
    if (!stream_) co_return co_await std::move(work);  // tests without a socket
    auto r = co_await (std::move(work) || watch_disconnect());
    if (r.index() == 0) co_return std::move(std::get<0>(r));
    co_return std::nullopt;
  }

 private:
  // Completes when the peer closes or resets the connection; never otherwise (it is cancelled
  // by until_disconnect when the work finishes first).
  net::awaitable<void> watch_disconnect();

  const request& req_;
  route_params params_;
  std::string_view request_id_;
  const router& routes_;
  beast::tcp_stream* stream_;
  beast::flat_buffer* buffer_;
  std::size_t buffer_limit_;
  std::string_view path_;
  std::string_view query_;
};

}  // namespace eventfeed::http
