// client/follow.cpp: the one driver of call_on_each_event and async_call_on_each_event.
//
// `follow` is a coroutine that runs a follow_state (every decision: cursor, URLs, backoff,
// cursor file) against the network: it polls (the first poll of a start from "now" resolves it),
// hands answers over, waits between retries. It runs on a strand: the synchronous call spawns it on
// a private io_context and runs that on the calling thread; the asynchronous one spawns it on a
// strand of the caller's executor.
//
// Stopping. A std::stop_callback, registered for the whole run, marks every session cancelled
// (an atomic flag, safe from any thread) and posts onto the strand a task that closes their
// sockets and cancels the timer, so the poll in flight or the wait ends at once with
// operation_aborted; the coroutine then sees the stop requested and returns. The sessions and
// the timer live in a shared `io_parts` that the posted task holds too, so the task is safe even
// if it runs after the coroutine ended.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "client/follow_state.hpp"
#include "client/session.hpp"
#include "client/wire.hpp"
#include "eventfeed/follow.hpp"
#include "eventfeed/follow_async.hpp"

namespace eventfeed {

namespace net = boost::asio;

namespace detail {

namespace {

constexpr auto tuple_awaitable = net::as_tuple(net::use_awaitable);

struct io_parts {
  std::vector<std::unique_ptr<session>> sessions;  // one per URL, in the order of `urls`
  net::steady_timer timer;

  io_parts(net::any_io_executor ex, const follow_options& o) : timer(ex) {
    for (const auto& url : o.urls)
      sessions.push_back(
          std::make_unique<session>(ex, client_options{.url = url,
                                                       .key = o.key,
                                                       .connect_timeout = o.connect_timeout,
                                                       .poll_grace = o.poll_grace}));
  }

  void stop() noexcept {
    for (auto& s : sessions) s->close();
    timer.cancel();
  }
};

// One request to the current URL, read as T.
template <class T, class Parse>
net::awaitable<result<T>> ask(session& s, result<request_spec> spec, Parse parse) {
  if (!spec) co_return std::move(spec).err();
  co_return read_answer<T>(co_await s.exchange(*spec), !s.options().key.empty(), parse);
}

net::awaitable<result<follow_summary>> follow(stream_set streams, event_handler handler,
                                              follow_options options, std::stop_token stop) {
  auto opened = follow_state::open(std::move(streams), options);
  if (!opened) co_return std::move(opened).err();
  follow_state& st = *opened;
  const auto ex = co_await net::this_coro::executor;
  auto io = std::make_shared<io_parts>(ex, options);
  std::stop_callback on_stop(stop, [io, ex] {
    for (auto& s : io->sessions) s->cancel();
    net::post(ex, [io] { io->stop(); });
  });

  for (;;) {
    if (stop.stop_requested()) co_return st.summary();
    session& s = *io->sessions[st.url_index()];
    auto got = co_await ask<poll_result>(
        s, poll_request(st.streams(), st.next_poll(), s.options()),
        [&st](std::string_view body) { return parse_poll(body, st.streams()); });
    if (got) {
      st.succeeded();
      if (auto bad = st.deliver(*got, handler, stop)) co_return std::move(*bad);
      continue;
    }
    if (stop.stop_requested()) co_return st.summary();
    auto retry = st.failed(std::move(got).err());
    if (!retry) co_return std::move(retry).err();
    if (options.on_retry) options.on_retry(*retry);
    if (retry->delay.count() > 0) {
      io->timer.expires_after(retry->delay);
      co_await io->timer.async_wait(tuple_awaitable);
    }
  }
}

}  // namespace

void spawn_follow(net::any_io_executor ex, stream_set streams, event_handler handler,
                  follow_options options, std::stop_token stop, follow_done done) {
  // The completion of co_spawn for awaitable<T> needs a default-constructible T; an optional
  // carries the result.
  auto strand = net::make_strand(ex);
  net::co_spawn(
      strand,
      [](stream_set s, event_handler h, follow_options o,
         std::stop_token st) -> net::awaitable<std::optional<result<follow_summary>>> {
        co_return co_await follow(std::move(s), std::move(h), std::move(o), std::move(st));
      }(std::move(streams), std::move(handler), std::move(options), std::move(stop)),
      [done = std::move(done)](std::exception_ptr e, std::optional<result<follow_summary>> r) {
        if (r) {
          done(e, std::move(*r));
        } else {
          done(e, error{error_kind::cancelled, 0, "cancelled", "the loop ended abnormally"});
        }
      });
}

}  // namespace detail

result<follow_summary> call_on_each_event(const stream_set& streams, event_handler handler,
                                          const follow_options& options, std::stop_token stop) {
  net::io_context ioc{1};
  std::exception_ptr thrown;
  std::optional<result<follow_summary>> out;
  detail::spawn_follow(ioc.get_executor(), streams, std::move(handler), options, std::move(stop),
                       [&](std::exception_ptr e, result<follow_summary> r) {
                         thrown = e;
                         out.emplace(std::move(r));
                       });
  ioc.run();
  if (thrown) std::rethrow_exception(thrown);
  return std::move(*out);
}

}  // namespace eventfeed
