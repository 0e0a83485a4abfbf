// eventfeed/follow_async.hpp: call_on_each_event for Asio programs, as an asynchronous
// operation with a completion token (a callback, use_awaitable for co_await, use_future, ...).
//
//   net::awaitable<void> consume(std::stop_token stop) {
//     auto end = co_await eventfeed::async_call_on_each_event(
//         co_await net::this_coro::executor, "room:alice",
//         [](const eventfeed::delivery& d) { ... }, options, stop, net::use_awaitable);
//     if (!end) std::cerr << end.err().to_string() << '\n';
//   }
//
// It is the very loop of eventfeed/follow.hpp (same cursor, retries, backoff, failover and
// cursor file; see there), run as a coroutine on a strand of `ex` instead of on a private
// io_context: nothing blocks a thread of `ex` except the handler and the cursor file writes,
// which run on it. The completion signature is void(std::exception_ptr, result<follow_summary>):
// the exception is what the handler threw (co_await rethrows it), else null. The operation
// ends when `stop` is requested or an error cannot be retried; the handler of the token is
// invoked through its associated executor (default: `ex`).
//
// This header brings in Boost.Asio; eventfeed/follow.hpp does not, and plain C++ programs use
// that one.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <exception>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <utility>

#include "eventfeed/follow.hpp"

namespace eventfeed {

namespace detail {
using follow_done = std::function<void(std::exception_ptr, result<follow_summary>)>;
// Starts the loop on a new strand of `ex`; `done` is called once, on that strand.
void spawn_follow(boost::asio::any_io_executor ex, stream_set streams, event_handler handler,
                  follow_options options, std::stop_token stop, follow_done done);
}  // namespace detail

template <class CompletionToken>
auto async_call_on_each_event(boost::asio::any_io_executor ex, stream_set streams,
                              event_handler handler, follow_options options, std::stop_token stop,
                              CompletionToken&& token) {
  using signature = void(std::exception_ptr, result<follow_summary>);
  return boost::asio::async_initiate<CompletionToken, signature>(
      [](auto completion, boost::asio::any_io_executor on, stream_set names, event_handler h,
         follow_options o, std::stop_token st) {
        // std::function needs a copyable target; the completion handler may be move-only.
        auto held = std::make_shared<decltype(completion)>(std::move(completion));
        auto to = boost::asio::get_associated_executor(*held, on);
        detail::spawn_follow(on, std::move(names), std::move(h), std::move(o), std::move(st),
                             [held, to](std::exception_ptr e, result<follow_summary> r) {
                               boost::asio::dispatch(to, [held, e, r = std::move(r)]() mutable {
                                 std::move (*held)(e, std::move(r));
                               });
                             });
      },
      token, std::move(ex), std::move(streams), std::move(handler), std::move(options),
      std::move(stop));
}

}  // namespace eventfeed
