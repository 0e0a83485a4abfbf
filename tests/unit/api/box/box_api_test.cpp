#include "api/box/box_api.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "../dialect_test.hpp"
#include "api/box/box_dialect.hpp"
#include "api/box/box_event.hpp"
#include "api/common/config_table.hpp"
#include "store/memory/memory_store.hpp"

namespace eventfeed::api::box {
namespace {

namespace bhttp = http::bhttp;
namespace json = boost::json;
using headers = std::vector<std::pair<std::string, std::string>>;
using namespace std::chrono_literals;
using testing::header;

const std::string creator = R"({"type":"user","id":"11","name":"Ann","login":"ann@example.com"})";

std::string box_data(int i) {
  return R"({"created_by":)" + creator + R"(,"source":{"type":"file","id":")" + std::to_string(i) +
         R"(","name":"f.txt"}})";
}

// [[box.tokens]] tables of (token, user id): each user reads box:user:<id>.
std::string tokens_toml(const std::vector<std::pair<std::string, std::string>>& tokens) {
  std::string out;
  for (const auto& [token, id] : tokens)
    out += "[[box.tokens]]\ntoken = \"" + token + "\"\nuser = { id = \"" + id +
           "\", name = \"User " + id + "\" }\nstream = \"box:user:" + id + "\"\n";
  return out;
}

headers bearer(const std::string& token = "tok-ann") {
  return {{"Authorization", "Bearer " + token}};
}

// The dialect configured from TOML and installed on a platform over a memory store with a
// manual clock, called through the handler harness (no connection).
class Box : public testing::dialect_test {
 protected:
  Box() : dialect_test(1'767'323'045'000, std::string(origin)) {}
  void SetUp() override {
    configure(dialect_, R"(
[box]
rate_limit_per_minute = 8
realtime_hold = 30
realtime_ttl = 120
realtime_max_retries = 3
)" + tokens_toml({{"tok-ann", "11"}, {"tok-ann-2", "11"}, {"tok-bob", "12"}}));
    dialect_.install(platform_);
  }

  // Appends straight to the store and wakes the hub (what a publish does, without the checks).
  std::vector<core::position> publish(const std::string& stream, int n,
                                      const std::string& type = "ITEM_UPLOAD") {
    std::vector<core::new_event> events;
    for (int i = 0; i < n; ++i) events.push_back({stream, type, box_data(i)});
    return append(std::move(events));
  }

  http::response get(const std::string& target, const headers& h = bearer()) {
    return harness_.call(bhttp::verb::get, target, h);
  }
  static json::value body(const http::response& res) { return json::parse(res.body()); }
  // OPTIONS /2.0/events, and the realtime URL it gives, as a local target.
  std::string realtime_url(const std::string& query = {}, const headers& h = bearer()) {
    auto res = harness_.call(bhttp::verb::options, "/2.0/events" + query, h);
    EXPECT_EQ(res.result(), bhttp::status::ok) << res.body();
    std::string url(body(res).at("entries").at(0).at("url").as_string());
    EXPECT_TRUE(url.starts_with(origin)) << url;
    return url.substr(origin.size());
  }
  std::uint64_t head_position() {
    return body(get("/2.0/events?stream_position=now"))
        .at("next_stream_position")
        .to_number<std::uint64_t>();
  }

  static constexpr std::string_view origin = "https://events.example.com";
  box_dialect dialect_;
};

TEST_F(Box, OptionsAnswersARealtimeServerWithTheTypesTheSdksRequire) {
  auto res = harness_.call(bhttp::verb::options, "/2.0/events", bearer());
  ASSERT_EQ(res.result(), bhttp::status::ok);
  EXPECT_EQ(header(res, "Content-Type"), "application/json");
  auto v = body(res);
  EXPECT_EQ(v.at("chunk_size"), 1);
  const auto& entry = v.at("entries").at(0);
  EXPECT_EQ(entry.at("type"), "realtime_server");
  EXPECT_EQ(entry.at("ttl"), "2") << "minutes, as a string";
  EXPECT_EQ(entry.at("max_retries"), "3");
  EXPECT_TRUE(entry.at("retry_timeout").is_int64());
  EXPECT_EQ(entry.at("retry_timeout"), 610);
  const std::string url(entry.at("url").as_string());
  EXPECT_TRUE(url.starts_with("https://events.example.com/2.0/realtime?channel=")) << url;
  EXPECT_TRUE(url.ends_with("&stream_type=all")) << url;
  EXPECT_TRUE(realtime_url("?stream_type=changes").ends_with("&stream_type=changes"));
  EXPECT_EQ(dialect_.channels().size(), 2u);
}

TEST_F(Box, ARealtimePollAnswersNewChangeAtOnceWhenTheStreamHasMore) {
  publish("box:user:11", 2);
  const auto url = realtime_url();
  auto from_now = harness_.start(bhttp::verb::get, url + "&stream_position=now");
  auto from_head =
      harness_.start(bhttp::verb::get, url + "&stream_position=" + std::to_string(head_position()));
  EXPECT_FALSE(from_now->done) << "nothing after the head: held";
  EXPECT_FALSE(from_head->done);
  auto at_once = get(url + "&stream_position=0", {});
  EXPECT_EQ(at_once.body(), R"({"version":1,"message":"new_change"})");
  EXPECT_EQ(header(at_once, "Content-Type"), "application/json");
  publish("box:user:12", 1);
  harness_.poll();
  EXPECT_FALSE(from_now->done) << "another user's event";
  publish("box:user:11", 1);
  for (const auto& parked : {from_now, from_head}) {
    ASSERT_TRUE(harness_.finish(parked));
    EXPECT_EQ(parked->answer->body(), R"({"version":1,"message":"new_change"})");
  }
}

TEST_F(Box, ARealtimePollWithoutAPositionWatchesFromTheHead) {
  publish("box:user:11", 1);
  auto parked = harness_.start(bhttp::verb::get, realtime_url(), bearer());
  EXPECT_FALSE(parked->done);
  EXPECT_EQ(feed_.waiters("box:user:11"), 1u);
  publish("box:user:11", 1);
  ASSERT_TRUE(harness_.finish(parked));
  EXPECT_EQ(body(*parked->answer).at("message"), "new_change");
}

TEST_F(Box, AQuietHoldEndsWithReconnect) {
  auto parked = harness_.start(bhttp::verb::get, realtime_url() + "&stream_position=now");
  clock_.advance(29s);
  feed_.tick();
  harness_.poll();
  EXPECT_FALSE(parked->done);
  clock_.advance(1s);
  feed_.tick();
  ASSERT_TRUE(harness_.finish(parked));
  EXPECT_EQ(parked->answer->body(), R"({"version":1,"message":"reconnect"})");
  EXPECT_EQ(header(*parked->answer, "Content-Type"), "application/json");
}

TEST_F(Box, AChannelPastItsTtlAnswersReconnect) {
  const auto url = realtime_url();
  clock_.advance(100s);
  // 20 s of the channel's 120 are left: the hold ends with them.
  auto parked = harness_.start(bhttp::verb::get, url + "&stream_position=now");
  clock_.advance(20s);
  feed_.tick();
  ASSERT_TRUE(harness_.finish(parked));
  EXPECT_EQ(body(*parked->answer).at("message"), "reconnect");
  publish("box:user:11", 1);
  auto expired = get(url + "&stream_position=0", {});
  EXPECT_EQ(expired.body(), R"({"version":1,"message":"reconnect"})") << "even with events";
}

TEST_F(Box, UnknownChannelsAndPollsBeyondMaxRetriesAnswerReconnect) {
  publish("box:user:11", 1);
  for (auto target : {"/2.0/realtime", "/2.0/realtime?channel=", "/2.0/realtime?channel=abc",
                      "/2.0/realtime?channel=abc&stream_position=0"}) {
    auto res = get(target, {});
    EXPECT_EQ(res.result(), bhttp::status::ok) << target;
    EXPECT_EQ(res.body(), R"({"version":1,"message":"reconnect"})") << target;
  }
  const auto url = realtime_url() + "&stream_position=0";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(body(get(url, {})).at("message"), "new_change") << i;
  EXPECT_EQ(body(get(url, {})).at("message"), "reconnect");
  EXPECT_EQ(body(get(url, {})).at("message"), "reconnect");
}

TEST_F(Box, ARefusedStreamPositionDoesNotSpendARetry) {
  publish("box:user:11", 1);
  const auto url = realtime_url();
  for (int i = 0; i < 4; ++i) {
    auto refused = get(url + "&stream_position=x", {});
    EXPECT_EQ(refused.result(), bhttp::status::bad_request) << i;
    EXPECT_EQ(body(refused).at("code"), "bad_request") << i;
  }
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(body(get(url + "&stream_position=0", {})).at("message"), "new_change") << i;
  EXPECT_EQ(body(get(url + "&stream_position=0", {})).at("message"), "reconnect");
}

TEST_F(Box, ARealtimeChannelFiltersOnItsStreamType) {
  const auto url = realtime_url("?stream_type=changes");
  auto parked = harness_.start(bhttp::verb::get, url + "&stream_position=now");
  publish("box:user:11", 1, "COMMENT_CREATE");
  harness_.poll();
  EXPECT_FALSE(parked->done) << "not a change";
  publish("box:user:11", 1, "ITEM_MOVE");
  ASSERT_TRUE(harness_.finish(parked));
  EXPECT_EQ(body(*parked->answer).at("message"), "new_change");
}

TEST_F(Box, EventsFromTheOldestFromNowAndResumed) {
  auto empty = body(get("/2.0/events"));
  EXPECT_EQ(empty.at("chunk_size"), 0);
  EXPECT_EQ(empty.at("next_stream_position").to_number<std::uint64_t>(), position_offset)
      << "never 0";
  const auto p = publish("box:user:11", 3);
  publish("box:user:12", 2);
  auto all = body(get("/2.0/events?stream_position=0"));
  EXPECT_EQ(all.at("chunk_size"), 3);
  ASSERT_EQ(all.at("entries").as_array().size(), 3u);
  EXPECT_EQ(all.at("next_stream_position").to_number<std::uint64_t>(), to_stream_position(p[2]));
  const auto& first = all.at("entries").at(0);
  EXPECT_EQ(first.at("type"), "event");
  EXPECT_EQ(first.at("event_type"), "ITEM_UPLOAD");
  EXPECT_EQ(first.at("created_by"), json::parse(creator));
  EXPECT_EQ(first.at("source").at("id"), "0");
  EXPECT_EQ(first.at("created_at"), "2026-01-02T03:04:05+00:00");
  EXPECT_EQ(body(get("/2.0/events")).at("chunk_size"), 3) << "absent is 0";

  auto now = body(get("/2.0/events?stream_position=now"));
  EXPECT_EQ(now.at("chunk_size"), 0);
  EXPECT_TRUE(now.at("entries").as_array().empty());
  const auto head = now.at("next_stream_position").to_number<std::uint64_t>();
  EXPECT_GE(head, to_stream_position(p[2]));

  auto at_head = body(get("/2.0/events?stream_position=" + std::to_string(head)));
  EXPECT_TRUE(at_head.at("entries").as_array().empty());
  EXPECT_EQ(at_head.at("next_stream_position").to_number<std::uint64_t>(), head)
      << "the same position";

  const auto more = publish("box:user:11", 2);
  auto resumed = body(get("/2.0/events?stream_position=" + std::to_string(head)));
  ASSERT_EQ(resumed.at("chunk_size"), 2);
  EXPECT_EQ(resumed.at("next_stream_position").to_number<std::uint64_t>(),
            to_stream_position(more[1]));
  auto again = body(get("/2.0/events?stream_position=" + std::to_string(head)));
  EXPECT_EQ(again.at("entries").at(0).at("event_id"), resumed.at("entries").at(0).at("event_id"))
      << "the same id on every delivery";

  const auto beyond = to_stream_position(more[1]) + 1000;
  auto ahead = body(get("/2.0/events?stream_position=" + std::to_string(beyond)));
  EXPECT_TRUE(ahead.at("entries").as_array().empty());
  EXPECT_EQ(ahead.at("next_stream_position").to_number<std::uint64_t>(), beyond)
      << "never backwards";
}

TEST_F(Box, StreamTypesFilterEvents) {
  publish("box:user:11", 1, "ITEM_UPLOAD");
  publish("box:user:11", 1, "COMMENT_CREATE");
  publish("box:user:11", 1, "ITEM_DOWNLOAD");
  const auto last = publish("box:user:11", 1, "ITEM_RENAME");
  auto types = [&](const std::string& query) {
    std::vector<std::string> out;
    auto v = body(get("/2.0/events?stream_position=0" + query));
    for (const auto& e : v.at("entries").as_array())
      out.emplace_back(e.at("event_type").as_string());
    EXPECT_EQ(v.at("next_stream_position").to_number<std::uint64_t>(), to_stream_position(last[0]))
        << query;
    return out;
  };
  using list = std::vector<std::string>;
  EXPECT_EQ(types(""), (list{"ITEM_UPLOAD", "COMMENT_CREATE", "ITEM_DOWNLOAD", "ITEM_RENAME"}));
  EXPECT_EQ(types("&stream_type=all"), types(""));
  EXPECT_EQ(types("&stream_type=changes"), (list{"ITEM_UPLOAD", "ITEM_RENAME"}));
  EXPECT_EQ(types("&stream_type=sync"), (list{"ITEM_UPLOAD", "ITEM_RENAME"}));
}

TEST_F(Box, LimitsDefaultTo100AndAreClampedTo500) {
  // Rate budget: 8 per token per minute; use both of Ann's tokens.
  for (int i = 0; i < 7; ++i) publish("box:user:11", 100);
  auto count = [&](const std::string& query, const std::string& token) {
    return body(get("/2.0/events?stream_position=0" + query, bearer(token))).at("chunk_size");
  };
  EXPECT_EQ(count("", "tok-ann"), 100);
  EXPECT_EQ(count("&limit=7", "tok-ann"), 7);
  EXPECT_EQ(count("&limit=500", "tok-ann"), 500);
  EXPECT_EQ(count("&limit=800", "tok-ann"), 500);
  EXPECT_EQ(count("&limit=100000", "tok-ann-2"), 500);
  EXPECT_EQ(count("&limit=99999999999999999999", "tok-ann"), 500) << "past 64 bits: clamped too";
  for (auto bad : {"0", "-1", "ten"}) {
    auto res = get(std::string("/2.0/events?limit=") + bad, bearer("tok-ann-2"));
    EXPECT_EQ(res.result(), bhttp::status::bad_request) << bad;
    EXPECT_EQ(body(res).at("code"), "bad_request") << bad;
  }
}

TEST_F(Box, ErrorsAreBoxClientErrors) {
  auto missing = get("/2.0/events", {});
  EXPECT_EQ(missing.result(), bhttp::status::unauthorized);
  EXPECT_EQ(
      header(missing, "WWW-Authenticate"),
      R"(Bearer realm="Service", error="invalid_token", error_description="The access token provided is invalid.")");
  auto v = body(missing);
  EXPECT_EQ(v.at("type"), "error");
  EXPECT_EQ(v.at("status"), 401);
  EXPECT_EQ(v.at("code"), "unauthorized");
  EXPECT_EQ(v.at("help_url"),
            "https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/");
  EXPECT_TRUE(v.at("request_id").as_string().starts_with("test-"));
  EXPECT_EQ(header(missing, "box-request-id"), v.at("request_id").as_string());
  EXPECT_TRUE(v.at("context_info").is_null());

  auto wrong = harness_.call(bhttp::verb::options, "/2.0/events", bearer("nope"));
  EXPECT_EQ(wrong.result(), bhttp::status::unauthorized);
  EXPECT_EQ(body(wrong).at("message"), "The access token provided is invalid.");
  EXPECT_EQ(get("/2.0/events", {{"Authorization", "Basic dTpw"}}).result(),
            bhttp::status::unauthorized);

  auto admin = get("/2.0/events?stream_type=admin_logs");
  EXPECT_EQ(admin.result(), bhttp::status::forbidden);
  EXPECT_EQ(body(admin).at("code"), "access_denied_insufficient_permissions");
  EXPECT_EQ(body(admin).at("status"), 403);
  EXPECT_EQ(get("/2.0/events?stream_type=admin_logs_streaming").result(), bhttp::status::forbidden);
  auto type = get("/2.0/events?stream_type=tree");
  EXPECT_EQ(type.result(), bhttp::status::bad_request);
  EXPECT_EQ(body(type).at("message"), "'stream_type' must be one of all, changes, sync");
  auto position = get("/2.0/events?stream_position=yesterday", bearer("tok-ann-2"));
  EXPECT_EQ(position.result(), bhttp::status::bad_request);
  EXPECT_EQ(body(position).at("status"), 400);

  auto unknown = get("/2.0/folders/0", bearer("tok-ann-2"));
  EXPECT_EQ(unknown.result(), bhttp::status::not_found);
  EXPECT_EQ(body(unknown).at("code"), "not_found");
  EXPECT_EQ(body(unknown).at("type"), "error");
  auto method = harness_.call(bhttp::verb::post, "/2.0/events", bearer("tok-ann-2"));
  EXPECT_EQ(method.result(), bhttp::status::method_not_allowed);
  EXPECT_EQ(body(method).at("code"), "method_not_allowed");
  EXPECT_EQ(header(method, "Content-Type"), "application/json");
}

TEST_F(Box, EachTokenHasItsOwnBudget) {
  for (int i = 0; i < 8; ++i) EXPECT_EQ(get("/2.0/events").result(), bhttp::status::ok) << i;
  auto refused = harness_.call(bhttp::verb::options, "/2.0/events", bearer());
  EXPECT_EQ(refused.result(), bhttp::status::too_many_requests);
  EXPECT_EQ(header(refused, "Retry-After"), "60");
  auto v = body(refused);
  EXPECT_EQ(v.at("code"), "rate_limit_exceeded");
  EXPECT_EQ(v.at("status"), 429);
  EXPECT_EQ(v.at("message"), "Request rate limit exceeded, please try again later");
  EXPECT_EQ(get("/2.0/events", bearer("tok-ann-2")).result(), bhttp::status::ok);
  EXPECT_EQ(get("/2.0/realtime?channel=x", {}).result(), bhttp::status::ok)
      << "the realtime server needs no token and spends no budget";
  clock_.advance(60s);
  EXPECT_EQ(get("/2.0/events").result(), bhttp::status::ok);
}

TEST_F(Box, AUsersStreamRefusesEventsTheSdksCannotRead) {
  auto publish_checked = [&](std::string data) {
    return dialect_test::publish_checked({core::new_event{"box:user:11", "ITEM_UPLOAD", data}});
  };
  auto refused = publish_checked(R"({"created_by":{"type":"user","id":11}})");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.err().code, core::errc::bad_request);
  EXPECT_EQ(refused.err().message,
            "a 'ITEM_UPLOAD' event on stream 'box:user:11' (served by the box dialect): "
            "'created_by.id' must be a string");
  EXPECT_TRUE(publish_checked(box_data(1)));
}

TEST_F(Box, AReloadRevokesATokenAndDropsTheChannelsOfRemovedStreams) {
  const auto bob_url = realtime_url({}, bearer("tok-bob"));
  auto parked = harness_.start(bhttp::verb::get, realtime_url() + "&stream_position=now");
  box_dialect fresh;
  configure(fresh, tokens_toml({{"tok-ann-2", "11"}, {"tok-cy", "13"}}));
  dialect_.reload(fresh);
  EXPECT_EQ(get("/2.0/events").result(), bhttp::status::unauthorized);
  EXPECT_EQ(get("/2.0/events", bearer("tok-bob")).result(), bhttp::status::unauthorized);
  EXPECT_EQ(get("/2.0/events", bearer("tok-cy")).result(), bhttp::status::ok);
  EXPECT_EQ(body(get(bob_url + "&stream_position=0", {})).at("message"), "reconnect");
  EXPECT_FALSE(parked->done) << "a poll admitted before the reload goes on";
  publish("box:user:11", 1);
  ASSERT_TRUE(harness_.finish(parked));
  EXPECT_EQ(body(*parked->answer).at("message"), "new_change");
}

TEST_F(Box, ExpiredChannelsAreCollectedByATaskOnThePlatform) {
  realtime_url();
  realtime_url();
  EXPECT_EQ(dialect_.channels().size(), 2u);
  EXPECT_EQ(tasks_.running(), 1u) << "the collector";
  clock_.advance(120s);
  EXPECT_EQ(dialect_.channels().collect(), 2u);
}

TEST(BoxConfig, KeysAreCheckedAndNamedByTheirPath) {
  auto fails = [](const std::string& toml) {
    box_dialect d;
    toml::table doc = toml::parse(toml);
    common::config_errors errors("test.toml");
    EXPECT_FALSE(d.configure(common::config_table(doc, "", errors))) << toml;
    return errors.message();
  };
  const std::string entry = R"(
[[box.tokens]]
token = "t"
user = { id = "11" }
stream = "box:user:11"
)";
  EXPECT_EQ(fails("[box]\nrealtime_hold = 51\n"),
            "test.toml: box.realtime_hold: must be between 1 and 50 seconds");
  EXPECT_EQ(fails("[box]\nrealtime_hold = 0\n"),
            "test.toml: box.realtime_hold: must be between 1 and 50 seconds")
      << "every poll would answer reconnect at once";
  EXPECT_EQ(fails("[box]\nrealtime_hold = 0.5\n"),
            "test.toml: box.realtime_hold: must be between 1 and 50 seconds");
  EXPECT_EQ(fails("[box]\nrealtime_retry_timeout = 45\n"),
            "test.toml: box.realtime_retry_timeout: must be more than realtime_hold (45 s): "
            "clients abandon a realtime poll after it");
  EXPECT_EQ(fails("[box]\nrealtime_hold = 10.25\nrealtime_retry_timeout = 10\n"),
            "test.toml: box.realtime_retry_timeout: must be more than realtime_hold (10.25 s): "
            "clients abandon a realtime poll after it");
  EXPECT_EQ(fails("[box]\nbogus = 1\n"), "test.toml: box.bogus: unknown key");
  EXPECT_EQ(fails("[[box.tokens]]\ntoken = \"t\"\nstream = \"s\"\n"),
            "test.toml: box.tokens[0].user: is required: { id, name, login }");
  EXPECT_EQ(fails("[[box.tokens]]\ntoken = \"t\"\nuser = { name = \"x\" }\nstream = \"s\"\n"),
            "test.toml: box.tokens[0].user.id: is required (Box's user id, a string: \"11\")");
  EXPECT_EQ(fails("[[box.tokens]]\ntoken = \"t\"\nuser = { id = 11 }\nstream = \"s\"\n"),
            "test.toml: box.tokens[0].user.id: must be a string");
  EXPECT_EQ(fails("[[box.tokens]]\nuser = { id = \"1\" }\nstream = \"s\"\n"),
            "test.toml: box.tokens[0].token: is required (or token_env)");
  EXPECT_EQ(fails("[[box.tokens]]\ntoken = \"t\"\nuser = { id = \"1\" }\n"),
            "test.toml: box.tokens[0].stream: is required (the stream of the user's events)");
  EXPECT_EQ(fails(entry + entry), "test.toml: box.tokens[1].token: this token is configured twice");

  for (auto ok : {"realtime_hold = 1\n", "realtime_hold = 45\nrealtime_retry_timeout = 46\n"}) {
    box_dialect d;
    toml::table doc = toml::parse(std::string("[box]\n") + ok);
    common::config_errors errors("test.toml");
    EXPECT_TRUE(d.configure(common::config_table(doc, "", errors))) << ok << errors.message();
  }

  box_dialect d;
  toml::table doc = toml::parse("[box]\nrealtime_ttl = 90\n" + entry);
  common::config_errors errors("test.toml");
  ASSERT_TRUE(d.configure(common::config_table(doc, "", errors))) << errors.message();
  EXPECT_EQ(d.settings().rate.budget, 1000u);
  EXPECT_EQ(d.settings().hold, 45s);
  EXPECT_EQ(d.settings().channels.ttl, 90s);
  EXPECT_EQ(d.settings().channels.max_retries, 10u);
  EXPECT_EQ(d.settings().retry_timeout, 610s);
  ASSERT_EQ(d.tokens().size(), 1u);
  EXPECT_EQ(d.tokens()[0].user.id, "11");
  EXPECT_EQ(d.tokens()[0].stream, "box:user:11");
}

}  // namespace
}  // namespace eventfeed::api::box
