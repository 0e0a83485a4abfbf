#include "server_fixture.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <iostream>

namespace eventfeed::integration {

std::string test_config(std::string_view server_lines, std::string_view extra_tables) {
  std::string cfg = R"([server]
threads = 2
access_log = false
)";
  cfg += server_lines;
  cfg += R"(

[store]
backend = "memory"

[[keys]]
name = "publisher"
key = ")";
  cfg += publisher_key;
  cfg += R"("
publish = ["*"]
read = ["*"]

[[keys]]
name = "reader"
key = ")";
  cfg += reader_key;
  cfg += R"("
read = ["room:*"]

[[keys]]
name = "room-writer"
key = "test-room-writer-key"
publish = ["room:*"]
)";
  cfg += extra_tables;
  return cfg;
}

header_list bearer(std::string_view key) {
  return {{"Authorization", "Bearer " + std::string(key)}};
}

void ServerTest::start_server(const std::string& config_toml) {
  client_.reset();
  server_.reset();
  server_ = std::make_unique<server_process>(config_toml);
  client_ = std::make_unique<http_client>(server_->port());
}

void ServerTest::TearDown() {
  if (HasFailure() && server_) {
    std::cerr << "--- server stderr ---\n" << server_->process().stderr_text();
    std::cerr << "--- server stdout ---\n" << server_->process().stdout_text() << "---\n";
  }
}

boost::json::object ServerTest::publish(std::string_view stream, std::string_view body) {
  auto reply = client_->post("/v1/streams/" + std::string(stream) + "/events", body, bearer());
  EXPECT_EQ(reply.status, 200u) << reply;
  auto v = reply.json();
  if (!v.is_object()) throw std::runtime_error("publish answer is not an object: " + reply.body);
  return v.get_object();
}

std::uint64_t ServerTest::publish_one(std::string_view stream, std::string_view type,
                                      std::string_view data_json) {
  const std::string body = R"({"type":)" + boost::json::serialize(boost::json::string_view(type)) +
                           R"(,"data":)" + std::string(data_json) + "}";
  auto answer = publish(stream, body);
  const auto first = answer.at("first").to_number<std::uint64_t>();
  EXPECT_EQ(answer.at("last").to_number<std::uint64_t>(), first);
  return first;
}

http_reply ServerTest::poll(std::string_view stream, std::string_view query) {
  return client_->get("/v1/streams/" + std::string(stream) + "/events?" + std::string(query),
                      bearer());
}

std::uint64_t ServerTest::stream_waiters(std::string_view stream) {
  auto reply = client_->get("/v1/streams/" + std::string(stream), bearer());
  if (reply.status != 200) throw std::runtime_error("stream info failed: " + reply.body);
  return reply.json().at("waiters").to_number<std::uint64_t>();
}

std::uint64_t ServerTest::total_waiters() {
  auto reply = client_->get("/healthz");
  if (reply.status != 200) throw std::runtime_error("/healthz failed: " + reply.body);
  return reply.json().at("waiters").to_number<std::uint64_t>();
}

::testing::AssertionResult ServerTest::wait_total_waiters(std::uint64_t n,
                                                          std::chrono::milliseconds timeout) {
  std::uint64_t last = 0;
  auto r = wait_until([&] { return (last = total_waiters()) == n; }, timeout,
                      "/healthz reports " + std::to_string(n) + " waiters");
  if (!r) r << " (last seen: " << last << ")";
  return r;
}

::testing::AssertionResult ServerTest::wait_stream_waiters(std::string_view stream, std::uint64_t n,
                                                           std::chrono::milliseconds timeout) {
  std::uint64_t last = 0;
  auto r = wait_until([&] { return (last = stream_waiters(stream)) == n; }, timeout,
                      "stream " + std::string(stream) + " has " + std::to_string(n) + " waiters");
  if (!r) r << " (last seen: " << last << ")";
  return r;
}

std::string event_json(std::uint64_t position, std::int64_t time_ms, std::string_view type,
                       std::string_view data_json) {
  return R"({"position":)" + std::to_string(position) + R"(,"time":)" + std::to_string(time_ms) +
         R"(,"type":)" + boost::json::serialize(boost::json::string_view(type)) + R"(,"data":)" +
         std::string(data_json) + "}";
}

std::int64_t event_time(const http_reply& reply, std::size_t i) {
  return reply.json().at("events").at(i).at("time").to_number<std::int64_t>();
}

std::string error_json(std::string_view code, std::string_view message) {
  boost::json::value v = {{"error", {{"code", code}, {"message", message}}}};
  return boost::json::serialize(v);
}

}  // namespace eventfeed::integration
