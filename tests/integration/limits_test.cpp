// Limits, authentication and error answers of a real server: every rejection has its status
// and the native error body {"error":{"code","message"}}.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "server_fixture.hpp"

namespace eventfeed::integration {
namespace {

using Limits = ServerTest;
using Auth = ServerTest;
using Errors = ServerTest;

constexpr std::size_t mebibyte = 1024 * 1024;

// Checks the status, the exact body, and the headers every error answer carries.
void expect_error(const http_reply& reply, unsigned status, std::string_view code,
                  std::string_view message) {
  EXPECT_EQ(reply.status, status) << reply;
  EXPECT_EQ(reply.body, error_json(code, message)) << reply;
  EXPECT_EQ(reply.header("Content-Type"), "application/json") << reply;
  EXPECT_FALSE(reply.header("X-Request-Id").empty()) << reply;
}

// Checks status and code; the message is the parser's own words, so only its start is fixed.
void expect_error_code(const http_reply& reply, unsigned status, std::string_view code,
                       std::string_view message_prefix) {
  EXPECT_EQ(reply.status, status) << reply;
  auto v = reply.json();
  ASSERT_TRUE(v.is_object()) << reply;
  ASSERT_EQ(v.as_object().size(), 1u) << reply;
  const auto& err = v.at("error").as_object();
  EXPECT_EQ(err.size(), 2u) << reply;
  EXPECT_EQ(std::string(err.at("code").as_string()), code) << reply;
  EXPECT_TRUE(std::string(err.at("message").as_string()).starts_with(message_prefix)) << reply;
  EXPECT_EQ(reply.header("Content-Type"), "application/json") << reply;
  EXPECT_FALSE(reply.header("X-Request-Id").empty()) << reply;
}

// Sends `bytes` on a fresh connection and returns the one answer, checking the server closed.
http_reply raw_exchange(unsigned short port, std::string_view bytes) {
  raw_connection conn(port);
  conn.send(bytes);  // may fail part-way: the server can answer and close before reading all
  auto got = conn.read_until_closed(10s);
  EXPECT_TRUE(got.closed) << "the server kept the connection open after rejecting the request";
  auto replies = parse_replies(got.data);
  if (replies.size() != 1) {
    ADD_FAILURE() << "expected exactly one answer, got " << replies.size() << ":\n" << got.data;
    return {};
  }
  EXPECT_FALSE(replies[0].keep_alive) << replies[0];
  return replies[0];
}

std::string auth_line() {
  return "Authorization: Bearer " + std::string(publisher_key) + "\r\n";
}

// A publish body of exactly `size` bytes.
std::string padded_event(std::size_t size) {
  const std::string head = R"({"type":"big","data":{"pad":")";
  const std::string tail = R"("}})";
  return head + std::string(size - head.size() - tail.size(), 'x') + tail;
}

TEST_F(Limits, BodyOverOneMebibyteIs413) {
  auto reply = raw_exchange(server_->port(),
                            "POST /v1/streams/room:a/events HTTP/1.1\r\n"
                            "Host: test\r\n" +
                                auth_line() +
                                "Content-Type: application/json\r\n"
                                "Content-Length: " +
                                std::to_string(mebibyte + 1) + "\r\n\r\n" +
                                padded_event(mebibyte + 1).substr(0, 4096));
  expect_error(reply, 413, "payload_too_large", "request body is larger than 1048576 bytes");
}

TEST_F(Limits, ChunkedBodyOverOneMebibyteIs413) {
  auto reply = raw_exchange(server_->port(),
                            "POST /v1/streams/room:a/events HTTP/1.1\r\n"
                            "Host: test\r\n" +
                                auth_line() + "Transfer-Encoding: chunked\r\n\r\n" + "100001\r\n");
  expect_error(reply, 413, "payload_too_large", "request body is larger than 1048576 bytes");
}

TEST_F(Limits, BodyOfExactlyOneMebibyteIsAccepted) {
  const std::string body = padded_event(mebibyte);
  ASSERT_EQ(body.size(), mebibyte);
  auto reply = client_->post("/v1/streams/room:big/events", body, bearer());
  ASSERT_EQ(reply.status, 200u) << reply;
  auto polled = poll("room:big", "after=0&timeout=0");
  ASSERT_EQ(polled.status, 200u) << polled.status;
  EXPECT_EQ(polled.json().at("events").at(0).at("data"), boost::json::parse(body).at("data"))
      << "the stored event differs from the one published";
}

TEST_F(Limits, HeaderBlockOver16KiBIs431) {
  auto reply = raw_exchange(server_->port(), "GET /healthz HTTP/1.1\r\nHost: test\r\nX-Pad: " +
                                                 std::string(17 * 1024, 'h') + "\r\n\r\n");
  expect_error(reply, 431, "headers_too_large", "request header block is larger than 16384 bytes");
}

TEST_F(Limits, HeaderBlockUnder16KiBIsAccepted) {
  auto reply = client_->get("/healthz", {{"X-Pad", std::string(15 * 1024, 'h')}});
  EXPECT_EQ(reply.status, 200u) << reply;
}

TEST_F(Limits, BatchOverOneThousandEventsIs413AndPublishesNothing) {
  auto batch = [](int n, bool multi) {
    std::string body = R"({"events":[)";
    for (int i = 0; i < n; ++i) {
      body += i ? "," : "";
      body += multi ? R"({"stream":"room:batch","type":"t"})" : R"({"type":"t"})";
    }
    return body + "]}";
  };
  auto over = client_->post("/v1/streams/room:batch/events", batch(1001, false), bearer());
  expect_error(over, 413, "payload_too_large",
               "'events' has 1001 items; at most 1000 are allowed in one publish");
  auto over_multi = client_->post("/v1/events", batch(1001, true), bearer());
  expect_error(over_multi, 413, "payload_too_large",
               "'events' has 1001 items; at most 1000 are allowed in one publish");
  auto info = client_->get("/v1/streams/room:batch", bearer());
  EXPECT_EQ(info.body, R"({"stream":"room:batch","head":0,"oldest":0,"waiters":0})");

  auto full = client_->post("/v1/streams/room:batch/events", batch(1000, false), bearer());
  ASSERT_EQ(full.status, 200u) << full;
  const auto last = full.json().at("last").to_number<std::uint64_t>();
  auto polled = poll("room:batch", "after=0&limit=1000&timeout=0");
  ASSERT_EQ(polled.status, 200u);
  EXPECT_EQ(polled.json().at("events").as_array().size(), 1000u);
  EXPECT_EQ(polled.json().at("next").to_number<std::uint64_t>(), last);
}

TEST_F(Errors, MalformedJsonIs400InvalidJson) {
  auto truncated = client_->post("/v1/streams/room:a/events", R"({"type":"x",)", bearer());
  expect_error_code(truncated, 400, "invalid_json", "body is not valid JSON: ");
  auto not_object = client_->post("/v1/streams/room:a/events", "[1,2]", bearer());
  expect_error(not_object, 400, "invalid_json", "body must be a JSON object");
  auto multi = client_->post("/v1/events", "{]", bearer());
  expect_error_code(multi, 400, "invalid_json", "body is not valid JSON: ");
}

TEST_F(Errors, MissingOrWrongEventFieldsAre400) {
  auto no_type = client_->post("/v1/streams/room:a/events", R"({"data":{}})", bearer());
  expect_error(no_type, 400, "bad_request", "'type' must be a non-empty string");
  auto bad_data =
      client_->post("/v1/streams/room:a/events", R"({"type":"t","data":[1]})", bearer());
  expect_error(bad_data, 400, "bad_request", "'data' must be a JSON object");
}

TEST_F(Errors, BadStreamNameIs400InvalidStream) {
  auto bad_char = client_->post("/v1/streams/bad!name/events", R"({"type":"t"})", bearer());
  expect_error(bad_char, 400, "invalid_stream",
               "stream name may only contain letters, digits and {}:._- characters");
  auto encoded_space = poll("bad%20name", "timeout=0");
  expect_error(encoded_space, 400, "invalid_stream",
               "stream name may only contain letters, digits and {}:._- characters");
  auto too_long = poll(std::string(201, 's'), "timeout=0");
  expect_error(too_long, 400, "invalid_stream", "stream name is longer than 200 characters");
  auto multi = client_->post("/v1/events", R"({"events":[{"stream":"a b","type":"t"}]})", bearer());
  expect_error(multi, 400, "invalid_stream",
               "events[0]: stream name may only contain letters, digits and {}:._- characters");
}

TEST_F(Errors, BadPollParametersAre400) {
  expect_error(poll("room:a", "timeout=soon"), 400, "bad_request",
               "'timeout' must be a number of seconds, 0 or more");
  expect_error(poll("room:a", "timeout=-1"), 400, "bad_request",
               "'timeout' must be a number of seconds, 0 or more");
  expect_error(poll("room:a", "after=yesterday"), 400, "bad_request",
               "'after' must be a position (a non-negative integer) or 'now'");
  expect_error(poll("room:a", "limit=0"), 400, "bad_request", "'limit' must be a positive integer");
}

TEST_F(Auth, MissingKeyIs401WithAChallenge) {
  auto reply = client_->post("/v1/streams/room:a/events", R"({"type":"t"})");
  expect_error(reply, 401, "unauthorized", "missing 'Authorization: Bearer <key>' header");
  EXPECT_EQ(reply.header("WWW-Authenticate"), "Bearer");
  auto polled = client_->get("/v1/streams/room:a/events?timeout=0");
  expect_error(polled, 401, "unauthorized", "missing 'Authorization: Bearer <key>' header");
  EXPECT_EQ(polled.header("WWW-Authenticate"), "Bearer");
}

TEST_F(Auth, WrongKeyIs401) {
  auto unknown =
      client_->post("/v1/streams/room:a/events", R"({"type":"t"})", bearer("not-a-known-key"));
  expect_error(unknown, 401, "unauthorized", "unknown key");
  EXPECT_EQ(unknown.header("WWW-Authenticate"), "Bearer");
  auto basic = client_->get("/v1/streams/room:a", {{"Authorization", "Basic dXNlcjpwYXNz"}});
  expect_error(basic, 401, "unauthorized", "Authorization header must be 'Bearer <key>'");
  EXPECT_EQ(basic.header("WWW-Authenticate"), "Bearer");
}

TEST_F(Auth, KeyWithoutTheRightIs403) {
  auto publish_denied =
      client_->post("/v1/streams/room:a/events", R"({"type":"t"})", bearer(reader_key));
  expect_error(publish_denied, 403, "forbidden", "this key may not publish to stream 'room:a'");
  auto read_denied = poll("user:1", "timeout=0");  // the publisher key may read everything
  EXPECT_EQ(read_denied.status, 200u) << read_denied;
  auto reader_denied = client_->get("/v1/streams/user:1/events?timeout=0", bearer(reader_key));
  expect_error(reader_denied, 403, "forbidden", "this key may not read stream 'user:1'");
  auto multi_denied = client_->post("/v1/events", R"({"events":[{"stream":"room:a","type":"t"}]})",
                                    bearer(reader_key));
  expect_error(multi_denied, 403, "forbidden", "this key may not publish to stream 'room:a'");
  // What the reader key may do, it can.
  auto allowed = client_->get("/v1/streams/room:a/events?timeout=0", bearer(reader_key));
  EXPECT_EQ(allowed.status, 200u) << allowed;
  EXPECT_EQ(allowed.body, R"({"events":[],"next":0,"gap":false})");
}

TEST_F(Errors, UnknownRouteIs404) {
  expect_error(client_->get("/v2/nothing", bearer()), 404, "not_found", "no such endpoint");
  expect_error(client_->get("/v1/streams/room:a/events/extra", bearer()), 404, "not_found",
               "no such endpoint");
}

TEST_F(Errors, WrongMethodIs405) {
  expect_error(client_->request(bhttp::verb::delete_, "/v1/streams/room:a/events", {}, bearer()),
               405, "method_not_allowed", "method not allowed on this path");
  expect_error(client_->request(bhttp::verb::put, "/healthz", "{}", bearer()), 405,
               "method_not_allowed", "method not allowed on this path");
  expect_error(client_->request(bhttp::verb::put, "/v1/events", "{}", bearer()), 405,
               "method_not_allowed", "method not allowed on this path");
}

TEST_F(Errors, MalformedHttpIs400AndClosesTheConnection) {
  auto bad_header =
      raw_exchange(server_->port(), "GET /healthz HTTP/1.1\r\nHost: test\r\nNo colon here\r\n\r\n");
  expect_error_code(bad_header, 400, "malformed_http", "request is not valid HTTP/1.1: ");
  auto bad_version = raw_exchange(server_->port(), "GET /healthz HTTP/7.5\r\nHost: test\r\n\r\n");
  expect_error_code(bad_version, 400, "malformed_http", "request is not valid HTTP/1.1: ");
  auto bad_length = raw_exchange(
      server_->port(), "POST /v1/events HTTP/1.1\r\nHost: test\r\nContent-Length: twelve\r\n\r\n");
  expect_error_code(bad_length, 400, "malformed_http", "request is not valid HTTP/1.1: ");
  // The server is still fine.
  EXPECT_EQ(client_->get("/healthz").status, 200u);
}

}  // namespace
}  // namespace eventfeed::integration
