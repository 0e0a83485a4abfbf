// client/client.cpp: the transport of eventfeed::client (see eventfeed/client.hpp for how it
// works as a whole).
//
// Each call builds one coroutine (exchange) and runs it on the client's private io_context,
// on the calling thread, until it completes: the synchronous API over Beast's asynchronous one.
// Being asynchronous inside is what makes cancel() possible: it sets a sticky flag and stops
// the io_context, which is the one io_context member that may be called from any thread.
// run_op() then finds the coroutine unfinished, closes the socket and cancels the resolver
// (safe: no thread is running the io_context any more), and runs the io_context again until
// the coroutine has seen its operations aborted and returned; the coroutine checks the flag
// after every failure, so it never retries once cancelled.
//
// cancel() racing with the start of a call: the flag is stored before stop(), and run_op()
// reads it after restart(). Either stop() came first, and the read sees the flag; or it came
// after restart(), and run() returns at once. No cancellation is lost.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <atomic>
#include <optional>

#include "client/url.hpp"
#include "client/wire.hpp"
#include "eventfeed/client.hpp"

#ifndef EVENTFEED_VERSION
#define EVENTFEED_VERSION "dev"
#endif

namespace eventfeed {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;
constexpr auto tuple_awaitable = net::as_tuple(net::use_awaitable);

namespace {

struct answer {
  int status = 0;
  std::string reason;
  std::string body;
};

error cancelled_error() {
  return error{error_kind::cancelled, 0, "cancelled", "cancelled"};
}

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
  return detail::format_seconds(d) + " s";
}

error invalid_stream(std::string_view stream) {
  return error{error_kind::invalid_argument, 0, "invalid_stream",
               "invalid stream name '" + std::string(stream) +
                   "': it must be 1 to 200 characters from A-Z a-z 0-9 { } : . _ -"};
}

}  // namespace

struct client::impl {
  client_options opts;
  result<base_url> url;
  std::string authority;  // host:port, for the Host header and messages
  net::io_context ioc{1};
  beast::tcp_stream stream{ioc};
  tcp::resolver resolver{ioc};
  beast::flat_buffer buffer;
  std::atomic<bool> cancelled{false};

  explicit impl(client_options o) : opts(std::move(o)), url(parse_url(opts.url)) {
    if (url) {
      const bool v6 = url->host.find(':') != std::string::npos;
      authority = (v6 ? "[" + url->host + "]" : url->host) + ":" + std::to_string(url->port);
    }
  }

  std::string target(std::string_view path) const { return url->prefix + std::string(path); }

  void close_connection() noexcept {
    stream.close();
    buffer.clear();
  }

  // True when the open connection can carry the next request: no stray bytes buffered, and a
  // non-blocking peek finds neither EOF nor data (a server that closed an idle connection).
  bool still_open() {
    if (!stream.socket().is_open() || buffer.size() != 0) return false;
    auto& sock = stream.socket();
    beast::error_code ec, ignored;
    sock.non_blocking(true, ec);
    if (ec) return false;
    char byte = 0;
    sock.receive(net::buffer(&byte, 1), tcp::socket::message_peek, ec);
    sock.non_blocking(false, ignored);
    return ec == net::error::would_block || ec == net::error::try_again;
  }

  net::awaitable<std::optional<error>> connect(steady::time_point deadline) {
    auto [rec, endpoints] =
        co_await resolver.async_resolve(url->host, std::to_string(url->port), tuple_awaitable);
    if (cancelled.load()) co_return cancelled_error();
    if (rec)
      co_return transport_error("resolve",
                                "cannot resolve host '" + url->host + "': " + rec.message());
    stream.expires_at(std::min(deadline, steady::now() + opts.connect_timeout));
    auto [cec, ep] = co_await stream.async_connect(endpoints, tuple_awaitable);
    if (cancelled.load()) co_return cancelled_error();
    if (cec == beast::error::timeout)
      co_return transport_error("timeout", "cannot connect to " + authority + " within " +
                                               seconds_text(opts.connect_timeout));
    if (cec)
      co_return transport_error("connect", "cannot connect to " + authority + ": " + cec.message());
    beast::error_code ignored;
    stream.socket().set_option(tcp::no_delay(true), ignored);
    buffer.clear();
    co_return std::nullopt;
  }

  // One request and its answer, on the kept connection or a new one; see the header for when a
  // request is sent twice.
  net::awaitable<result<answer>> exchange(bhttp::verb verb, std::string path, std::string body,
                                          std::chrono::milliseconds budget) {
    const auto deadline = steady::now() + budget;
    bhttp::request<bhttp::string_body> req{verb, path, 11};
    req.set(bhttp::field::host, authority);
    req.set(bhttp::field::user_agent, "eventfeed-client/" EVENTFEED_VERSION);
    req.set(bhttp::field::accept, "application/json");
    if (!opts.key.empty()) req.set(bhttp::field::authorization, "Bearer " + opts.key);
    if (verb == bhttp::verb::post) req.set(bhttp::field::content_type, "application/json");
    req.body() = std::move(body);
    req.keep_alive(true);
    req.prepare_payload();

    for (int attempt = 0;; ++attempt) {
      const bool reused = still_open();
      if (!reused) {
        close_connection();
        if (auto failed = co_await connect(deadline)) co_return std::move(*failed);
      }
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(opts.max_response_bytes);
      stream.expires_at(deadline);
      auto [ec, written] = co_await bhttp::async_write(stream, req, tuple_awaitable);
      if (!ec)
        std::tie(ec, written) = co_await bhttp::async_read(stream, buffer, parser, tuple_awaitable);
      if (!ec) {
        stream.expires_never();
        auto& res = parser.get();
        answer out{static_cast<int>(res.result_int()), std::string(res.reason()),
                   std::move(res.body())};
        if (!parser.keep_alive()) close_connection();
        co_return out;
      }
      close_connection();
      if (cancelled.load()) co_return cancelled_error();
      if (reused && attempt == 0 && !parser.got_some() && is_stale(ec)) continue;
      if (ec == beast::error::timeout)
        co_return transport_error(
            "timeout", "no answer from " + authority + " within " + seconds_text(budget));
      if (ec == bhttp::error::body_limit)
        co_return error{error_kind::protocol, 0, "bad_response",
                        "the answer is larger than " + std::to_string(opts.max_response_bytes) +
                            " bytes (client_options::max_response_bytes)"};
      if (is_stale(ec))
        co_return transport_error(
            "closed", "the connection to " + authority + " was closed before an answer arrived");
      co_return transport_error("io", "talking to " + authority + ": " + ec.message());
    }
  }

  // Runs `op` on the calling thread until it completes or cancel() ends it.
  result<answer> run_op(net::awaitable<result<answer>> op) {
    std::optional<result<answer>> out;
    ioc.restart();
    if (cancelled.load()) return cancelled_error();
    net::co_spawn(
        ioc,
        [](net::awaitable<result<answer>> a, std::optional<result<answer>>& o)
            -> net::awaitable<void> { o.emplace(co_await std::move(a)); }(std::move(op), out),
        [&out](std::exception_ptr e) {
          if (e && !out) {
            std::string what = "internal error";
            try {
              std::rethrow_exception(e);
            } catch (const std::exception& ex) {
              what = ex.what();
            } catch (...) {
            }
            out.emplace(error{error_kind::transport, 0, "io", what});
          }
        });
    ioc.run();
    if (!out) {  // stopped by cancel(): abort what is pending and let the coroutine unwind
      resolver.cancel();
      close_connection();
      while (!out) {
        ioc.restart();
        ioc.run();
      }
    }
    if (cancelled.load() && !out->ok()) return cancelled_error();
    return std::move(*out);
  }

  // A whole call: validate, exchange, map a non-2xx answer to its error, parse a 2xx one.
  template <class T, class Parse>
  result<T> call(bhttp::verb verb, std::string path, std::string body,
                 std::chrono::milliseconds budget, Parse parse) {
    if (!url) return url.err();
    auto got = run_op(exchange(verb, target(path), std::move(body), budget));
    if (!got) return std::move(got).err();
    if (got->status < 200 || got->status > 299) {
      error e = detail::error_from_answer(got->status, got->reason, got->body);
      if (got->status == 401 && opts.key.empty()) e.message += " (no key was given)";
      return e;
    }
    result<T> parsed = parse(got->body);
    if (!parsed) {
      error e = std::move(parsed).err();
      e.status = got->status;
      return e;
    }
    return parsed;
  }
};

client::client(client_options options) : impl_(std::make_unique<impl>(std::move(options))) {}
client::~client() = default;
client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;

namespace {
std::string events_path(std::string_view stream) {
  return "/v1/streams/" + detail::encode_path_segment(stream) + "/events";
}
}  // namespace

result<published> client::publish(std::string_view stream, std::string_view type,
                                  std::string_view data) {
  return publish_batch(stream, {new_event{std::string(type), std::string(data)}});
}

result<published> client::publish_batch(std::string_view stream,
                                        const std::vector<new_event>& events) {
  if (!detail::is_valid_stream_name(stream)) return invalid_stream(stream);
  auto body = detail::stream_publish_body(events);
  if (!body) return std::move(body).err();
  return impl_->call<published>(bhttp::verb::post, events_path(stream), std::move(*body),
                                impl_->opts.request_timeout, detail::parse_published);
}

result<std::vector<position>> client::publish_many(const std::vector<stream_event>& events) {
  for (const auto& ev : events)
    if (!detail::is_valid_stream_name(ev.stream)) return invalid_stream(ev.stream);
  auto body = detail::multi_publish_body(events);
  if (!body) return std::move(body).err();
  return impl_->call<std::vector<position>>(bhttp::verb::post, "/v1/events", std::move(*body),
                                            impl_->opts.request_timeout, detail::parse_positions);
}

result<poll_result> client::poll(std::string_view stream, const poll_options& opts) {
  if (!detail::is_valid_stream_name(stream)) return invalid_stream(stream);
  if (!detail::is_valid_cursor(opts.after))
    return error{error_kind::invalid_argument, 0, "invalid_cursor",
                 "invalid cursor '" + opts.after + "': expected \"now\" or a position"};
  const auto timeout = std::max(opts.timeout, std::chrono::milliseconds(0));
  std::string path = events_path(stream) + "?timeout=" + detail::format_seconds(timeout);
  if (!opts.after.empty()) path += "&after=" + opts.after;
  if (opts.limit > 0) path += "&limit=" + std::to_string(opts.limit);
  if (!opts.types.empty()) {
    path += "&types=";
    for (std::size_t i = 0; i < opts.types.size(); ++i) {
      if (i) path += ',';
      path += detail::encode_query_value(opts.types[i]);
    }
  }
  return impl_->call<poll_result>(bhttp::verb::get, std::move(path), {},
                                  timeout + impl_->opts.poll_grace, detail::parse_poll);
}

result<stream_info> client::info(std::string_view stream) {
  if (!detail::is_valid_stream_name(stream)) return invalid_stream(stream);
  return impl_->call<stream_info>(bhttp::verb::get,
                                  "/v1/streams/" + detail::encode_path_segment(stream), {},
                                  impl_->opts.request_timeout, detail::parse_stream_info);
}

result<server_health> client::health() {
  return impl_->call<server_health>(bhttp::verb::get, "/healthz", {}, impl_->opts.request_timeout,
                                    detail::parse_health);
}

void client::cancel() noexcept {
  if (!impl_) return;
  impl_->cancelled.store(true);
  impl_->ioc.stop();
}

void client::reset_cancel() noexcept {
  if (impl_) impl_->cancelled.store(false);
}

bool client::cancelled() const noexcept {
  return impl_ && impl_->cancelled.load();
}

void client::close() noexcept {
  if (impl_) impl_->close_connection();
}

}  // namespace eventfeed
