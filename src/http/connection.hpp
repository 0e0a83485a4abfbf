// http/connection.hpp: one HTTP/1.1 connection, from the first byte to close, over any Beast
// stream: `beast::tcp_stream` in the server, `beast::test::stream` in unit tests.
//
// The loop: read a request (headers within `idle_timeout`, then the body within `read_timeout`,
// answering `Expect: 100-continue`), route it, run the handler, write the answer within
// `write_timeout`, and loop while keep-alive holds. Limits answer before any handler runs:
// headers over `max_header_bytes` → 431, a body over `max_body_bytes` → 413, malformed HTTP →
// 400, each in the error shape of the API that owns the path, and then the connection closes.
// Timeouts exist only on streams that have them (`expires_after`); a test stream has none.
//
// While a handler runs, the connection can watch for the peer going away (connection_io): a
// read into the connection's buffer that completes on EOF or reset. Bytes a client pipelines
// meanwhile stay in the buffer and are parsed as the next request.
//
// Thread affinity: a connection runs on one executor for its whole life.
#pragma once

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "http/request_context.hpp"
#include "http/router.hpp"
#include "http/server_options.hpp"

namespace eventfeed::http {

// State shared by every connection of one server. Thread-safe.
struct connection_shared {
  connection_shared(const server_options& o, const router& r, std::string prefix = "req")
      : options(o), routes(r), id_prefix(std::move(prefix)) {}

  const server_options& options;
  const router& routes;
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> in_flight{0};  // requests read and not yet answered
  std::atomic<bool> stopping{false};      // answer with Connection: close from now on
  // Signalled when the last request in flight is answered while stopping (server::stop waits
  // on it).
  std::mutex idle_mutex;
  std::condition_variable idle;
  std::string id_prefix;
  std::atomic<std::uint64_t> next_id{0};

  std::string make_request_id();
};

namespace detail {

struct counted {
  std::atomic<std::size_t>& n;
  explicit counted(std::atomic<std::size_t>& c) : n(c) {
    n.fetch_add(1, std::memory_order_relaxed);
  }
  ~counted() { n.fetch_sub(1, std::memory_order_relaxed); }
  counted(const counted&) = delete;
  counted& operator=(const counted&) = delete;
};

// One request in flight. The last one to end while the server is stopping wakes server::stop.
// (Sequentially consistent: either this sees `stopping`, or stop() sees the count at zero.)
struct in_flight_request {
  connection_shared& shared;
  explicit in_flight_request(connection_shared& s) : shared(s) { shared.in_flight.fetch_add(1); }
  ~in_flight_request() {
    if (shared.in_flight.fetch_sub(1) == 1 && shared.stopping.load()) {
      std::lock_guard lock(shared.idle_mutex);
      shared.idle.notify_all();
    }
  }
  in_flight_request(const in_flight_request&) = delete;
  in_flight_request& operator=(const in_flight_request&) = delete;
};

// A failed request read: the status and code to answer with, or none (peer gone or timed out).
struct read_failure {
  bhttp::status status;
  std::string_view code;
  std::string message;
};
std::optional<read_failure> classify_read_error(beast::error_code ec, const server_options& o);

// Writes the status line and header block of `res` into `out` (cleared first): the handler's
// fields, then `Server`, `X-Request-Id`, `Cache-Control: no-store` unless the handler set one,
// `Content-Length` and the `Connection` header that `keep_alive` needs for `version`. The
// handler's own Connection / Content-Length / Transfer-Encoding fields are replaced, never
// repeated. The body is written after it as a second buffer: one gather write, no copy of the
// body and no per-field allocation.
void serialize_head(const response& res, unsigned version, bool keep_alive, std::string_view id,
                    const server_options& o, std::string& out);

// The handler for `req` (its captures in `params`), or null with the answer to send instead
// (404, 405) in `res`; `id` is the request's id, for the error body.
const handler* route(const router& routes, const request& req, route_params& params,
                     std::unique_ptr<response>& res, std::string_view id);

// "METHOD target", for the access log and error logs.
std::string describe(const request& req);

// The 500 answer for a handler that threw or gave no answer, in the shape of its API; logged
// here with `what` (see describe()).
response handler_failed(const request_context& ctx, std::string_view what, const std::exception& e);

template <class Stream>
void expire_after(Stream& stream, std::chrono::milliseconds d) {
  if constexpr (requires { stream.expires_after(d); }) stream.expires_after(d);
}
template <class Stream>
void expire_never(Stream& stream) {
  if constexpr (requires { stream.expires_never(); }) stream.expires_never();
}

// Memory for the disconnect watch's read operation, straight from operator new. Asio's default
// takes handler memory from a per-thread recycling cache, first fit: the watch's small operation
// would often land in a larger block that the request read had just freed, and hold it for the
// whole wait. A parked poll keeps this operation as long as it waits, so its exact size counts.
template <class T>
struct exact_allocator {
  using value_type = T;
  exact_allocator() = default;
  template <class U>
  exact_allocator(const exact_allocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p); }
  friend bool operator==(exact_allocator, exact_allocator) noexcept { return true; }
};

// The disconnect watch of one connection. Shared with the pending read's handler, which may
// run after the request (or the connection) is done with it.
struct watch_state {
  std::shared_ptr<net::cancellation_signal> session;  // cancels the session coroutine's wait
  std::function<void()> on_gone;                      // or this, if the handler gave one
  net::cancellation_signal read_cancel;               // cancels the watch's own read
  char byte = 0;
  bool pending = false;   // the 1-byte read is in flight
  bool deferred = false;  // the read is to be started by the socket's sweep (see start_watch)
  bool has_byte = false;
  bool peer_gone = false;
};

// How long a poll waits before its connection is watched, on a stream that can defer work to
// its sweep (timed_socket). Most polls are answered well within it, and then cost no watch at
// all: no read, no cancellation, no aborted completion. A client that leaves is noticed
// within this plus one sweep period (at most about half a second).
inline constexpr std::chrono::milliseconds watch_delay{200};

template <class Stream>
class connection final : public connection_io {
  static constexpr bool can_defer = requires(Stream & s) {
    s.defer(std::chrono::steady_clock::now(), static_cast<void (*)(void*)>(nullptr), nullptr);
    s.cancel_defer();
  };

 public:
  connection(Stream& stream, beast::flat_buffer& buffer,
             std::shared_ptr<net::cancellation_signal> session)
      : stream_(stream), buffer_(buffer), session_(std::move(session)) {}
  ~connection() {
    if constexpr (can_defer) stream_.cancel_defer();  // the sweep must not call into a dead one
  }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  void start_watch(std::function<void()> on_gone) override {
    // A parked poll needs no read buffer until its answer is written: give the memory back
    // (the next read allocates again). Pipelined bytes already read stay.
    if (buffer_.size() == 0) buffer_.shrink_to_fit();
    if (!session_ && !on_gone) return;  // nobody to tell
    if (!watch_) {
      watch_ = std::make_shared<watch_state>();
      watch_->session = session_;
    }
    if (watch_->peer_gone) {  // gone already (a poll parking again after a wake): say so now
      if (on_gone) on_gone();
      return;
    }
    watch_->on_gone = std::move(on_gone);  // the latest wait is the one to cancel
    // Idempotent until stop_watch: a byte already taken must not be overwritten by a second
    // read.
    if (watch_->pending || watch_->has_byte || watch_->deferred) return;
    if constexpr (can_defer) {
      watch_->deferred = true;
      stream_.defer(std::chrono::steady_clock::now() + watch_delay, &connection::start_deferred,
                    this);
      return;
    }
    start_read();
  }

  // A watch is on: started, deferred, or holding a byte for the next request. The request
  // loop ends any watch a handler left on (one that threw, say) before it reads again.
  bool watching() const noexcept {
    return watch_ && (watch_->pending || watch_->deferred || watch_->has_byte);
  }

  net::awaitable<bool> stop_watch() override {
    if (!watch_) co_return false;
    if (watch_->deferred) {  // never started: nothing to cancel
      if constexpr (can_defer) stream_.cancel_defer();
      watch_->deferred = false;
    }
    if (watch_->pending) {
      // The cancelled read completes through the executor's queue (with operation_aborted,
      // or with the byte if it had already arrived): let it run before the next request is
      // read, so that a byte it took goes back into the buffer first.
      watch_->read_cancel.emit(net::cancellation_type::terminal);
      while (watch_->pending) co_await net::post(stream_.get_executor(), net::use_awaitable);
    }
    watch_->on_gone = nullptr;  // whatever it would cancel is over
    if (watch_->has_byte) {
      // Keep the byte the watch consumed: it is the first byte of the next request.
      auto space = buffer_.prepare(1);
      *static_cast<char*>(space.data()) = watch_->byte;
      buffer_.commit(1);
      watch_->has_byte = false;
    }
    co_return watch_->peer_gone;
  }

 private:
  // Called by the stream's sweep, on this connection's thread, while the watch is still on
  // (stop_watch and the destructor cancel the deferral).
  static void start_deferred(void* self) {
    auto& c = *static_cast<connection*>(self);
    c.watch_->deferred = false;
    c.start_read();
  }

  void start_read() {
    stream_.async_read_some(
        net::buffer(&watch_->byte, 1),
        net::bind_allocator(
            exact_allocator<void>{},
            net::bind_cancellation_slot(
                watch_->read_cancel.slot(), [w = watch_](beast::error_code ec, std::size_t n) {
                  w->pending = false;
                  if (!ec && n == 1) {
                    w->has_byte = true;  // a pipelined request begins: the peer is still there
                  } else if (ec != net::error::operation_aborted) {
                    w->peer_gone = true;  // EOF or reset: cancel whatever the handler awaits
                    if (w->on_gone)
                      std::exchange(w->on_gone, nullptr)();
                    else if (w->session)
                      w->session->emit(net::cancellation_type::terminal);
                  }
                })));
    // Set once the read is started (if starting it throws, no read is pending); its handler
    // never runs inline, so it cannot have cleared this already.
    watch_->pending = true;
  }

  Stream& stream_;
  beast::flat_buffer& buffer_;
  std::shared_ptr<net::cancellation_signal> session_;
  std::shared_ptr<watch_state> watch_;  // created on first use
};

// The rare paths of the request loop, kept out of serve_connection's frame (which every
// parked poll holds) by living in coroutines of their own.
template <class Stream>
net::awaitable<beast::error_code> write_continue(Stream& stream, const server_options& o) {
  bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
  expire_after(stream, o.write_timeout);
  auto [ec, n] = co_await bhttp::async_write(stream, cont, net::as_tuple(net::use_awaitable));
  co_return ec;
}

// Writes `res` (head built by serialize_head, then the body: one gather write) within
// `write_timeout`. Its own coroutine so that the head and the write operation's state are not
// part of serve_connection's frame, which a parked poll holds.
template <class Stream>
net::awaitable<std::tuple<beast::error_code, std::size_t>> write_response(
    Stream& stream, const response& res, unsigned version, bool keep_alive, std::string_view id,
    const server_options& o) {
  std::string head;
  serialize_head(res, version, keep_alive, id, o, head);
  const std::array<net::const_buffer, 2> buffers{net::buffer(head), net::buffer(res.body())};
  std::size_t written = 0;
  if constexpr (requires(beast::error_code & ec) { stream.try_write_some(buffers, ec); }) {
    // Most answers fit the socket's send buffer: written here, without an async operation.
    beast::error_code ec;
    written = stream.try_write_some(buffers, ec);
    if (ec && ec != net::error::would_block) co_return std::tuple{ec, written};
    if (written == beast::buffer_bytes(buffers)) co_return std::tuple{beast::error_code{}, written};
  }
  beast::buffers_suffix<std::array<net::const_buffer, 2>> rest(buffers);
  rest.consume(written);
  expire_after(stream, o.write_timeout);
  auto [ec, n] = co_await net::async_write(stream, rest, net::as_tuple(net::use_awaitable));
  co_return std::tuple{ec, written + n};
}

// Answers a request that could not be read (431, 413, 400) if there is anyone to answer.
template <class Stream>
net::awaitable<void> answer_read_failure(Stream& stream, connection_shared& shared,
                                         const bhttp::request_parser<bhttp::string_body>& parser,
                                         beast::error_code ec) {
  const auto& o = shared.options;
  auto failure = classify_read_error(ec, o);
  if (!failure) co_return;
  const std::string id = shared.make_request_id();
  std::string_view target = parser.is_header_done() ? parser.get().target() : "/";
  std::string_view path = target.substr(0, target.find('?'));
  auto res =
      shared.routes.render_error(path, {failure->status, failure->code, failure->message, id});
  co_await write_response(stream, res, 11, false, id, o);
  if (o.access_log)
    spdlog::info("{} - - {} {} rejected: {}", id, static_cast<unsigned>(failure->status),
                 res.body().size(), ec.message());
}

// Reads the next request into `out`: headers within `idle_timeout`, then the body within
// `read_timeout`, answering `Expect: 100-continue`. False when the connection is to end: the
// peer left or timed out, or the request broke a limit or was malformed (answered here with
// 431, 413 or 400). A coroutine of its own so that the parser and the read operations' state
// are not part of serve_connection's frame, which a parked poll holds.
template <class Stream>
net::awaitable<bool> read_request(Stream& stream, beast::flat_buffer& buffer,
                                  connection_shared& shared, request& out) {
  const auto& o = shared.options;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(o.max_header_bytes));
  parser.body_limit(o.max_body_bytes);
  expire_after(stream, o.idle_timeout);
  auto [ec, n] =
      co_await bhttp::async_read_header(stream, buffer, parser, net::as_tuple(net::use_awaitable));
  if (!ec && !parser.is_done()) {
    if (parser.get()[bhttp::field::expect] == "100-continue")
      ec = co_await write_continue(stream, o);
    if (!ec) {
      expire_after(stream, o.read_timeout);
      std::tie(ec, n) =
          co_await bhttp::async_read(stream, buffer, parser, net::as_tuple(net::use_awaitable));
    }
  }
  if (ec) {
    co_await answer_read_failure(stream, shared, parser, ec);
    co_return false;
  }
  out = parser.release();
  co_return true;
}

// One access-log line. A plain function: its temporaries stay off the coroutine frame.
void log_access(std::string_view id, std::string_view what, const response& res, std::size_t bytes,
                std::chrono::steady_clock::time_point started, beast::error_code write_error);

}  // namespace detail

// Serves requests on `stream` until the peer closes, an error, or a response without
// keep-alive. Does not close the stream; the caller owns it.
//
// `session` is the cancellation signal bound to the coroutine that runs this (see
// spawn_connection): the disconnect watch emits it. Without one, handlers are not told of a
// client that leaves (they finish at their own pace).
template <class Stream>
net::awaitable<void> serve_connection(Stream& stream, connection_shared& shared,
                                      std::shared_ptr<net::cancellation_signal> session = {}) {
  // A cancelled wait answers with a value (see feed::hub): no exceptions from cancellation.
  co_await net::this_coro::throw_if_cancelled(false);
  detail::counted connection_count(shared.connections);
  const auto& o = shared.options;
  beast::flat_buffer buffer;
  detail::connection<Stream> io(stream, buffer, std::move(session));

  for (;;) {
    auto req = std::make_unique<request>();
    if (!co_await detail::read_request(stream, buffer, shared, *req)) co_return;
    const std::string id = shared.make_request_id();
    detail::in_flight_request active(shared);
    const auto started = std::chrono::steady_clock::now();
    // What the answer and the log need of the request, kept apart: a handler may release the
    // request itself (request_context::release_request) while it waits.
    const bool wants_keep_alive = req->keep_alive();
    const unsigned version = req->version();
    std::string logged;
    if (o.access_log) logged = detail::describe(*req);
    detail::expire_never(stream);
    std::unique_ptr<response> res;
    {
      // Routing and the handler call live here rather than in a helper coroutine: every
      // parked poll holds the frames of its whole call chain, so one frame less is memory
      // saved per waiter.
      route_params params;
      if (const handler* h = detail::route(shared.routes, *req, params, res, id)) {
        request_context ctx(req, std::move(params), id, shared.routes, &io, res);
        try {
          co_await (*h)(ctx);
          if (!ctx.replied()) throw std::logic_error("the handler gave no answer");
        } catch (const std::exception& e) {
          ctx.reply(detail::handler_failed(ctx,
                                           !logged.empty() ? logged
                                           : req           ? detail::describe(*req)
                                                           : "(request released)",
                                           e));
        }
      }
      req.reset();
    }
    // A handler that ended without ending its watch (it threw, say) must not leave a read on
    // the socket that would take the first byte of the next request.
    bool peer_gone = false;
    if (io.watching()) peer_gone = co_await io.stop_watch();
    // A disconnect may have cancelled the handler's wait; the next operations must not see it.
    co_await net::this_coro::reset_cancellation_state();
    co_await net::this_coro::throw_if_cancelled(false);
    const bool keep_alive = wants_keep_alive && res->keep_alive() && !peer_gone &&
                            !shared.stopping.load(std::memory_order_relaxed);
    auto [wec, wn] = co_await detail::write_response(stream, *res, version, keep_alive, id, o);
    if (o.access_log) detail::log_access(id, logged, *res, wn, started, wec);
    if (wec || !keep_alive) co_return;
  }
}

// Spawns `serve(stream, shared, signal)` on `ex` with a fresh cancellation signal bound to the
// session coroutine, and calls `done(std::exception_ptr)` when it ends.
template <class Serve, class Done>
void spawn_session(net::any_io_executor ex, Serve serve, Done done) {
  auto signal = std::make_shared<net::cancellation_signal>();
  auto slot = signal->slot();
  net::co_spawn(
      ex, serve(signal),
      net::bind_cancellation_slot(slot, [signal, done = std::move(done)](
                                            std::exception_ptr e) mutable { done(std::move(e)); }));
}

}  // namespace eventfeed::http
