#include "http/request_context.hpp"

#include "http/url_codec.hpp"

namespace eventfeed::http {

request_context::request_context(const request& req, route_params params,
                                 std::string_view request_id, const router& routes,
                                 beast::tcp_stream* stream, beast::flat_buffer* buffer,
                                 std::size_t buffer_limit)
    : req_(req),
      params_(std::move(params)),
      request_id_(request_id),
      routes_(routes),
      stream_(stream),
      buffer_(buffer),
      buffer_limit_(buffer_limit) {
  std::string_view target = req_.target();
  auto q = target.find('?');
  path_ = target.substr(0, q);
  if (q != std::string_view::npos) query_ = target.substr(q + 1);
}

const std::string& request_context::param(std::string_view name) const {
  static const std::string empty;
  const std::string* v = params_.find(name);
  return v ? *v : empty;
}

std::optional<std::string> request_context::query(std::string_view name) const {
  return query_param(query_, name);
}

std::string_view request_context::header(bhttp::field f) const {
  auto it = req_.find(f);
  return it == req_.end() ? std::string_view{} : std::string_view(it->value());
}

net::awaitable<void> request_context::watch_disconnect() {
  auto& socket = stream_->socket();
  for (;;) {
    if (buffer_->size() >= buffer_limit_) break;  // stop reading; the client is not gone
    auto [ec, n] = co_await socket.async_read_some(buffer_->prepare(512),
                                                   net::as_tuple(net::use_awaitable));
    if (ec) co_return;  // closed, reset, or cancelled because the work finished
    buffer_->commit(n);
  }
  // Wait without reading until cancelled.
  net::steady_timer forever(socket.get_executor(), net::steady_timer::time_point::max());
  co_await forever.async_wait(net::as_tuple(net::use_awaitable));
}

}  // namespace eventfeed::http
