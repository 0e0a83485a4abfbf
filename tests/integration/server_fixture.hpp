// tests/integration/server_fixture.hpp: a fresh eventfeed process per test, and the calls the
// tests make against it (publish, poll, waiter counts) spelled once.
//
// Every test gets its own server on a port the kernel picks, so tests share no state (the
// memory store starts empty) and may run in any order or in parallel processes. Two keys:
// `publisher_key` may publish and read everything, `reader_key` may only read `room:*`.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/value.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "http_client.hpp"
#include "server_process.hpp"

namespace eventfeed::integration {

inline constexpr std::string_view publisher_key = "test-publisher-key";
inline constexpr std::string_view reader_key = "test-reader-key";

// The test config; `server_lines` are extra `key = value` lines for its [server] table and
// `extra_tables` whole tables appended at the end.
std::string test_config(std::string_view server_lines = {}, std::string_view extra_tables = {});

header_list bearer(std::string_view key = publisher_key);

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { start_server(test_config()); }

  // Replaces the running server (if any) with one on `config_toml`.
  void start_server(const std::string& config_toml);

  // POST /v1/streams/{stream}/events with the publisher key; asserts 200 and returns the
  // parsed answer ({"first","last"}).
  boost::json::object publish(std::string_view stream, std::string_view body);
  // Publishes one event and returns its position.
  std::uint64_t publish_one(std::string_view stream, std::string_view type,
                            std::string_view data_json = "{}");
  // GET /v1/streams/{stream}/events?{query} with the publisher key, on the fixture's client.
  http_reply poll(std::string_view stream, std::string_view query);

  std::uint64_t stream_waiters(std::string_view stream);
  std::uint64_t total_waiters();
  // Waits (bounded) until /healthz reports `n` parked polls in total.
  ::testing::AssertionResult wait_total_waiters(std::uint64_t n,
                                                std::chrono::milliseconds timeout = 30s);
  ::testing::AssertionResult wait_stream_waiters(std::string_view stream, std::uint64_t n,
                                                 std::chrono::milliseconds timeout = 30s);

  // Adds the server's stderr to a failing test's output.
  void TearDown() override;

  std::unique_ptr<server_process> server_;
  std::unique_ptr<http_client> client_;
};

// The native rendering of an event, as the server writes it.
std::string event_json(std::uint64_t position, std::int64_t time_ms, std::string_view type,
                       std::string_view data_json);
// The time of events[i] in a poll answer.
std::int64_t event_time(const http_reply& reply, std::size_t i);
// The expected error body of the native API.
std::string error_json(std::string_view code, std::string_view message);

}  // namespace eventfeed::integration
