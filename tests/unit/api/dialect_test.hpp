// tests/unit/api/dialect_test.hpp: the ground a dialect's handler tests stand on: a platform
// over a memory store and an engine on a manual clock, a router, a task group, and the handler
// harness that calls the router's handlers without a connection. A fixture derives from it,
// configures its dialect and installs it on `platform_`.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/common/config_table.hpp"
#include "api/common/dialect.hpp"
#include "handler_harness.hpp"
#include "store/memory/memory_store.hpp"

namespace eventfeed::api::testing {

class dialect_test : public ::testing::Test {
 protected:
  dialect_test(std::int64_t wall_ms_start, std::string public_url)
      : clock_(wall_ms_start), platform_{routes_, feed_, clock_, tasks_, std::move(public_url)} {}

  // Configures `d` from TOML text, as the server does from its file; a refusal fails the test
  // (check with HasFatalFailure()).
  static void configure(common::dialect& d, const std::string& toml) {
    toml::table doc = toml::parse(toml);
    common::config_errors errors("test.toml");
    ASSERT_TRUE(d.configure(common::config_table(doc, "", errors))) << errors.message();
  }

  // Appends `events` straight to the store and wakes the hub: what a publish does, without the
  // publish checks. Returns their positions.
  std::vector<core::position> append(std::vector<core::new_event> events) {
    std::vector<core::position> out;
    store_.append(std::move(events), [&](core::result<std::vector<core::event_ptr>> r) {
      feed_.waiter_hub().notify(*r);
      for (auto& e : *r) out.push_back(e->pos);
    });
    return out;
  }

  // Publishes through the engine, so that the checks the dialect set on its streams apply.
  core::result<std::vector<core::event_ptr>> publish_checked(std::vector<core::new_event> events) {
    std::optional<core::result<std::vector<core::event_ptr>>> out;
    harness_.io.restart();
    boost::asio::co_spawn(
        harness_.io,
        [&]() -> boost::asio::awaitable<void> {
          out.emplace(co_await feed_.async_publish(std::move(events)));
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
    harness_.poll();
    if (!out) return core::error{core::errc::internal, "the publish did not complete"};
    return std::move(*out);
  }

  core::manual_clock clock_;
  store::memory::memory_store store_{{}, &clock_};
  feed::engine feed_{store_, clock_, 4};
  http::router routes_;
  boost::asio::io_context io_;  // the task group's
  feed::task_group tasks_{io_.get_executor()};
  common::platform platform_;
  handler_harness harness_{routes_};
};

}  // namespace eventfeed::api::testing
