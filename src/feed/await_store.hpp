// feed/await_store.hpp: a store's callback-style call as an awaitable, for the engine's and the
// queue registry's coroutines.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

#include "core/errc.hpp"

namespace eventfeed::feed {

// `start(callback)` starts the store call; the callback may run on any thread, or inline, and
// the result (a T, usually a core::result) is always posted back to the awaiting coroutine's
// executor.
template <class T, class Start>
boost::asio::awaitable<T> await_store(Start start) {
  namespace net = boost::asio;
  auto ex = co_await net::this_coro::executor;
  co_return co_await net::async_initiate<const net::use_awaitable_t<>&, void(T)>(
      [ex, &start](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        start([shared, ex](T r) {
          net::post(ex,
                    [shared, r = std::move(r)]() mutable { std::move (*shared)(std::move(r)); });
        });
      },
      net::use_awaitable);
}

}  // namespace eventfeed::feed
