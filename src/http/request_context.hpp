// http/request_context.hpp: what a handler sees of one request.
//
// Besides the request, its path captures and query, it offers `until_disconnect`: run an
// awaitable (a long-poll) while watching the connection, and cancel it the moment the client
// goes away, so that a parked waiter is freed at once rather than at its deadline. Bytes a
// client pipelines meanwhile are kept in the connection's buffer for the next request.
//
// Thread affinity: a context lives on its connection's executor and must only be used there.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/router.hpp"

namespace eventfeed::http {

// What a connection offers a handler beyond the request: a way to learn that the peer is gone.
//
// While the watch runs, the connection has one small read pending on the socket. If the peer
// closes or resets the connection, the connection calls the handler's `on_gone` (the native
// poll's cancels its waiter in the hub), or, without one, emits a terminal cancellation on its
// session coroutine (if the session has a cancellation signal): either way the wait ends at
// once. A byte that arrives instead (a pipelining client) ends the watch without harm and is
// kept for the next request.
//
// The server runs sessions without a cancellation signal: with one bound, Asio installs and
// clears a cancellation handler around every operation of the session, a cost paid on every
// read and write to serve the rare disconnect.
class connection_io {
 public:
  // `on_gone`, if given, is called (on the connection's thread) when the peer leaves, instead
  // of the session's cancellation being emitted.
  virtual void start_watch(std::function<void()> on_gone) = 0;
  // Ends the watch (waiting for its read to finish); true if the peer has gone.
  virtual net::awaitable<bool> stop_watch() = 0;

 protected:
  ~connection_io() = default;
};

class request_context {
 public:
  // `io` may be null (a handler called without a connection, in tests): until_disconnect then
  // simply runs the work.
  // `req` is owned by the caller and freed by release_request(); the handler's answer is put
  // into `answer` by reply(). Both live on the heap, not in the connection's frame: a parked
  // poll holds neither a request nor an answer while it waits.
  request_context(std::unique_ptr<request>& req, route_params params, std::string_view request_id,
                  const router& routes, connection_io* io, std::unique_ptr<response>& answer);

  // The request; not after release_request().
  const request& req() const noexcept { return *req_; }
  std::string_view path() const noexcept { return path_; }
  std::string_view request_id() const noexcept { return request_id_; }
  const route_params& params() const noexcept { return params_; }
  // The decoded value of a path capture; the route guarantees it exists.
  const std::string& param(std::string_view name) const;
  // The decoded value of the first query parameter `name`, if present.
  std::optional<std::string> query(std::string_view name) const;
  // The raw query string (without the '?'), empty after release_request().
  std::string_view query_string() const noexcept { return query_; }
  // The value of a header, or empty.
  std::string_view header(bhttp::field f) const;

  // The answer to send. A later reply replaces an earlier one.
  void reply(response r) {
    if (answer_)
      *answer_ = std::move(r);
    else
      answer_ = std::make_unique<response>(std::move(r));
  }
  bool replied() const noexcept { return answer_ != nullptr; }

  // An error response in the shape of the API owning this path.
  response error(bhttp::status status, std::string_view code, std::string_view message,
                 std::chrono::milliseconds retry_after = {}) const {
    return router::render_with(renderer_, {status, code, message, request_id_, retry_after});
  }

  // The handler has read all it needs of the request: the request (headers, target, body) and
  // the captures are freed now rather than when the answer is written, so a parked long-poll
  // does not hold them. Afterwards only error(), reply(), request_id() and the watch may be
  // used.
  void release_request();

  // Watches for the client leaving while the handler waits: between the two calls, a
  // disconnect cancels the awaited operation (see connection_io). `end_watch` returns true if
  // the client has gone, in which case nobody will read the answer. Without a connection (unit
  // tests of handlers) both do nothing.
  void begin_watch(std::function<void()> on_gone = {}) {
    if (io_) io_->start_watch(std::move(on_gone));
  }
  net::awaitable<bool> end_watch() {
    if (!io_) co_return false;
    co_return co_await io_->stop_watch();
  }

  // Runs `work` under the watch; nullopt if the client disconnected meanwhile.
  template <class T>
  net::awaitable<std::optional<T>> until_disconnect(net::awaitable<T> work) {
    begin_watch();
    T r = co_await std::move(work);
    if (co_await end_watch()) co_return std::nullopt;
    co_return std::optional<T>(std::move(r));
  }

 private:
  std::unique_ptr<request>& req_;
  route_params params_;
  const error_renderer* renderer_;
  std::string_view request_id_;
  const router& routes_;
  connection_io* io_;
  std::unique_ptr<response>& answer_;
  std::string_view path_;
  std::string_view query_;
};

}  // namespace eventfeed::http
