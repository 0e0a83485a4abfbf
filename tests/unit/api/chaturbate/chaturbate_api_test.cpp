#include "api/chaturbate/chaturbate_api.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "../dialect_test.hpp"
#include "api/chaturbate/chaturbate_dialect.hpp"
#include "api/common/config_table.hpp"
#include "store/memory/memory_store.hpp"

namespace eventfeed::api::chaturbate {
namespace {

using namespace std::chrono_literals;
using testing::header;
namespace bhttp = http::bhttp;
namespace json = boost::json;

const std::string user_json =
    R"({"username":"bob","inFanclub":false,"hasTokens":true,"isMod":false,"recentTips":"none","gender":"m"})";

std::string tip(int tokens) {
  return R"({"broadcaster":"alice","user":)" + user_json + R"(,"tip":{"tokens":)" +
         std::to_string(tokens) + R"(,"isAnon":false,"message":""}})";
}

// The dialect configured from TOML and installed on the test platform (two rooms), called
// through the handler harness (no connection).
class Chaturbate : public testing::dialect_test {
 protected:
  Chaturbate() : dialect_test(1'625'274'862'000, "https://events.example.com") {}
  void SetUp() override {
    configure(dialect_, R"(
[chaturbate]
latest_events = 3
rate_limit_per_minute = 5
[[chaturbate.rooms]]
username = "alice"
tokens = ["tok-alice-1", "tok-alice-2"]
stream = "room:alice"
[[chaturbate.rooms]]
username = "carol"
tokens = ["tok-carol"]
stream = "room:carol"
)");
    dialect_.install(platform_);
  }

  std::vector<core::position> publish(const std::string& stream, int n) {
    std::vector<core::new_event> events;
    for (int i = 0; i < n; ++i) events.push_back({stream, "tip", tip(i + 1)});
    return append(std::move(events));
  }

  http::response get(const std::string& target) { return harness_.call(bhttp::verb::get, target); }
  static json::value body(const http::response& res) { return json::parse(res.body()); }
  static std::string text(const json::value& v) { return std::string(v.as_string()); }
  static std::vector<std::string> ids(const json::value& v) {
    std::vector<std::string> out;
    for (const auto& e : v.at("events").as_array()) out.emplace_back(e.at("id").as_string());
    return out;
  }

  chaturbate_dialect dialect_;
};

TEST_F(Chaturbate, WithoutACursorTheLatestEventsAndANextUrl) {
  const auto p = publish("room:alice", 5);
  auto res = get("/events/alice/tok-alice-1/?timeout=0");
  EXPECT_EQ(res.result(), bhttp::status::ok);
  EXPECT_EQ(header(res, "Content-Type"), "application/json");
  auto v = body(res);
  const std::string last = "1625274862000-" + std::to_string(p[4]);
  EXPECT_EQ(ids(v), (std::vector<std::string>{"1625274862000-" + std::to_string(p[2]),
                                              "1625274862000-" + std::to_string(p[3]), last}));
  EXPECT_EQ(text(v.at("nextUrl")),
            "https://events.example.com/events/alice/tok-alice-1/?i=" + last + "&timeout=0");
  const auto& first = v.at("events").as_array()[0];
  EXPECT_EQ(first.at("method"), "tip");
  EXPECT_EQ(first.at("object").at("tip").at("tokens"), 3);
  EXPECT_EQ(first.at("object").at("user").at("username"), "bob");
}

TEST_F(Chaturbate, FollowingNextUrlReadsOnInOrder) {
  publish("room:alice", 2);
  auto v = body(get("/events/alice/tok-alice-1?timeout=0"));  // no trailing slash: the same
  const auto more = publish("room:alice", 4);
  std::string next(v.at("nextUrl").as_string());
  next = next.substr(std::string("https://events.example.com").size());
  auto w = body(get(next));
  ASSERT_EQ(ids(w).size(), 4u);
  EXPECT_EQ(ids(w).back(), "1625274862000-" + std::to_string(more.back()));
}

TEST_F(Chaturbate, AnEmptyAnswerKeepsTheCursorAndTheTimeout) {
  const auto p = publish("room:alice", 1);
  const std::string i = "1625274862000-" + std::to_string(p[0]);
  auto res = harness_.start(bhttp::verb::get, "/events/alice/tok-alice-1/?i=" + i + "&timeout=7");
  EXPECT_FALSE(res->done) << "parked";
  clock_.advance(7s);
  feed_.tick();
  ASSERT_TRUE(harness_.finish(res));
  auto v = body(*res->answer);
  EXPECT_TRUE(v.at("events").as_array().empty());
  EXPECT_EQ(text(v.at("nextUrl")),
            "https://events.example.com/events/alice/tok-alice-1/?i=" + i + "&timeout=7");
}

TEST_F(Chaturbate, AParkedPollIsAnsweredByAPublish) {
  auto res = harness_.start(bhttp::verb::get, "/events/alice/tok-alice-2/?timeout=30");
  EXPECT_FALSE(res->done);
  EXPECT_EQ(feed_.waiters("room:alice"), 1u);
  publish("room:carol", 1);
  harness_.poll();
  EXPECT_FALSE(res->done) << "another room's event";
  publish("room:alice", 1);
  ASSERT_TRUE(harness_.finish(res));
  EXPECT_EQ(body(*res->answer).at("events").as_array().size(), 1u);
}

TEST_F(Chaturbate, TimeoutsAreClampedAndEchoed) {
  publish("room:carol", 1);  // (five requests: the token's whole budget)
  for (auto [given, echoed] :
       std::vector<std::pair<std::string, std::string>>{{"", "10"},
                                                        {"?timeout=0", "0"},
                                                        {"?timeout=90", "90"},
                                                        {"?timeout=500", "90"},
                                                        {"?timeout=-5", "0"}}) {
    // The stream has an event, so each answers at once with it.
    auto v = body(get("/events/carol/tok-carol/" + given));
    std::string next(v.at("nextUrl").as_string());
    EXPECT_EQ(next.substr(next.find("&timeout=")), "&timeout=" + echoed) << given;
  }
  auto bad = get("/events/alice/tok-alice-1/?timeout=abc");
  EXPECT_EQ(bad.result(), bhttp::status::bad_request);
  EXPECT_EQ(body(bad).at("status"), "'timeout' must be a whole number of seconds, 0 or more");
}

TEST_F(Chaturbate, ACursorOlderThanRetentionResumesAtTheOldest) {
  publish("room:alice", 2);
  auto v = body(get("/events/alice/tok-alice-1/?i=1-0&timeout=0"));
  EXPECT_EQ(ids(v).size(), 2u) << "i=...-0 is before everything";
  auto bad = get("/events/alice/tok-alice-1/?i=yesterday");
  EXPECT_EQ(bad.result(), bhttp::status::bad_request);
}

TEST_F(Chaturbate, WrongTokensUsernamesAndPathsAreJsonErrors) {
  for (std::string target :
       {"/events/alice/nope/", "/events/carol/tok-alice-1/", "/events/nobody/tok-alice-1/"}) {
    auto res = get(target);
    EXPECT_EQ(res.result(), bhttp::status::unauthorized) << target;
    EXPECT_EQ(body(res).at("status"), "invalid token or username") << target;
  }
  auto unknown = get("/events/alice/");
  EXPECT_EQ(unknown.result(), bhttp::status::not_found);
  EXPECT_EQ(body(unknown).at("code"), "not_found");
  auto method = harness_.call(bhttp::verb::post, "/events/alice/tok-alice-1/");
  EXPECT_EQ(method.result(), bhttp::status::method_not_allowed);
  EXPECT_TRUE(body(method).is_object());
}

TEST_F(Chaturbate, EachTokenHasItsOwnBudget) {
  publish("room:alice", 1);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(get("/events/alice/tok-alice-1/?timeout=0").result(), bhttp::status::ok);
  auto refused = get("/events/alice/tok-alice-1/?timeout=0");
  EXPECT_EQ(refused.result(), bhttp::status::too_many_requests);
  EXPECT_EQ(header(refused, "Retry-After"), "60");
  EXPECT_EQ(body(refused).at("code"), "rate_limited");
  EXPECT_EQ(get("/events/alice/tok-alice-2/?timeout=0").result(), bhttp::status::ok);
  clock_.advance(60s);
  EXPECT_EQ(get("/events/alice/tok-alice-1/?timeout=0").result(), bhttp::status::ok);
}

TEST_F(Chaturbate, ARoomsStreamRefusesEventsItsClientsCannotRead) {
  auto out = publish_checked({core::new_event{"room:alice", "tip", R"({"broadcaster":"alice"})"}});
  ASSERT_FALSE(out);
  EXPECT_EQ(out.err().message,
            "a 'tip' event on stream 'room:alice' (served by the chaturbate dialect): 'user' is "
            "required");
}

TEST_F(Chaturbate, AReloadRevokesATokenAndAddsARoom) {
  chaturbate_dialect fresh;
  configure(fresh, R"(
[[chaturbate.rooms]]
username = "alice"
tokens = ["tok-alice-2"]
stream = "room:alice"
[[chaturbate.rooms]]
username = "dave"
tokens = ["tok-dave"]
stream = "room:dave"
)");
  auto parked = harness_.start(bhttp::verb::get, "/events/alice/tok-alice-1/?timeout=30");
  dialect_.reload(fresh);
  EXPECT_EQ(get("/events/alice/tok-alice-1/?timeout=0").result(), bhttp::status::unauthorized);
  EXPECT_EQ(get("/events/carol/tok-carol/?timeout=0").result(), bhttp::status::unauthorized);
  publish("room:dave", 1);
  EXPECT_EQ(get("/events/dave/tok-dave/?timeout=0").result(), bhttp::status::ok);
  EXPECT_FALSE(parked->done) << "a poll admitted before the reload goes on";
  publish("room:alice", 1);
  ASSERT_TRUE(harness_.finish(parked));
  EXPECT_EQ(body(*parked->answer).at("events").as_array().size(), 1u);
}

TEST(ChaturbateIds, AreMillisecondsAndPositions) {
  core::event ev;
  ev.pos = 42;
  ev.time_ms = 1625274862454;
  EXPECT_EQ(event_id(ev), "1625274862454-42");
  EXPECT_EQ(parse_event_id("1625274862454-42"), 42u);
  EXPECT_EQ(parse_event_id("1625274862454-0"), 0u);
  for (const char* bad : {"", "-", "12", "12-", "-3", "a-1", "1-b", "1-2-3", "1 -2"})
    EXPECT_EQ(parse_event_id(bad), std::nullopt) << bad;
}

}  // namespace
}  // namespace eventfeed::api::chaturbate
