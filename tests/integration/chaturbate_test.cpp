// The Chaturbate-style feed end to end: a client written the way the seed's example is (fetch,
// process the events, load nextUrl, forever), against a real server process.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <csignal>
#include <thread>

#include "server_fixture.hpp"

namespace eventfeed::integration {
namespace {

namespace json = boost::json;

std::string rooms_config(bool with_first_token = true) {
  std::string tokens = with_first_token ? R"("tok-alice-1", "tok-alice-2")" : R"("tok-alice-2")";
  return test_config({}, R"(
[[chaturbate.rooms]]
username = "alice"
tokens = [)" + tokens + R"(]
stream = "room:alice"

[[chaturbate.rooms]]
username = "bob"
tokens = ["tok-bob"]
stream = "room:bob"
)");
}

json::value user(int i) {
  return {{"username", "user" + std::to_string(i)},
          {"inFanclub", i % 5 == 0},
          {"hasTokens", true},
          {"isMod", i % 7 == 0},
          {"recentTips", "some"},
          {"gender", "f"},
          {"subgender", ""}};
}

// Event i of a run that goes through the twelve methods in turn.
std::pair<std::string, json::value> room_event(int i) {
  static const char* methods[] = {
      "broadcastStart", "broadcastStop", "userEnter",     "userLeave",
      "follow",         "unfollow",      "fanclubJoin",   "chatMessage",
      "privateMessage", "tip",           "mediaPurchase", "roomSubjectChange"};
  const std::string method = methods[i % 12];
  json::object obj{{"broadcaster", "alice"}, {"user", user(i)}};
  if (method == "chatMessage")
    obj["message"] = {{"color", "#494949"},
                      {"message", "hello " + std::to_string(i)},
                      {"font", "default"},
                      {"bgColor", nullptr}};
  if (method == "privateMessage")
    obj["message"] = {{"color", ""},
                      {"message", "psst"},
                      {"font", "default"},
                      {"fromUser", "user" + std::to_string(i)},
                      {"toUser", "alice"}};
  if (method == "tip") obj["tip"] = {{"tokens", 1 + i % 50}, {"isAnon", false}, {"message", ""}};
  if (method == "mediaPurchase")
    obj["media"] = {{"id", i}, {"type", "video"}, {"name", "clip"}, {"tokens", 30}};
  if (method == "roomSubjectChange")
    obj = {{"broadcaster", "alice"}, {"subject", "#" + std::to_string(i)}};
  return {method, obj};
}

class ChaturbateFeed : public ServerTest {
 protected:
  void SetUp() override { start_server(rooms_config()); }

  // The path and query of an absolute URL this server handed out.
  std::string local(std::string_view url) {
    const std::string origin = server_->url();
    EXPECT_TRUE(url.starts_with(origin)) << url;
    return std::string(url.substr(origin.size()));
  }

  // Publishes events first..first+n-1 of the run in one request.
  void publish_run(int first, int n) {
    json::array events;
    for (int i = first; i < first + n; ++i) {
      auto [method, obj] = room_event(i);
      events.push_back({{"type", method}, {"data", obj}});
    }
    publish("room:alice", json::serialize(json::object{{"events", events}}));
  }
};

TEST_F(ChaturbateFeed, AFollowerGetsEveryEventOfTheTwelveMethodsOnceInOrder) {
  constexpr int total = 2000;
  // The follower starts first (its first request, without a cursor, parks on the empty room),
  // then the run is published in batches while it follows nextUrl.
  std::vector<json::value> seen;
  std::string failure;
  int requests = 0;
  std::thread follower([&] {
    http_client c(server_->port());
    std::string url = "/events/alice/tok-alice-1/?timeout=5";
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (static_cast<int>(seen.size()) < total && std::chrono::steady_clock::now() < deadline) {
      auto reply = c.get(url);
      ++requests;
      if (reply.status != 200 || !reply.json().at("nextUrl").is_string()) {
        failure = "request " + std::to_string(requests) + " answered " + reply.body;
        return;
      }
      auto v = reply.json();
      for (const auto& e : v.at("events").as_array()) seen.push_back(e);
      url = local(v.at("nextUrl").as_string());
    }
  });
  ASSERT_TRUE(wait_stream_waiters("room:alice", 1));
  for (int i = 0; i < total; i += 100) publish_run(i, 100);
  follower.join();
  ASSERT_EQ(failure, "");
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(total)) << "after " << requests << " requests";
  std::uint64_t previous = 0;
  for (int i = 0; i < total; ++i) {
    auto [method, obj] = room_event(i);
    ASSERT_EQ(seen[i].at("method"), json::value(method)) << i;
    ASSERT_EQ(seen[i].at("object"), json::value(obj)) << i;
    // "<ms>-<position>": oldest first, each once.
    const std::string id(seen[i].at("id").as_string());
    const auto dash = id.find('-');
    ASSERT_EQ(dash, 13u) << id;
    const auto pos = std::stoull(id.substr(dash + 1));
    ASSERT_GT(pos, previous) << id;
    previous = pos;
  }
  EXPECT_LT(requests, total / 10) << "events come in batches, not one request each";
}

TEST_F(ChaturbateFeed, TimeoutZeroAnswersAtOnceAndTheHoldKeepsToTheTimeout) {
  http_client c(server_->port());
  auto started = std::chrono::steady_clock::now();
  auto now = c.get("/events/bob/tok-bob/?timeout=0");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 500ms);
  ASSERT_EQ(now.status, 200u) << now;
  EXPECT_TRUE(now.json().at("events").as_array().empty());
  EXPECT_EQ(now.header("Content-Type"), "application/json");
  const std::string next(now.json().at("nextUrl").as_string());
  EXPECT_TRUE(next.starts_with(server_->url() + "/events/bob/tok-bob/?i=")) << next;
  EXPECT_TRUE(next.ends_with("&timeout=0")) << next;

  started = std::chrono::steady_clock::now();
  auto held = c.get(local(next).replace(local(next).find("timeout=0"), 9, "timeout=2"));
  const auto hold = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(held.status, 200u) << held;
  EXPECT_TRUE(held.json().at("events").as_array().empty());
  EXPECT_GE(hold, 2s);
  EXPECT_LT(hold, 3s) << "the hold exceeds the timeout by less than a second";
  EXPECT_TRUE(std::string(held.json().at("nextUrl").as_string()).ends_with("&timeout=2"));
}

TEST_F(ChaturbateFeed, The2001stRequestOfAMinuteIsRefusedUntilRetryAfter) {
  http_client c(server_->port());
  for (int i = 0; i < 2000; ++i) {
    auto r = c.get("/events/bob/tok-bob/?timeout=0");
    ASSERT_EQ(r.status, 200u) << "request " << i + 1 << ": " << r;
  }
  auto refused = c.get("/events/bob/tok-bob/?timeout=0");
  ASSERT_EQ(refused.status, 429u) << refused;
  EXPECT_EQ(refused.header("Content-Type"), "application/json");
  EXPECT_TRUE(refused.json().at("status").is_string());
  const int retry_after = std::stoi(refused.header("Retry-After"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 60);
  EXPECT_EQ(c.get("/events/alice/tok-alice-1/?timeout=0").status, 200u)
      << "another token has its own budget";
  // A client that waits what it was told gets through again.
  std::this_thread::sleep_for(std::chrono::seconds(retry_after));
  auto again = c.get("/events/bob/tok-bob/?timeout=0");
  EXPECT_EQ(again.status, 200u) << again;
}

TEST_F(ChaturbateFeed, ARevokedTokenIsRefusedAfterSighupWhileAnotherTokensPollGoesOn) {
  request_swarm swarm(server_->port());
  const auto parked = swarm.start("/events/alice/tok-alice-2/?timeout=30");
  ASSERT_TRUE(wait_stream_waiters("room:alice", 1));
  http_client c(server_->port());
  ASSERT_EQ(c.get("/events/alice/tok-alice-1/?timeout=0").status, 200u);

  server_->reload(rooms_config(/*with_first_token=*/false));
  ASSERT_TRUE(
      wait_until([&] { return c.get("/events/alice/tok-alice-1/?timeout=0").status == 401; }, 5s,
                 "the revoked token refused"));
  auto refused = c.get("/events/alice/tok-alice-1/?timeout=0");
  EXPECT_EQ(refused.json().at("status"), "invalid token or username");

  EXPECT_FALSE(swarm.result(parked).done) << "the other token's poll is still parked";
  auto [method, obj] = room_event(9);
  publish("room:alice", json::serialize(json::object{{"type", method}, {"data", obj}}));
  ASSERT_TRUE(swarm.wait(parked, 5s));
  const auto answer = swarm.result(parked).reply;
  ASSERT_EQ(answer.status, 200u) << answer;
  ASSERT_EQ(answer.json().at("events").as_array().size(), 1u);
  EXPECT_EQ(answer.json().at("events").as_array()[0].at("method"), "tip");
}

TEST_F(ChaturbateFeed, ErrorsAreJsonAndPublishesAreChecked) {
  http_client c(server_->port());
  auto wrong = c.get("/events/alice/tok-bob/");
  EXPECT_EQ(wrong.status, 401u) << wrong;
  EXPECT_EQ(wrong.json().at("status"), "invalid token or username");
  auto unknown = c.get("/events/alice");
  EXPECT_EQ(unknown.status, 404u) << unknown;
  EXPECT_TRUE(unknown.json().is_object());

  auto bad =
      c.post("/v1/streams/room:alice/events",
             R"({"type":"tip","data":{"broadcaster":"alice","user":{"username":"x"}}})", bearer());
  EXPECT_EQ(bad.status, 400u) << bad;
  EXPECT_EQ(bad.json().at("error").at("message"),
            "a 'tip' event on stream 'room:alice' (served by the chaturbate dialect): "
            "'user.inFanclub' is required");
  auto not_a_method = c.post("/v1/streams/room:alice/events", R"({"type":"dance"})", bearer());
  EXPECT_EQ(not_a_method.status, 400u) << not_a_method;
}

}  // namespace
}  // namespace eventfeed::integration
