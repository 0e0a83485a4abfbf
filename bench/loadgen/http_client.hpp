// bench/loadgen/http_client.hpp: one keep-alive HTTP/1.1 client connection, as a coroutine API.
//
// `exchange` writes a request and reads its answer within one deadline; a connection the server
// closes (or an answer without keep-alive) is closed here, and the caller reconnects. No
// pipelining: one request in flight per connection, as a long-poll client does.
//
// Thread affinity: one connection is used from one executor only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>

#include "loadgen/protocol.hpp"

namespace eventfeed::bench {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

class http_connection {
 public:
  explicit http_connection(net::any_io_executor ex) : stream_(std::move(ex)) {}

  net::awaitable<beast::error_code> connect(const tcp::endpoint& ep,
                                            std::chrono::milliseconds timeout);
  // Sends `req`, reads the answer into `res`; both within `timeout`.
  net::awaitable<beast::error_code> exchange(const request& req, response& res,
                                             std::chrono::milliseconds timeout);
  bool is_open() const { return stream_.socket().is_open(); }
  void close();

 private:
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

}  // namespace eventfeed::bench
