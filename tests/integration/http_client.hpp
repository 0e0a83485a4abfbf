// tests/integration/http_client.hpp: the test side of the wire.
//
// - `http_client`: one keep-alive connection, synchronous calls. Each call runs Beast's async
//   operations on the object's own io_context with a deadline, so a server that never answers
//   fails the test with "timed out" instead of hanging it. It reconnects only after a response
//   that said `Connection: close`, and counts its connections, so a test can prove that several
//   requests shared one.
// - `request_swarm`: many requests in flight at once (1,000 parked long-polls) without a thread
//   each: every request has its own connection, all driven by one io_context on one thread.
// - `raw_connection`: a plain blocking socket for what a well-behaved client never sends
//   (malformed HTTP, half a header, an oversized upload), reading until the server closes.
// - `wait_until`: re-checks a condition (usually a waiter count the server reports) until it
//   holds or a bound passes; tests wait on conditions, never on fixed sleeps.
//
// Thread affinity: every object belongs to the test thread that made it; `request_swarm`'s
// own I/O thread touches only its connections.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace eventfeed::integration {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_reply {
  unsigned status = 0;
  bhttp::fields headers;
  std::string body;
  bool keep_alive = true;

  // The value of header `name`, or empty.
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  // The body parsed as JSON; throws std::runtime_error (naming the body) if it is not JSON.
  boost::json::value json() const;
};
// For GoogleTest messages: status, headers and body.
std::ostream& operator<<(std::ostream& os, const http_reply& r);

// Parses every complete HTTP response in `bytes` (what a raw connection received).
std::vector<http_reply> parse_replies(std::string_view bytes);

class http_client {
 public:
  explicit http_client(unsigned short port, std::chrono::milliseconds timeout = 20s);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // Sends one request on this client's connection and reads the answer. Adds Host, and
  // Content-Type: application/json when there is a body and `headers` sets none. Throws
  // std::runtime_error on an I/O error or when the answer takes longer than the timeout.
  http_reply request(bhttp::verb method, std::string_view target, std::string_view body = {},
                     const header_list& headers = {});
  http_reply get(std::string_view target, const header_list& headers = {}) {
    return request(bhttp::verb::get, target, {}, headers);
  }
  http_reply post(std::string_view target, std::string_view body, const header_list& headers = {}) {
    return request(bhttp::verb::post, target, body, headers);
  }

  // Waits up to `timeout` for the server to close this connection (EOF or reset, with no
  // bytes before it); returns whether it did.
  bool wait_closed(std::chrono::milliseconds timeout);
  // How many TCP connections this client has opened so far.
  std::size_t connections_opened() const noexcept { return connects_; }

 private:
  void connect();

  net::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  unsigned short port_;
  std::chrono::milliseconds timeout_;
  bool connected_ = false;
  std::size_t connects_ = 0;
};

class request_swarm {
 public:
  struct outcome {
    bool done = false;
    beast::error_code ec;  // set if the request failed before a whole answer arrived
    http_reply reply;
    std::chrono::milliseconds elapsed{0};  // from start() to the end of the answer
  };

  explicit request_swarm(unsigned short port);
  ~request_swarm();
  request_swarm(const request_swarm&) = delete;
  request_swarm& operator=(const request_swarm&) = delete;

  // Starts GET `target` on a connection of its own; returns the request's index.
  std::size_t start(std::string target, header_list headers = {});
  // Waits up to `timeout` until every started request has completed; returns whether they did.
  bool wait_all(std::chrono::milliseconds timeout);
  // Waits up to `timeout` for request `i` to complete; returns whether it did.
  bool wait(std::size_t i, std::chrono::milliseconds timeout);
  std::size_t completed() const;
  std::size_t size() const;
  // A copy of request `i`'s outcome (done == false while it is in flight).
  outcome result(std::size_t i) const;
  // Closes request `i`'s socket, as a client that goes away would.
  void abort(std::size_t i);

 private:
  struct call;
  void finish(call& c, beast::error_code ec);

  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  unsigned short port_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<call>> calls_;
  std::size_t completed_ = 0;
  std::thread thread_;
};

class raw_connection {
 public:
  struct read_result {
    std::string data;
    bool closed = false;  // the server closed (EOF or reset); false: the timeout passed
    std::chrono::milliseconds elapsed{0};
  };

  // `receive_buffer` > 0 sets SO_RCVBUF before connecting: a small one makes the server's
  // writes of a large answer partial while the client does not read.
  explicit raw_connection(unsigned short port, int receive_buffer = 0);
  ~raw_connection();
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  // Sends `bytes`; returns false if the server already closed or reset the connection (which
  // a server rejecting an upload may do), true if everything was handed to the kernel.
  bool send(std::string_view bytes);
  // Reads until the server closes the connection or `timeout` passes.
  read_result read_until_closed(std::chrono::milliseconds timeout);
  void close();

 private:
  int fd_ = -1;
};

// Re-checks `condition` every few milliseconds until it returns true or `timeout` passes.
// `what` names the condition in the failure message.
::testing::AssertionResult wait_until(const std::function<bool()>& condition,
                                      std::chrono::milliseconds timeout, std::string_view what);

}  // namespace eventfeed::integration
