#include "loadgen/http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace eventfeed::bench {

namespace {
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
}

net::awaitable<beast::error_code> http_connection::connect(const tcp::endpoint& ep,
                                                           std::chrono::milliseconds timeout) {
  close();
  buffer_.clear();
  stream_.expires_after(timeout);
  auto [ec] = co_await stream_.async_connect(ep, use_tuple);
  if (!ec) {
    beast::error_code ignored;
    stream_.socket().set_option(tcp::no_delay(true), ignored);
  }
  co_return ec;
}

net::awaitable<beast::error_code> http_connection::exchange(const request& req, response& res,
                                                            std::chrono::milliseconds timeout) {
  stream_.expires_after(timeout);
  auto [wec, wn] = co_await bhttp::async_write(stream_, req, use_tuple);
  if (wec) {
    close();
    co_return wec;
  }
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64u << 20);
  auto [rec, rn] = co_await bhttp::async_read(stream_, buffer_, parser, use_tuple);
  if (rec) {
    close();
    co_return rec;
  }
  res = parser.release();
  if (!res.keep_alive()) close();
  co_return beast::error_code{};
}

void http_connection::close() {
  beast::error_code ignored;
  if (stream_.socket().is_open()) {
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }
}

}  // namespace eventfeed::bench
