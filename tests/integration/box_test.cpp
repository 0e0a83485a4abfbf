// The Box dialect end to end: the event stream, the realtime server and Box's errors, against
// a real server process (the SDKs themselves are in tests/compat).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "server_fixture.hpp"

namespace eventfeed::integration {
namespace {

namespace json = boost::json;

constexpr std::uint64_t offset = 1'000'000'000'000;  // next_stream_position = position + offset

// One [[box.tokens]] table: `token` of user `id` (with `name` unless it is empty), whose stream
// is box:user:<id>.
std::string token_table(std::string_view token, std::string_view id, std::string_view name) {
  const std::string user = "{ id = \"" + std::string(id) + "\"" +
                           (name.empty() ? "" : ", name = \"" + std::string(name) + "\"") + " }";
  return "\n[[box.tokens]]\ntoken = \"" + std::string(token) + "\"\nuser = " + user +
         "\nstream = \"box:user:" + std::string(id) + "\"\n";
}

// Ann (two tokens), Bob, and Cy whose token is the one the rate-limit test spends.
std::string box_config(std::string_view box_settings = "realtime_hold = 2") {
  return test_config({}, "\n[box]\nrate_limit_per_minute = 50\nrealtime_max_retries = 3\n" +
                             std::string(box_settings) + "\n" +
                             token_table("tok-ann", "11", "Ann") +
                             token_table("tok-ann-2", "11", "Ann") +
                             token_table("tok-bob", "12", "Bob") + token_table("tok-cy", "13", ""));
}

header_list token(std::string_view t = "tok-ann") {
  return {{"Authorization", "Bearer " + std::string(t)}};
}

json::object box_data(int i) {
  return {{"created_by", {{"type", "user"}, {"id", "11"}, {"name", "Ann"}, {"login", "ann@x"}}},
          {"source", {{"type", "file"}, {"id", std::to_string(i)}, {"name", "f.txt"}}},
          {"session_id", "s" + std::to_string(i)}};
}

class BoxApi : public ServerTest {
 protected:
  void SetUp() override { start_server(box_config()); }

  // Publishes `n` events of `type` on `stream` in one request; returns the first position.
  std::uint64_t publish_box(std::string_view stream, int n, std::string_view type = "ITEM_UPLOAD",
                            int first = 0) {
    json::array events;
    for (int i = first; i < first + n; ++i)
      events.push_back({{"type", type}, {"data", box_data(i)}});
    return publish(stream, json::serialize(json::object{{"events", events}}))
        .at("first")
        .to_number<std::uint64_t>();
  }
  http_reply events(std::string_view query, std::string_view t = "tok-ann") {
    return client_->get("/2.0/events" + std::string(query), token(t));
  }
  // OPTIONS /2.0/events: the realtime URL as a local target.
  std::string realtime_url(std::string_view t = "tok-ann", std::string_view query = {}) {
    auto reply =
        client_->request(bhttp::verb::options, "/2.0/events" + std::string(query), {}, token(t));
    EXPECT_EQ(reply.status, 200u) << reply;
    const std::string url(reply.json().at("entries").at(0).at("url").as_string());
    EXPECT_TRUE(url.starts_with(server_->url() + "/")) << url;
    return url.substr(server_->url().size());
  }
  static std::uint64_t next(const http_reply& r) {
    return r.json().at("next_stream_position").to_number<std::uint64_t>();
  }
};

TEST_F(BoxApi, StreamPositionsNowZeroResumeAndBeyondTheHead) {
  auto empty = events("?stream_position=now");
  ASSERT_EQ(empty.status, 200u) << empty;
  EXPECT_EQ(empty.header("Content-Type"), "application/json");
  EXPECT_EQ(next(empty), offset) << "an empty stream's head is still not 0";
  const boost::json::value position = empty.json().at("next_stream_position");
  EXPECT_TRUE(position.is_int64() || position.is_uint64()) << "a JSON integer: " << position;

  const auto first = publish_box("box:user:11", 5);
  publish_box("box:user:12", 3);
  auto now = events("?stream_position=now");
  EXPECT_TRUE(now.json().at("entries").as_array().empty());
  EXPECT_EQ(now.json().at("chunk_size"), 0);
  EXPECT_EQ(next(now), offset + first + 4);

  auto all = events("?stream_position=0");
  ASSERT_EQ(all.json().at("chunk_size"), 5) << all;
  EXPECT_EQ(next(all), offset + first + 4);
  EXPECT_EQ(events("").json().at("entries"), all.json().at("entries")) << "absent is 0";
  const auto all_json = all.json();
  const auto& e = all_json.at("entries").at(2);
  EXPECT_EQ(e.at("type"), "event");
  EXPECT_EQ(e.at("event_type"), "ITEM_UPLOAD");
  EXPECT_EQ(e.at("source").at("id"), "2");
  EXPECT_EQ(e.at("session_id"), "s2");
  EXPECT_EQ(e.at("created_by").at("id"), "11");
  EXPECT_EQ(e.at("event_id").as_string().size(), 32u);
  EXPECT_TRUE(e.at("created_at").as_string().ends_with("+00:00"));
  EXPECT_TRUE(e.at("additional_details").is_null());

  auto at_head = events("?stream_position=" + std::to_string(next(now)));
  EXPECT_TRUE(at_head.json().at("entries").as_array().empty());
  EXPECT_EQ(next(at_head), next(now)) << "the same position";

  const auto more = publish_box("box:user:11", 2, "ITEM_MOVE", 5);
  auto resumed = events("?stream_position=" + std::to_string(next(now)));
  ASSERT_EQ(resumed.json().at("chunk_size"), 2);
  EXPECT_EQ(resumed.json().at("entries").at(0).at("event_type"), "ITEM_MOVE");
  EXPECT_EQ(next(resumed), offset + more + 1);
  auto again = events("?stream_position=" + std::to_string(next(now)), "tok-ann-2");
  EXPECT_EQ(again.json().at("entries"), resumed.json().at("entries"))
      << "the same events, the same ids, for any of the user's tokens";

  const auto beyond = next(resumed) + 100;
  auto ahead = events("?stream_position=" + std::to_string(beyond));
  EXPECT_TRUE(ahead.json().at("entries").as_array().empty());
  EXPECT_EQ(next(ahead), beyond) << "never backwards";
}

TEST_F(BoxApi, StreamTypesFilterAndLimitsAreClamped) {
  publish_box("box:user:12", 300, "COMMENT_CREATE");
  publish_box("box:user:12", 300, "ITEM_UPLOAD");
  publish_box("box:user:12", 1, "ITEM_PREVIEW");
  auto count = [&](std::string_view query) {
    auto r = events(query, "tok-bob");
    EXPECT_EQ(r.status, 200u) << r;
    return r.json().at("entries").as_array().size();
  };
  EXPECT_EQ(count("?stream_position=0"), 100u) << "the default limit";
  EXPECT_EQ(count("?stream_position=0&limit=3"), 3u);
  EXPECT_EQ(count("?stream_position=0&limit=500"), 500u);
  EXPECT_EQ(count("?stream_position=0&limit=800"), 500u) << "the Java SDK's 800, clamped";
  auto changes = events("?stream_position=0&stream_type=changes&limit=500", "tok-bob");
  const auto changes_json = changes.json();
  const auto& entries = changes_json.at("entries").as_array();
  ASSERT_EQ(entries.size(), 300u);
  for (const auto& e : entries) ASSERT_EQ(e.at("event_type"), "ITEM_UPLOAD");
  auto sync =
      events("?stream_position=" + std::to_string(next(changes)) + "&stream_type=sync", "tok-bob");
  EXPECT_TRUE(sync.json().at("entries").as_array().empty()) << "ITEM_PREVIEW is `all` only";
  EXPECT_EQ(next(sync), next(events("?stream_position=now", "tok-bob")))
      << "past what the filter skipped";
}

TEST_F(BoxApi, OptionsAnswersTheRealtimeServerAndItsPollSaysNewChangeAtOnce) {
  http_client c(server_->port());
  // As the generated SDKs send it: Content-Type: application/json, no body, no Content-Length.
  auto reply =
      c.request(bhttp::verb::options, "/2.0/events", {},
                {{"Authorization", "Bearer tok-ann"}, {"Content-Type", "application/json"}});
  ASSERT_EQ(reply.status, 200u) << reply;
  EXPECT_EQ(reply.header("Content-Type"), "application/json");
  const auto entry = reply.json().at("entries").at(0);
  EXPECT_EQ(entry.at("ttl"), "10");
  EXPECT_EQ(entry.at("max_retries"), "3");
  EXPECT_EQ(entry.at("retry_timeout"), 610);
  const std::string url(entry.at("url").as_string());
  EXPECT_TRUE(url.starts_with(server_->url() + "/2.0/realtime?channel=")) << url;
  EXPECT_TRUE(url.ends_with("&stream_type=all")) << url;

  const auto head = next(events("?stream_position=now"));
  publish_box("box:user:11", 1);
  const std::string local = url.substr(server_->url().size());
  auto changed = c.get(local + "&stream_position=" + std::to_string(head));
  ASSERT_EQ(changed.status, 200u) << changed;
  EXPECT_EQ(changed.body, R"({"version":1,"message":"new_change"})");
  EXPECT_EQ(changed.header("Content-Type"), "application/json");
  auto with_token = c.get(local + "&stream_position=0", token());
  EXPECT_EQ(with_token.json().at("message"), "new_change") << "a token is accepted, not needed";
}

TEST_F(BoxApi, AParkedRealtimePollIsAnsweredByAPublish) {
  const auto url = realtime_url() + "&stream_position=now";
  request_swarm swarm(server_->port());
  const auto parked = swarm.start(url);
  ASSERT_TRUE(wait_stream_waiters("box:user:11", 1));
  publish_box("box:user:12", 1);
  publish_box("box:user:11", 1, "COMMENT_CREATE");
  ASSERT_TRUE(swarm.wait(parked, 5s));
  auto answer = swarm.result(parked).reply;
  EXPECT_EQ(answer.body, R"({"version":1,"message":"new_change"})") << answer;
  EXPECT_LT(swarm.result(parked).elapsed, 2s) << "not at the end of the hold";
}

TEST_F(BoxApi, AQuietHoldEndsWithReconnect) {
  http_client c(server_->port());
  const auto url = realtime_url("tok-bob") + "&stream_position=now";
  const auto started = std::chrono::steady_clock::now();
  auto reply = c.get(url);
  const auto hold = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(reply.status, 200u) << reply;
  EXPECT_EQ(reply.body, R"({"version":1,"message":"reconnect"})");
  EXPECT_EQ(reply.header("Content-Type"), "application/json");
  EXPECT_GE(hold, 2s) << "held for realtime_hold";
  EXPECT_LT(hold, 2s + 5s) << "then answered (generous: the machine may be busy)";
}

TEST_F(BoxApi, AChannelPastItsTtlAnswersReconnect) {
  start_server(box_config("realtime_hold = 30\nrealtime_ttl = 2"));
  http_client c(server_->port());
  const auto url = realtime_url("tok-bob");
  const auto started = std::chrono::steady_clock::now();
  auto held = c.get(url + "&stream_position=now");
  EXPECT_EQ(held.json().at("message"), "reconnect") << held;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s) << "the hold ends with the channel";
  publish_box("box:user:12", 1);
  auto expired = c.get(url + "&stream_position=0");
  EXPECT_EQ(expired.body, R"({"version":1,"message":"reconnect"})") << "even with events";
  auto fresh = c.get(realtime_url("tok-bob") + "&stream_position=0");
  EXPECT_EQ(fresh.json().at("message"), "new_change");
}

TEST_F(BoxApi, UnknownChannelsAndPollsBeyondMaxRetriesAnswerReconnect) {
  publish_box("box:user:11", 1);
  http_client c(server_->port());
  for (std::string target : {"/2.0/realtime", "/2.0/realtime?channel=0123&stream_position=0"}) {
    auto r = c.get(target);
    EXPECT_EQ(r.status, 200u) << r;
    EXPECT_EQ(r.body, R"({"version":1,"message":"reconnect"})") << target;
  }
  const auto url = realtime_url() + "&stream_position=0";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(c.get(url).json().at("message"), "new_change") << i;
  auto beyond = c.get(url);
  EXPECT_EQ(beyond.status, 200u);
  EXPECT_EQ(beyond.json().at("message"), "reconnect");
}

TEST_F(BoxApi, EveryErrorIsABoxClientError) {
  http_client c(server_->port());
  auto expect_error = [](const http_reply& r, unsigned status, std::string_view code) {
    EXPECT_EQ(r.status, status) << r;
    EXPECT_EQ(r.header("Content-Type"), "application/json") << r;
    auto v = r.json();
    EXPECT_EQ(v.at("type"), "error") << r;
    EXPECT_EQ(v.at("status"), status) << r;
    EXPECT_EQ(v.at("code").as_string(), code) << r;
    EXPECT_FALSE(v.at("message").as_string().empty()) << r;
    EXPECT_EQ(v.at("request_id").as_string(), r.header("X-Request-Id")) << r;
    EXPECT_EQ(r.header("box-request-id"), r.header("X-Request-Id")) << r;
    EXPECT_EQ(v.at("help_url"),
              "https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/");
    EXPECT_TRUE(v.as_object().contains("context_info")) << r;
  };
  const std::string challenge =
      R"(Bearer realm="Service", error="invalid_token", error_description="The access token provided is invalid.")";
  auto missing = c.get("/2.0/events");
  expect_error(missing, 401, "unauthorized");
  EXPECT_EQ(missing.header("WWW-Authenticate"), challenge);
  auto wrong = c.request(bhttp::verb::options, "/2.0/events", {}, token("tok-nobody"));
  expect_error(wrong, 401, "unauthorized");
  EXPECT_EQ(wrong.header("WWW-Authenticate"), challenge);
  EXPECT_EQ(wrong.json().at("message"), "The access token provided is invalid.");

  expect_error(c.get("/2.0/events?stream_type=admin_logs", token()), 403,
               "access_denied_insufficient_permissions");
  expect_error(c.get("/2.0/events?stream_type=admin_logs_streaming", token()), 403,
               "access_denied_insufficient_permissions");
  expect_error(c.get("/2.0/events?stream_type=everything", token()), 400, "bad_request");
  expect_error(c.get("/2.0/events?limit=0", token()), 400, "bad_request");
  expect_error(c.get("/2.0/events?stream_position=-3", token()), 400, "bad_request");
  expect_error(c.request(bhttp::verb::options, "/2.0/events?stream_type=admin_logs", {}, token()),
               403, "access_denied_insufficient_permissions");
  expect_error(c.get("/2.0/files/123", token()), 404, "not_found");
  expect_error(c.post("/2.0/events", "{}", token()), 405, "method_not_allowed");

  for (int i = 0; i < 50; ++i) ASSERT_EQ(c.get("/2.0/events", token("tok-cy")).status, 200u) << i;
  auto limited = c.get("/2.0/events", token("tok-cy"));
  expect_error(limited, 429, "rate_limit_exceeded");
  EXPECT_EQ(limited.json().at("message"), "Request rate limit exceeded, please try again later");
  const int retry_after = std::stoi(limited.header("Retry-After"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 60);
  EXPECT_EQ(c.get("/2.0/events", token("tok-bob")).status, 200u) << "a budget per token";
}

TEST_F(BoxApi, PublishesToAUsersStreamAreChecked) {
  http_client c(server_->port());
  auto refused = [&](std::string data) {
    auto r = c.post("/v1/streams/box:user:11/events",
                    R"({"type":"ITEM_UPLOAD","data":)" + data + "}", bearer());
    EXPECT_EQ(r.status, 400u) << r;
    return std::string(r.json().at("error").at("message").as_string());
  };
  const std::string prefix =
      "a 'ITEM_UPLOAD' event on stream 'box:user:11' (served by the box dialect): ";
  EXPECT_EQ(refused("{}"), prefix + "'created_by' is required");
  EXPECT_EQ(refused(R"({"created_by":{"type":"user","id":11}})"),
            prefix + "'created_by.id' must be a string");
  EXPECT_EQ(refused(R"({"created_by":{"type":"user","id":"11"},"source":{"type":"file","id":5}})"),
            prefix + "'source.id' must be a string");
  EXPECT_EQ(refused(R"({"created_by":{"type":"user","id":"11"},"session_id":5})"),
            prefix + "'session_id' must be a string or null");
  auto ok =
      c.post("/v1/streams/box:user:11/events",
             R"({"type":"ITEM_UPLOAD","data":{"created_by":{"type":"user","id":"11"}}})", bearer());
  EXPECT_EQ(ok.status, 200u) << ok;
  auto other =
      c.post("/v1/streams/box:user:99/events", R"({"type":"ITEM_UPLOAD","data":{}})", bearer());
  EXPECT_EQ(other.status, 200u) << "a stream no token serves is not checked";
}

}  // namespace
}  // namespace eventfeed::integration
