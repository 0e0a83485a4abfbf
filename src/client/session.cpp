#include "client/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>

#include "client/url.hpp"

#ifndef EVENTFEED_VERSION
#define EVENTFEED_VERSION "dev"
#endif

namespace eventfeed::detail {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;
constexpr auto tuple_awaitable = net::as_tuple(net::use_awaitable);

namespace {

error transport_error(std::string code, std::string message) {
  return error{error_kind::transport, 0, std::move(code), std::move(message)};
}

// The errors of a connection that the server closed while we were not looking.
bool is_stale(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::connection_aborted;
}

std::string seconds_text(std::chrono::milliseconds d) {
  return format_seconds(d) + " s";
}

// `Retry-After: 3` -> 3000 ms. The HTTP-date form, and anything else, count as absent.
std::chrono::milliseconds parse_retry_after(std::string_view value) {
  std::uint32_t seconds = 0;
  const char* last = value.data() + value.size();
  auto [end, ec] = std::from_chars(value.data(), last, seconds);
  if (value.empty() || ec != std::errc{} || end != last) return std::chrono::milliseconds(0);
  return std::chrono::seconds(seconds);
}

error invalid_stream(std::string_view stream) {
  return error{error_kind::invalid_argument, 0, "invalid_stream",
               "invalid stream name '" + std::string(stream) +
                   "': it must be 1 to 200 characters from A-Z a-z 0-9 { } : . _ -"};
}

}  // namespace

error cancelled_error() {
  return error{error_kind::cancelled, 0, "cancelled", "cancelled"};
}

session::session(net::any_io_executor ex, client_options opts)
    : opts_(std::move(opts)), url_(parse_url(opts_.url)), stream_(ex), resolver_(ex) {
  if (url_) {
    const bool v6 = url_->host.find(':') != std::string::npos;
    authority_ = (v6 ? "[" + url_->host + "]" : url_->host) + ":" + std::to_string(url_->port);
  }
}

void session::close() noexcept {
  resolver_.cancel();
  stream_.close();
  buffer_.clear();
}

// True when the open connection can carry the next request: no stray bytes buffered, and a
// non-blocking peek finds neither EOF nor data (a server that closed an idle connection).
bool session::still_open() {
  if (!stream_.socket().is_open() || buffer_.size() != 0) return false;
  auto& sock = stream_.socket();
  beast::error_code ec, ignored;
  sock.non_blocking(true, ec);
  if (ec) return false;
  char byte = 0;
  sock.receive(net::buffer(&byte, 1), tcp::socket::message_peek, ec);
  sock.non_blocking(false, ignored);
  return ec == net::error::would_block || ec == net::error::try_again;
}

net::awaitable<std::optional<error>> session::connect(steady::time_point deadline) {
  auto [rec, endpoints] =
      co_await resolver_.async_resolve(url_->host, std::to_string(url_->port), tuple_awaitable);
  if (cancelled()) co_return cancelled_error();
  if (rec)
    co_return transport_error("resolve",
                              "cannot resolve host '" + url_->host + "': " + rec.message());
  stream_.expires_at(std::min(deadline, steady::now() + opts_.connect_timeout));
  auto [cec, ep] = co_await stream_.async_connect(endpoints, tuple_awaitable);
  if (cancelled()) co_return cancelled_error();
  if (cec == beast::error::timeout)
    co_return transport_error("timeout", "cannot connect to " + authority_ + " within " +
                                             seconds_text(opts_.connect_timeout));
  if (cec)
    co_return transport_error("connect", "cannot connect to " + authority_ + ": " + cec.message());
  beast::error_code ignored;
  stream_.socket().set_option(tcp::no_delay(true), ignored);
  buffer_.clear();
  co_return std::nullopt;
}

net::awaitable<result<answer>> session::exchange(const request_spec& spec) {
  if (!url_) co_return url_.err();
  if (cancelled()) co_return cancelled_error();
  const auto deadline = steady::now() + spec.budget;
  bhttp::request<bhttp::string_body> req{spec.verb, url_->prefix + spec.path, 11};
  req.set(bhttp::field::host, authority_);
  req.set(bhttp::field::user_agent, "eventfeed-client/" EVENTFEED_VERSION);
  req.set(bhttp::field::accept, "application/json");
  if (!opts_.key.empty()) req.set(bhttp::field::authorization, "Bearer " + opts_.key);
  if (spec.verb == bhttp::verb::post) req.set(bhttp::field::content_type, "application/json");
  req.body() = spec.body;
  req.keep_alive(true);
  req.prepare_payload();

  for (int attempt = 0;; ++attempt) {
    const bool reused = still_open();
    if (!reused) {
      stream_.close();
      buffer_.clear();
      if (auto failed = co_await connect(deadline)) co_return std::move(*failed);
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(opts_.max_response_bytes);
    stream_.expires_at(deadline);
    auto [ec, written] = co_await bhttp::async_write(stream_, req, tuple_awaitable);
    if (!ec)
      std::tie(ec, written) = co_await bhttp::async_read(stream_, buffer_, parser, tuple_awaitable);
    if (!ec) {
      stream_.expires_never();
      auto& res = parser.get();
      answer out{static_cast<int>(res.result_int()), std::string(res.reason()),
                 std::move(res.body()), parse_retry_after(res[bhttp::field::retry_after])};
      if (!parser.keep_alive()) close();
      co_return out;
    }
    close();
    if (cancelled()) co_return cancelled_error();
    if (reused && attempt == 0 && !parser.got_some() && is_stale(ec)) continue;
    if (ec == beast::error::timeout)
      co_return transport_error(
          "timeout", "no answer from " + authority_ + " within " + seconds_text(spec.budget));
    if (ec == bhttp::error::body_limit)
      co_return error{error_kind::protocol, 0, "bad_response",
                      "the answer is larger than " + std::to_string(opts_.max_response_bytes) +
                          " bytes (client_options::max_response_bytes)"};
    if (is_stale(ec))
      co_return transport_error(
          "closed", "the connection to " + authority_ + " was closed before an answer arrived");
    co_return transport_error("io", "talking to " + authority_ + ": " + ec.message());
  }
}

namespace {
std::string events_path(std::string_view stream) {
  return "/v1/streams/" + encode_path_segment(stream) + "/events";
}
}  // namespace

namespace {
// The server's rule (core/stream_name.hpp): the text between the first '{' and the next '}'
// when it is non-empty, otherwise the whole name.
std::string_view stream_tag(std::string_view name) {
  const auto open = name.find('{');
  if (open == std::string_view::npos) return name;
  const auto close = name.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return name;
  return name.substr(open + 1, close - open - 1);
}
constexpr std::size_t max_poll_streams = 50;
}  // namespace

std::optional<error> check_streams(const stream_set& streams) {
  const auto& names = streams.names();
  if (names.empty())
    return error{error_kind::invalid_argument, 0, "invalid_stream", "no stream was given"};
  if (names.size() > max_poll_streams)
    return error{error_kind::invalid_argument, 0, "invalid_stream",
                 std::to_string(names.size()) + " streams were given; at most " +
                     std::to_string(max_poll_streams) + " may be read together"};
  for (const auto& name : names) {
    if (!is_valid_stream_name(name)) return invalid_stream(name);
    if (stream_tag(name) != stream_tag(names.front()))
      return error{error_kind::invalid_argument, 0, "invalid_stream",
                   "streams read together must share a {tag} (one position sequence): '" +
                       names.front() + "' and '" + name + "' do not"};
  }
  return std::nullopt;
}

result<request_spec> poll_request(const stream_set& streams, const poll_options& opts,
                                  const client_options& client) {
  if (auto bad = check_streams(streams)) return std::move(*bad);
  if (!is_valid_cursor(opts.after))
    return error{error_kind::invalid_argument, 0, "invalid_cursor",
                 "invalid cursor '" + opts.after + "': expected \"now\" or a position"};
  const auto timeout = std::max(opts.timeout, std::chrono::milliseconds(0));
  const auto& names = streams.names();
  std::string path;
  if (names.size() == 1) {
    path = events_path(names.front()) + "?timeout=";
  } else {
    path = "/v1/events?streams=";
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (i) path += ',';
      path += encode_query_value(names[i]);
    }
    path += "&timeout=";
  }
  path += format_seconds(timeout);
  if (!opts.after.empty()) path += "&after=" + opts.after;
  if (opts.limit > 0) path += "&limit=" + std::to_string(opts.limit);
  if (!opts.types.empty()) {
    path += "&types=";
    for (std::size_t i = 0; i < opts.types.size(); ++i) {
      if (i) path += ',';
      path += encode_query_value(opts.types[i]);
    }
  }
  return request_spec{bhttp::verb::get, std::move(path), {}, timeout + client.poll_grace};
}

result<request_spec> info_request(std::string_view stream, const client_options& client) {
  if (!is_valid_stream_name(stream)) return invalid_stream(stream);
  return request_spec{
      bhttp::verb::get, "/v1/streams/" + encode_path_segment(stream), {}, client.request_timeout};
}

result<request_spec> publish_request(std::string_view stream, const std::vector<new_event>& events,
                                     const client_options& client) {
  if (!is_valid_stream_name(stream)) return invalid_stream(stream);
  auto body = stream_publish_body(events);
  if (!body) return std::move(body).err();
  return request_spec{bhttp::verb::post, events_path(stream), std::move(*body),
                      client.request_timeout};
}

result<request_spec> publish_many_request(const std::vector<stream_event>& events,
                                          const client_options& client) {
  for (const auto& ev : events)
    if (!is_valid_stream_name(ev.stream)) return invalid_stream(ev.stream);
  auto body = multi_publish_body(events);
  if (!body) return std::move(body).err();
  return request_spec{bhttp::verb::post, "/v1/events", std::move(*body), client.request_timeout};
}

}  // namespace eventfeed::detail
