#include "http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <cerrno>
#include <cstring>
#include <ostream>
#include <stdexcept>

namespace eventfeed::integration {

namespace {

using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

std::chrono::milliseconds since(clock_type::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t);
}

tcp::endpoint loopback(unsigned short port) {
  return {net::ip::make_address_v4("127.0.0.1"), port};
}

http_reply to_reply(bhttp::response<bhttp::string_body>&& res) {
  http_reply r;
  r.status = res.result_int();
  r.keep_alive = res.keep_alive();
  for (const auto& field : res) r.headers.insert(field.name_string(), field.value());
  r.body = std::move(res.body());
  return r;
}

}  // namespace

std::string http_reply::header(std::string_view name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : std::string(it->value());
}

bool http_reply::has_header(std::string_view name) const {
  return headers.find(name) != headers.end();
}

boost::json::value http_reply::json() const {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec) throw std::runtime_error("response body is not JSON (" + ec.message() + "): " + body);
  return v;
}

std::ostream& operator<<(std::ostream& os, const http_reply& r) {
  os << "HTTP " << r.status << "\n";
  for (const auto& field : r.headers)
    os << "  " << field.name_string() << ": " << field.value() << "\n";
  if (r.body.size() > 2000)
    return os << r.body.substr(0, 2000) << "... (" << r.body.size() << " bytes)";
  return os << r.body;
}

std::vector<http_reply> parse_replies(std::string_view bytes) {
  std::vector<http_reply> out;
  while (!bytes.empty()) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.eager(true);
    parser.body_limit(64 << 20);
    std::size_t used = 0;
    beast::error_code ec;
    while (!parser.is_done() && used < bytes.size()) {
      const std::size_t n = parser.put(net::buffer(bytes.data() + used, bytes.size() - used), ec);
      used += n;
      if (ec || n == 0) break;
    }
    if (!parser.is_done()) break;  // an incomplete or invalid response ends the list
    out.push_back(to_reply(parser.release()));
    bytes.remove_prefix(used);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

http_client::http_client(unsigned short port, std::chrono::milliseconds timeout)
    : stream_(ioc_), port_(port), timeout_(timeout) {}

http_client::~http_client() {
  beast::error_code ignored;
  stream_.socket().close(ignored);
}

void http_client::connect() {
  beast::error_code ignored;
  stream_.socket().close(ignored);
  buffer_.clear();
  beast::error_code ec;
  stream_.expires_after(timeout_);
  stream_.async_connect(loopback(port_), [&](beast::error_code e) { ec = e; });
  ioc_.restart();
  ioc_.run();
  if (ec)
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port_) + ": " +
                             ec.message());
  connected_ = true;
  ++connects_;
}

http_reply http_client::request(bhttp::verb method, std::string_view target, std::string_view body,
                                const header_list& headers) {
  if (!connected_) connect();
  bhttp::request<bhttp::string_body> req{method, target, 11};
  req.set(bhttp::field::host, "127.0.0.1:" + std::to_string(port_));
  bool has_type = false;
  for (const auto& [name, value] : headers) {
    req.insert(name, value);
    has_type = has_type || beast::iequals(name, "content-type");
  }
  if (!body.empty() && !has_type) req.set(bhttp::field::content_type, "application/json");
  req.body() = std::string(body);
  req.prepare_payload();

  // Read while writing: a server may answer (413) before it has read the whole upload.
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 << 20);
  beast::error_code write_ec, read_ec;
  stream_.expires_after(timeout_);
  bhttp::async_write(stream_, req, [&](beast::error_code ec, std::size_t) { write_ec = ec; });
  bhttp::async_read(stream_, buffer_, parser,
                    [&](beast::error_code ec, std::size_t) { read_ec = ec; });
  ioc_.restart();
  ioc_.run();
  if (read_ec) {
    connected_ = false;
    beast::error_code ignored;
    stream_.socket().close(ignored);
    throw std::runtime_error(std::string(bhttp::to_string(method)) + " " + std::string(target) +
                             ": no answer: " + read_ec.message() +
                             (write_ec ? " (write: " + write_ec.message() + ")" : ""));
  }
  http_reply reply = to_reply(parser.release());
  // After `Connection: close` the next request needs a new connection; the old one stays open
  // on our side so that wait_closed() can watch the server close it.
  if (!reply.keep_alive || write_ec) connected_ = false;
  return reply;
}

bool http_client::wait_closed(std::chrono::milliseconds timeout) {
  if (buffer_.size() > 0) return false;  // the server sent more than one answer
  char byte = 0;
  beast::error_code ec;
  std::size_t n = 0;
  stream_.expires_after(timeout);
  stream_.async_read_some(net::buffer(&byte, 1), [&](beast::error_code e, std::size_t got) {
    ec = e;
    n = got;
  });
  ioc_.restart();
  ioc_.run();
  connected_ = false;
  return n == 0 && (ec == net::error::eof || ec == net::error::connection_reset);
}

// ---------------------------------------------------------------------------------------------

struct request_swarm::call {
  explicit call(net::io_context& ioc) : stream(ioc) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  bhttp::request<bhttp::empty_body> req;
  bhttp::response_parser<bhttp::string_body> parser;
  clock_type::time_point started;
  outcome out;  // guarded by the swarm's mutex
};

request_swarm::request_swarm(unsigned short port)
    : work_(net::make_work_guard(ioc_)), port_(port), thread_([this] { ioc_.run(); }) {}

request_swarm::~request_swarm() {
  net::post(ioc_, [this] {
    // Runs on the I/O thread, the only one that touches the streams.
    for (auto& c : calls_) {
      beast::error_code ignored;
      c->stream.socket().close(ignored);
    }
  });
  work_.reset();
  thread_.join();
}

std::size_t request_swarm::start(std::string target, header_list headers) {
  auto c = std::make_unique<call>(ioc_);
  c->req = {bhttp::verb::get, target, 11};
  c->req.set(bhttp::field::host, "127.0.0.1:" + std::to_string(port_));
  for (const auto& [name, value] : headers) c->req.insert(name, value);
  c->parser.body_limit(64 << 20);
  c->started = clock_type::now();
  call* p = c.get();
  std::size_t index = 0;
  {
    std::lock_guard lock(mutex_);
    calls_.push_back(std::move(c));
    index = calls_.size() - 1;
  }
  net::post(ioc_, [this, p] {
    p->stream.async_connect(loopback(port_), [this, p](beast::error_code ec) {
      if (ec) return finish(*p, ec);
      bhttp::async_write(p->stream, p->req, [this, p](beast::error_code wec, std::size_t) {
        if (wec) return finish(*p, wec);
        bhttp::async_read(p->stream, p->buffer, p->parser,
                          [this, p](beast::error_code rec, std::size_t) { finish(*p, rec); });
      });
    });
  });
  return index;
}

void request_swarm::finish(call& c, beast::error_code ec) {
  http_reply reply;
  if (!ec) reply = to_reply(c.parser.release());
  std::lock_guard lock(mutex_);
  if (c.out.done) return;
  c.out.done = true;
  c.out.ec = ec;
  c.out.reply = std::move(reply);
  c.out.elapsed = since(c.started);
  ++completed_;
  changed_.notify_all();
}

bool request_swarm::wait_all(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return completed_ == calls_.size(); });
}

bool request_swarm::wait(std::size_t i, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return calls_.at(i)->out.done; });
}

std::size_t request_swarm::completed() const {
  std::lock_guard lock(mutex_);
  return completed_;
}

std::size_t request_swarm::size() const {
  std::lock_guard lock(mutex_);
  return calls_.size();
}

request_swarm::outcome request_swarm::result(std::size_t i) const {
  std::lock_guard lock(mutex_);
  return calls_.at(i)->out;
}

void request_swarm::abort(std::size_t i) {
  call* p = nullptr;
  {
    std::lock_guard lock(mutex_);
    p = calls_.at(i).get();
  }
  net::post(ioc_, [p] {
    beast::error_code ignored;
    p->stream.socket().close(ignored);
  });
}

// ---------------------------------------------------------------------------------------------

raw_connection::raw_connection(unsigned short port, int receive_buffer) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  if (receive_buffer > 0)
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " +
                             std::strerror(err));
  }
}

raw_connection::~raw_connection() {
  close();
}

void raw_connection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool raw_connection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    // Bounded: a server that neither reads nor closes must not hang the test.
    pollfd p{fd_, POLLOUT, 0};
    const int ready = ::poll(&p, 1, 10'000);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) throw std::runtime_error("send: the server stopped reading for 10 s");
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      if (errno == EPIPE || errno == ECONNRESET) return false;
      throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

raw_connection::read_result raw_connection::read_until_closed(std::chrono::milliseconds timeout) {
  read_result r;
  const auto start = clock_type::now();
  const auto deadline = start + timeout;
  char buf[16384];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    if (left.count() <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      r.data.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n == 0 || errno == ECONNRESET) {
      r.closed = true;
      break;
    }
    throw std::runtime_error(std::string("recv: ") + std::strerror(errno));
  }
  r.elapsed = since(start);
  return r;
}

// ---------------------------------------------------------------------------------------------

::testing::AssertionResult wait_until(const std::function<bool()>& condition,
                                      std::chrono::milliseconds timeout, std::string_view what) {
  const auto start = clock_type::now();
  for (;;) {
    if (condition()) return ::testing::AssertionSuccess();
    if (clock_type::now() - start >= timeout)
      return ::testing::AssertionFailure()
             << "timed out after " << timeout.count() << " ms waiting until " << what;
    // A short yield between checks; the bound above is what the test relies on, not this.
    std::this_thread::sleep_for(5ms);
  }
}

}  // namespace eventfeed::integration
