#include "api/native/native_api.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "../handler_harness.hpp"
#include "store/memory/memory_store.hpp"

namespace eventfeed::api::native {
namespace {

using namespace std::chrono_literals;
using testing::header;
namespace bhttp = http::bhttp;
namespace json = boost::json;

const std::vector<std::pair<std::string, std::string>> publisher = {
    {"Authorization", "Bearer publisher-key"}};
const std::vector<std::pair<std::string, std::string>> reader = {
    {"Authorization", "Bearer reader-key-1"}};

// The native handlers over a memory store and a manual clock, called without a connection.
class NativeApi : public ::testing::Test {
 protected:
  NativeApi() {
    auto ring = std::make_shared<common::key_ring>();
    core::principal pub;
    pub.name = "publisher";
    pub.publish.emplace_back("*");
    pub.read.emplace_back("*");
    ring->add("publisher-key", std::move(pub));
    core::principal rd;
    rd.name = "reader";
    rd.read.emplace_back("room:*");
    ring->add("reader-key-1", std::move(rd));
    keys_.replace(ring);
    register_routes(routes_, feed_, keys_);
  }

  http::response publish(std::string stream, std::string body) {
    return harness_.call(bhttp::verb::post, "/v1/streams/" + stream + "/events", publisher,
                         std::move(body));
  }

  static json::value body(const http::response& res) { return json::parse(res.body()); }

  core::manual_clock clock_;
  store::memory::memory_store store_{{}, &clock_};
  feed::engine feed_{store_, clock_, 8};
  common::key_directory keys_;
  http::router routes_;
  testing::handler_harness harness_{routes_};
};

TEST_F(NativeApi, PublishAnswersThePositionsAndPollReadsThem) {
  auto res = publish("room:a", R"({"events":[{"type":"tip","data":{"n":1}},{"type":"x"}]})");
  EXPECT_EQ(res.result(), bhttp::status::ok);
  EXPECT_EQ(res.body(), R"({"first":1,"last":2})");
  auto poll = harness_.call(bhttp::verb::get, "/v1/streams/room:a/events?timeout=0", reader);
  EXPECT_EQ(poll.result(), bhttp::status::ok);
  EXPECT_EQ(header(poll, "Content-Type"), "application/json");
  EXPECT_EQ(poll.body(),
            R"({"events":[{"position":1,"time":1700000000000,"type":"tip","data":{"n":1}},)"
            R"({"position":2,"time":1700000000000,"type":"x","data":{}}],"next":2,"gap":false})");
}

TEST_F(NativeApi, AParkedPollIsAnsweredByAPublish) {
  auto poll = harness_.start(bhttp::verb::get, "/v1/streams/room:a/events?after=now", reader);
  EXPECT_FALSE(poll->done);
  EXPECT_EQ(feed_.waiters("room:a"), 1u);
  EXPECT_EQ(poll->ctx->path(), "") << "a parked poll has released its request";
  publish("room:a", R"({"type":"t"})");
  ASSERT_TRUE(harness_.finish(poll));
  ASSERT_NE(poll->answer, nullptr);
  EXPECT_EQ(body(*poll->answer).at("next").as_int64(), 1);
  EXPECT_EQ(body(*poll->answer).at("events").as_array().size(), 1u);
}

TEST_F(NativeApi, APollPastItsDeadlineAnswersEmptyWithItsCursor) {
  publish("room:a", R"({"type":"t"})");
  auto poll =
      harness_.start(bhttp::verb::get, "/v1/streams/room:a/events?after=1&timeout=5", reader);
  clock_.advance(5s);
  feed_.tick();
  ASSERT_TRUE(harness_.finish(poll));
  EXPECT_EQ(poll->answer->body(), R"({"events":[],"next":1,"gap":false})");
  EXPECT_TRUE(poll->answer->keep_alive());
}

TEST_F(NativeApi, ShutdownAnswersParkedPollsAndClosesTheConnection) {
  auto poll = harness_.start(bhttp::verb::get, "/v1/streams/room:a/events?after=now", reader);
  feed_.shutdown();
  ASSERT_TRUE(harness_.finish(poll));
  EXPECT_EQ(poll->answer->result(), bhttp::status::ok);
  EXPECT_FALSE(poll->answer->keep_alive());
}

TEST_F(NativeApi, CredentialsAreCheckedBeforeAnythingElse) {
  auto missing = harness_.call(bhttp::verb::get, "/v1/streams/room:a/events");
  EXPECT_EQ(missing.result(), bhttp::status::unauthorized);
  EXPECT_EQ(header(missing, "WWW-Authenticate"), "Bearer");
  EXPECT_EQ(body(missing).at("error").at("message"),
            "missing 'Authorization: Bearer <key>' header");
  auto other_scheme = harness_.call(bhttp::verb::post, "/v1/events",
                                    {{"Authorization", "Basic dXNlcjpwYXNz"}}, "{}");
  EXPECT_EQ(other_scheme.result(), bhttp::status::unauthorized);
  EXPECT_EQ(body(other_scheme).at("error").at("message"),
            "Authorization header must be 'Bearer <key>'");
  auto unknown = harness_.call(bhttp::verb::get, "/v1/streams/room:a",
                               {{"Authorization", "Bearer nobody-knows"}});
  EXPECT_EQ(unknown.result(), bhttp::status::unauthorized);
  EXPECT_EQ(body(unknown).at("error").at("code"), "unauthorized");
  EXPECT_EQ(body(unknown).at("error").at("message"), "unknown key");
}

TEST_F(NativeApi, RightsAndParametersAreCheckedWithClearErrors) {
  auto forbidden = harness_.call(bhttp::verb::get, "/v1/streams/user:1/events", reader);
  EXPECT_EQ(forbidden.result(), bhttp::status::forbidden);
  EXPECT_EQ(body(forbidden).at("error").at("message"), "this key may not read stream 'user:1'");
  auto no_publish =
      harness_.call(bhttp::verb::post, "/v1/streams/room:a/events", reader, R"({"type":"t"})");
  EXPECT_EQ(no_publish.result(), bhttp::status::forbidden);
  auto bad_timeout =
      harness_.call(bhttp::verb::get, "/v1/streams/room:a/events?timeout=-1", reader);
  EXPECT_EQ(bad_timeout.result(), bhttp::status::bad_request);
  EXPECT_EQ(body(bad_timeout).at("error").at("message"),
            "'timeout' must be a number of seconds, 0 or more");
  auto bad_cursor = harness_.call(bhttp::verb::get, "/v1/streams/room:a/events?after=x", reader);
  EXPECT_EQ(body(bad_cursor).at("error").at("code"), "bad_request");
  auto bad_json = publish("room:a", "{");
  EXPECT_EQ(bad_json.result(), bhttp::status::bad_request);
  EXPECT_EQ(body(bad_json).at("error").at("code"), "invalid_json");
  auto bad_stream = harness_.call(bhttp::verb::get, "/v1/streams/bad%20name/events", reader);
  EXPECT_EQ(body(bad_stream).at("error").at("code"), "invalid_stream");
}

TEST_F(NativeApi, PublishManyChecksEveryStreamBeforePublishingAny) {
  auto ring = std::make_shared<common::key_ring>();
  core::principal limited;
  limited.name = "limited";
  limited.publish.emplace_back("room:*");
  ring->add("limited-key", std::move(limited));
  keys_.replace(ring);
  auto res = harness_.call(
      bhttp::verb::post, "/v1/events", {{"Authorization", "Bearer limited-key"}},
      R"({"events":[{"stream":"room:a","type":"t"},{"stream":"user:1","type":"t"}]})");
  EXPECT_EQ(res.result(), bhttp::status::forbidden);
  EXPECT_EQ(store_.try_info("room:a")->value().head, 0u) << "nothing was published";
}

TEST_F(NativeApi, StreamInfoCountsHeadAndWaiters) {
  publish("room:a", R"({"type":"t"})");
  auto parked = harness_.start(bhttp::verb::get, "/v1/streams/room:a/events?after=now", reader);
  auto info = harness_.call(bhttp::verb::get, "/v1/streams/room:a", reader);
  EXPECT_EQ(info.body(), R"({"stream":"room:a","head":1,"oldest":1,"waiters":1})");
  feed_.shutdown();
  harness_.finish(parked);
}

TEST_F(NativeApi, APollOfSeveralStreamsMergesThemByPositionWithTheirNames) {
  publish("room:{t}a", R"({"type":"one"})");
  publish("room:{t}b", R"({"type":"two","data":{"n":2}})");
  publish("room:{t}c", R"({"type":"other"})");
  publish("room:{t}a", R"({"type":"three"})");
  auto res = harness_.call(bhttp::verb::get, "/v1/events?streams=room:%7Bt%7Db,room:{t}a&timeout=0",
                           reader);
  EXPECT_EQ(res.result(), bhttp::status::ok);
  EXPECT_EQ(res.body(),
            R"({"events":[{"stream":"room:{t}a","position":1,"time":1700000000000,"type":"one",)"
            R"("data":{}},{"stream":"room:{t}b","position":2,"time":1700000000000,"type":"two",)"
            R"("data":{"n":2}},{"stream":"room:{t}a","position":4,"time":1700000000000,)"
            R"("type":"three","data":{}}],"next":4,"gap":false})");
  auto rest = harness_.call(bhttp::verb::get,
                            "/v1/events?streams=room:{t}a,room:{t}b&after=2&types=three", reader);
  EXPECT_EQ(body(rest).at("events").as_array().size(), 1u);
  EXPECT_EQ(body(rest).at("next").as_int64(), 4);
}

TEST_F(NativeApi, AParkedPollOfSeveralStreamsWakesOnAnyOfThem) {
  auto poll =
      harness_.start(bhttp::verb::get, "/v1/events?streams=room:{t}x,room:{t}y&after=now", reader);
  EXPECT_FALSE(poll->done);
  publish("room:{t}y", R"({"type":"t"})");
  ASSERT_TRUE(harness_.finish(poll));
  EXPECT_EQ(body(*poll->answer).at("events").at(0).at("stream"), "room:{t}y");
  EXPECT_EQ(body(*poll->answer).at("next").as_int64(), 1);
}

TEST_F(NativeApi, APollOfSeveralStreamsChecksEachName) {
  auto code_and_message = [&](const std::string& target) {
    auto res = harness_.call(bhttp::verb::get, target, reader);
    return std::make_pair(res.result(),
                          std::string(body(res).at("error").at("message").as_string()));
  };
  using P = std::pair<bhttp::status, std::string>;
  EXPECT_EQ(
      code_and_message("/v1/events?timeout=0"),
      P(bhttp::status::bad_request, "'streams' is required: the streams to poll, comma-separated"));
  EXPECT_EQ(code_and_message("/v1/events?streams=room:a,,room:b"),
            P(bhttp::status::bad_request, "streams[1]: stream name is empty"));
  EXPECT_EQ(code_and_message("/v1/events?streams=room:{t}a,user:{t}1"),
            P(bhttp::status::forbidden, "this key may not read stream 'user:{t}1'"));
  EXPECT_EQ(code_and_message("/v1/events?streams=room:a,room:b").first, bhttp::status::bad_request)
      << "streams of different tags have no common cursor";
  std::string many = "/v1/events?streams=";
  for (std::size_t i = 0; i <= max_poll_streams; ++i)
    many += (i ? ",room:{t}" : "room:{t}") + std::to_string(i);
  EXPECT_EQ(code_and_message(many),
            P(bhttp::status::bad_request,
              "'streams' names more than 50 streams; at most 50 may be polled together"));
}

}  // namespace
}  // namespace eventfeed::api::native
