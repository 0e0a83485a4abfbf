// client/session.hpp: one HTTP/1.1 keep-alive connection to an eventfeed server, as coroutines
// on any executor. Both faces of the library stand on it: eventfeed::client (client.cpp) runs it
// on a private io_context, one call at a time, on the calling thread; the follower
// (follow.cpp) runs it on the follower's own executor, either the same private io_context
// (call_on_each_event) or the caller's (async_call_on_each_event).
//
// The connection is kept between exchanges. Before reusing it, a non-blocking peek checks that
// the server has not closed it meanwhile (idle timeout, restart); if a reused connection still
// fails before a single byte of the answer arrives, the request is sent once more on a new one.
// The server closes idle connections only between requests, so that retry does not publish
// twice in practice.
//
// Every exchange has a deadline (`budget`), enforced by beast::tcp_stream's timer. Cancellation:
// `cancel()` sets a sticky flag that the coroutine checks after every failed operation, so it
// never retries once cancelled; whoever calls it must also make the pending operations finish
// (stop the io_context, or `close()` on the session's executor), since a flag alone wakes
// nothing.
//
// Thread affinity: everything but cancel()/reset_cancel()/cancelled() runs on the session's
// executor, one exchange at a time.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/verb.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/wire.hpp"
#include "eventfeed/client.hpp"

namespace eventfeed::detail {

// An HTTP answer as the session read it.
struct answer {
  int status = 0;
  std::string reason;
  std::string body;
  std::chrono::milliseconds retry_after{0};  // from a `Retry-After: <seconds>` header; 0: none
};

// One request to make: what the calls of the API build and the session sends.
struct request_spec {
  boost::beast::http::verb verb = boost::beast::http::verb::get;
  std::string path;  // below the base URL's prefix, with the query
  std::string body;
  std::chrono::milliseconds budget{0};  // the whole exchange, connecting included
};

class session {
 public:
  session(boost::asio::any_io_executor ex, client_options opts);

  const client_options& options() const noexcept { return opts_; }
  const result<base_url>& url() const noexcept { return url_; }

  // One request and its answer (any status). Fails with transport errors, or cancelled.
  boost::asio::awaitable<result<answer>> exchange(const request_spec& spec);

  // Closes the connection and cancels a pending resolve; on the session's executor only.
  void close() noexcept;

  void cancel() noexcept { cancelled_.store(true); }
  void reset_cancel() noexcept { cancelled_.store(false); }
  bool cancelled() const noexcept { return cancelled_.load(); }

 private:
  bool still_open();
  boost::asio::awaitable<std::optional<error>> connect(
      std::chrono::steady_clock::time_point deadline);

  client_options opts_;
  result<base_url> url_;
  std::string authority_;  // host:port, for the Host header and messages
  boost::beast::tcp_stream stream_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::beast::flat_buffer buffer_;
  std::atomic<bool> cancelled_{false};
};

error cancelled_error();

// Checks a set of streams to read with one cursor: 1 to 50 valid names sharing one {tag}
// (invalid_argument, "invalid_stream", naming the culprit).
std::optional<error> check_streams(const stream_set& streams);

// The requests of the API's calls, checked before anything is sent (invalid_argument errors).
// A poll of one stream goes to /v1/streams/{s}/events, of several to /v1/events?streams=.
result<request_spec> poll_request(const stream_set& streams, const poll_options& opts,
                                  const client_options& client);
result<request_spec> info_request(std::string_view stream, const client_options& client);
result<request_spec> publish_request(std::string_view stream, const std::vector<new_event>& events,
                                     const client_options& client);
result<request_spec> publish_many_request(const std::vector<stream_event>& events,
                                          const client_options& client);

// A 2xx answer parsed by `parse`, or the error of a non-2xx one. `has_key`: whether a key was
// sent (a 401 without one says so).
template <class T, class Parse>
result<T> read_answer(result<answer> got, bool has_key, Parse parse) {
  if (!got) return std::move(got).err();
  if (got->status < 200 || got->status > 299) {
    error e = error_from_answer(got->status, got->reason, got->body);
    e.retry_after = got->retry_after;
    if (got->status == 401 && !has_key) e.message += " (no key was given)";
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

}  // namespace eventfeed::detail
