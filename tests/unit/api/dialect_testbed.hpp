// tests/unit/api/dialect_testbed.hpp: a dialect configured from TOML and installed on a platform
// the way the server assembles one (a memory store on a manual clock, the feed, a router, a task
// group that nothing runs), its handlers called through the handler harness. Events go in
// through the store, as a publish does, and wake parked polls through the hub.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

#include "api/common/config_table.hpp"
#include "api/common/dialect.hpp"
#include "handler_harness.hpp"
#include "store/memory/memory_store.hpp"

namespace eventfeed::api::testing {

class dialect_testbed {
 public:
  dialect_testbed(std::int64_t wall_ms, std::string public_url)
      : clock(wall_ms), platform(routes, feed, clock, tasks, std::move(public_url)) {}

  // Configures `d` from `toml` and installs it; a failed configuration fails the test.
  void install(common::dialect& d, const std::string& toml) {
    toml::table doc = toml::parse(toml);
    common::config_errors errors("test.toml");
    ASSERT_TRUE(d.configure(common::config_table(doc, "", errors))) << errors.message();
    d.install(platform);
  }

  // Appends `events` and notifies the hub; their positions, in order.
  std::vector<core::position> publish(std::vector<core::new_event> events) {
    std::vector<core::position> out;
    store.append(std::move(events), [&](core::result<std::vector<core::event_ptr>> r) {
      ASSERT_TRUE(r) << r.err().message;
      feed.waiter_hub().notify(*r);
      for (auto& e : *r) out.push_back(e->pos);
    });
    return out;
  }

  core::manual_clock clock;
  store::memory::memory_store store{{}, &clock};
  feed::engine feed{store, clock, 4};
  http::router routes;
  boost::asio::io_context io;
  feed::task_group tasks{io.get_executor()};
  common::platform platform;
  handler_harness harness{routes};
};

}  // namespace eventfeed::api::testing
