// tests/support/run_awaitable.hpp: runs one coroutine to completion on a plain io_context, for
// unit tests of code that awaits a store (the queue registry, the credential store).
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <optional>

namespace eventfeed::testing {

// Runs `io` until `work` has finished (and whatever else it posted); returns its value. An
// exception `work` throws is rethrown here.
template <class T>
T run_awaitable(boost::asio::io_context& io, boost::asio::awaitable<T> work) {
  namespace net = boost::asio;
  std::optional<T> out;
  net::co_spawn(
      io, [&]() -> net::awaitable<void> { out.emplace(co_await std::move(work)); },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.restart();
  io.run();
  EXPECT_TRUE(out.has_value());
  return std::move(*out);
}

}  // namespace eventfeed::testing
