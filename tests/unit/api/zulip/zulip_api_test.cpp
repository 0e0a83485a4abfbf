#include "api/zulip/zulip_api.hpp"

#include <gtest/gtest.h>

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "../dialect_test.hpp"
#include "api/zulip/zulip_dialect.hpp"

namespace eventfeed::api::zulip {
namespace {

using namespace std::chrono_literals;
using testing::header;
namespace bhttp = http::bhttp;
namespace json = boost::json;

constexpr std::string_view iago_key = "IAGOefghijklmnopqrstuvwxyz012345";
constexpr std::string_view hamlet_key = "HAMLETghijklmnopqrstuvwxyz012345";

std::string basic(std::string_view email, std::string_view key) {
  const std::string plain = std::string(email) + ":" + std::string(key);
  namespace b64 = boost::beast::detail::base64;
  std::string out(b64::encoded_size(plain.size()), '\0');
  out.resize(b64::encode(out.data(), plain.data(), plain.size()));
  return "Basic " + out;
}

// A message event as a backend publishes it (docs/api/zulip.md).
core::new_event message(std::string stream, int id, std::string channel,
                        std::string topic = "castle") {
  json::object m{{"id", id},
                 {"type", "stream"},
                 {"content", "message " + std::to_string(id)},
                 {"sender_id", 5},
                 {"sender_email", "othello@example.com"},
                 {"sender_full_name", "Othello"},
                 {"display_recipient", channel},
                 {"subject", topic},
                 {"stream_id", 3},
                 {"timestamp", 1700000000}};
  return {std::move(stream), "message",
          json::serialize(json::object{{"message", m}, {"flags", json::array{}}})};
}

// The dialect on a testbed (two users, a short queue limit), called without a connection.
class Zulip : public testing::dialect_test {
 protected:
  Zulip() : dialect_test(1'700'000'000'000, "https://chat.example.com") {}
  void SetUp() override {
    configure(dialect_, R"(
[zulip]
public_stream = "{acme}public"
heartbeat_seconds = 45
heartbeat_jitter_seconds = 0
max_queues_per_user = 3
rate_limit_per_minute = 50
[[zulip.users]]
email = "iago@example.com"
api_key = "IAGOefghijklmnopqrstuvwxyz012345"
user_id = 11
full_name = "Iago"
stream = "{acme}user:11"
[[zulip.users]]
email = "hamlet@example.com"
api_key = "HAMLETghijklmnopqrstuvwxyz012345"
user_id = 12
full_name = "Hamlet"
stream = "{acme}user:12"
)");
    dialect_.install(platform_);
  }

  std::vector<core::position> publish(std::vector<core::new_event> events) {
    return append(std::move(events));
  }

  http::response call(bhttp::verb method, std::string target, std::string body = {},
                      std::string content_type = "application/x-www-form-urlencoded",
                      std::string_view key = iago_key, std::string email = "iago@example.com") {
    std::vector<std::pair<std::string, std::string>> headers{{"Authorization", basic(email, key)}};
    if (!body.empty()) headers.emplace_back("Content-Type", content_type);
    return harness_.call(method, std::move(target), std::move(headers), std::move(body));
  }
  std::string register_queue(std::string body = "") {
    auto res = call(bhttp::verb::post, "/api/v1/register", std::move(body));
    EXPECT_EQ(res.result(), bhttp::status::ok) << res.body();
    return std::string(json::parse(res.body()).at("queue_id").as_string());
  }
  http::response events(const std::string& queue, std::string last, std::string more = "") {
    return call(bhttp::verb::get,
                "/api/v1/events?queue_id=" + queue + "&last_event_id=" + last + more);
  }
  static json::value body(const http::response& res) { return json::parse(res.body()); }
  static std::vector<std::int64_t> ids(const http::response& res) {
    std::vector<std::int64_t> out;
    const auto v = body(res);
    for (const auto& e : v.at("events").as_array()) out.push_back(e.at("id").as_int64());
    return out;
  }
  static void expect_error(const http::response& res, bhttp::status status, std::string_view code,
                           std::string_view msg) {
    EXPECT_EQ(res.result(), status) << res.body();
    EXPECT_EQ(header(res, "Content-Type"), "application/json");
    auto v = body(res);
    EXPECT_EQ(v.at("result"), "error");
    EXPECT_EQ(v.at("code"), json::value(code)) << res.body();
    EXPECT_EQ(v.at("msg"), json::value(msg)) << res.body();
  }

  zulip_dialect dialect_;
};

TEST_F(Zulip, ServerSettingsNeedNoCredentialAndAcceptOne) {
  for (auto headers : std::vector<std::vector<std::pair<std::string, std::string>>>{
           {}, {{"Authorization", basic("nobody@example.com", "x")}}}) {
    auto res = harness_.call(bhttp::verb::get, "/api/v1/server_settings", headers);
    ASSERT_EQ(res.result(), bhttp::status::ok);
    auto v = body(res);
    EXPECT_EQ(v.at("result"), "success");
    EXPECT_TRUE(v.at("zulip_version").is_string());
    EXPECT_TRUE(v.at("zulip_feature_level").is_int64());
    EXPECT_EQ(v.at("realm_url"), "https://chat.example.com");
  }
}

TEST_F(Zulip, RegisterReadsMultipartWithoutASpaceBeforeTheBoundary) {
  // zulip-js's encoding: multipart/form-data;boundary=... and JSON text in the parts.
  const std::string b = "--------------------------123456789012345678901234";
  const std::string multipart = "--" + b +
                                "\r\nContent-Disposition: form-data; name=\"event_types\"\r\n\r\n"
                                "[\"message\"]\r\n--" +
                                b +
                                "\r\nContent-Disposition: form-data; name=\"eventTypes\"\r\n\r\n"
                                "null\r\n--" +
                                b + "--\r\n";
  auto res =
      call(bhttp::verb::post, "/api/v1/register", multipart, "multipart/form-data;boundary=" + b);
  ASSERT_EQ(res.result(), bhttp::status::ok) << res.body();
  auto v = body(res);
  EXPECT_EQ(v.at("last_event_id"), -1);
  EXPECT_EQ(v.at("event_queue_longpoll_timeout_seconds"), 90);
  EXPECT_EQ(v.at("ignored_parameters_unsupported"), json::parse(R"(["eventTypes"])"));
  EXPECT_TRUE(v.at("zulip_version").is_string());
  EXPECT_EQ(header(res, "X-RateLimit-Limit"), "50");
  EXPECT_EQ(header(res, "X-RateLimit-Remaining"), "49");
}

TEST_F(Zulip, RegisterRefusesBadParametersInZulipsShape) {
  expect_error(call(bhttp::verb::post, "/api/v1/register", "event_types=%5Bmessage"),
               bhttp::status::bad_request, "BAD_REQUEST",
               "Argument \"event_types\" is not valid JSON.");
  expect_error(call(bhttp::verb::post, "/api/v1/register", "event_types=%22message%22"),
               bhttp::status::bad_request, "BAD_REQUEST", "event_types is not a list");
  expect_error(call(bhttp::verb::post, "/api/v1/register", "all_public_streams=yes"),
               bhttp::status::bad_request, "BAD_REQUEST",
               "Argument \"all_public_streams\" is not valid JSON.");
  expect_error(
      call(bhttp::verb::post, "/api/v1/register", "narrow=%5B%5B%22near%22%2C%221%22%5D%5D"),
      bhttp::status::bad_request, "BAD_REQUEST", "Operator near not supported.");
}

TEST_F(Zulip, AQueueDeliversItsUsersEventsInOrderUntilAcknowledged) {
  const auto q = register_queue();
  const auto p = publish({message("{acme}user:11", 1, "Denmark"),
                          message("{acme}user:12", 2, "Denmark"),  // hamlet's
                          message("{acme}user:11", 3, "Denmark")});
  auto first = events(q, "-1", "&dont_block=true");
  ASSERT_EQ(first.result(), bhttp::status::ok) << first.body();
  EXPECT_EQ(ids(first), (std::vector<std::int64_t>{static_cast<std::int64_t>(p[0]),
                                                   static_cast<std::int64_t>(p[2])}));
  const auto got = body(first);
  const auto& ev = got.at("events").as_array()[0];
  EXPECT_EQ(ev.at("type"), "message");
  EXPECT_EQ(ev.at("message").at("content"), "message 1");
  // Not acknowledged: they come again.
  EXPECT_EQ(ids(events(q, "-1", "&dont_block=true")).size(), 2u);
  // Acknowledging the first prunes it; acknowledging the last leaves nothing.
  EXPECT_EQ(ids(events(q, std::to_string(p[0]), "&dont_block=true")).size(), 1u);
  EXPECT_TRUE(ids(events(q, std::to_string(p[2]), "&dont_block=true")).empty());
  // Behind what it acknowledged, and ahead of what it was given: Zulip's two errors.
  expect_error(events(q, std::to_string(p[0]), "&dont_block=true"), bhttp::status::bad_request,
               "BAD_REQUEST",
               "An event newer than " + std::to_string(p[2]) + " has already been pruned!");
  expect_error(events(q, "999999", "&dont_block=true"), bhttp::status::bad_request, "BAD_REQUEST",
               "Event 999999 was not in this queue");
}

TEST_F(Zulip, AParkedPollIsAnsweredByAMatchingEventOrAHeartbeat) {
  const auto q = register_queue("all_public_streams=true&event_types=%5B%22message%22%5D");
  auto waiting =
      harness_.start(bhttp::verb::get, "/api/v1/events?queue_id=" + q + "&last_event_id=-1",
                     {{"Authorization", basic("iago@example.com", iago_key)}});
  EXPECT_FALSE(waiting->done);
  publish({{"{acme}public", "typing", "{}"}});  // not a type the queue asked for
  harness_.poll();
  EXPECT_FALSE(waiting->done);
  const auto p = publish({message("{acme}public", 7, "Denmark")});
  ASSERT_TRUE(harness_.finish(waiting));
  auto v = body(*waiting->answer);
  EXPECT_EQ(v.at("queue_id"), json::value(q));
  ASSERT_EQ(ids(*waiting->answer), (std::vector<std::int64_t>{static_cast<std::int64_t>(p[0])}));

  // Nothing more: after heartbeat_seconds the poll answers a heartbeat whose id acknowledges
  // where the queue has read to.
  auto idle = harness_.start(
      bhttp::verb::get, "/api/v1/events?queue_id=" + q + "&last_event_id=" + std::to_string(p[0]),
      {{"Authorization", basic("iago@example.com", iago_key)}});
  const auto skipped = publish({{"{acme}public", "typing", "{}"}});
  harness_.poll();
  EXPECT_FALSE(idle->done);
  clock_.advance(45s);
  feed_.tick();
  ASSERT_TRUE(harness_.finish(idle));
  const auto beat = body(*idle->answer);
  const auto& hb = beat.at("events").as_array();
  ASSERT_EQ(hb.size(), 1u);
  EXPECT_EQ(hb[0].at("type"), "heartbeat");
  EXPECT_GE(hb[0].at("id").as_int64(), static_cast<std::int64_t>(skipped[0]));
  EXPECT_EQ(ids(events(q, std::to_string(hb[0].at("id").as_int64()), "&dont_block=true")).size(),
            0u);
}

TEST_F(Zulip, ANewerPollAnswersTheOlderAtOnce) {
  const auto q = register_queue();
  const std::vector<std::pair<std::string, std::string>> auth{
      {"Authorization", basic("iago@example.com", iago_key)}};
  auto older =
      harness_.start(bhttp::verb::get, "/api/v1/events?queue_id=" + q + "&last_event_id=-1", auth);
  EXPECT_FALSE(older->done);
  auto newer =
      harness_.start(bhttp::verb::get, "/api/v1/events?queue_id=" + q + "&last_event_id=-1", auth);
  ASSERT_TRUE(harness_.finish(older, 500ms));
  EXPECT_EQ(older->answer->result(), bhttp::status::ok);
  EXPECT_TRUE(ids(*older->answer).empty());
  EXPECT_FALSE(newer->done);
  publish({message("{acme}user:11", 1, "Denmark")});
  ASSERT_TRUE(harness_.finish(newer));
  EXPECT_EQ(ids(*newer->answer).size(), 1u);
}

TEST_F(Zulip, AnotherUsersQueueIsABadQueueAndDeleteEndsAPoll) {
  const auto q = register_queue();
  auto foreign = call(bhttp::verb::get, "/api/v1/events?queue_id=" + q + "&last_event_id=-1", "",
                      "", hamlet_key, "hamlet@example.com");
  expect_error(foreign, bhttp::status::bad_request, "BAD_EVENT_QUEUE_ID",
               "Bad event queue ID: " + q);
  EXPECT_EQ(body(foreign).at("queue_id"), json::value(q));
  expect_error(call(bhttp::verb::delete_, "/api/v1/events?queue_id=" + q, "", "", hamlet_key,
                    "hamlet@example.com"),
               bhttp::status::bad_request, "BAD_EVENT_QUEUE_ID", "Bad event queue ID: " + q);

  auto waiting =
      harness_.start(bhttp::verb::get, "/api/v1/events?queue_id=" + q + "&last_event_id=-1",
                     {{"Authorization", basic("iago@example.com", iago_key)}});
  EXPECT_FALSE(waiting->done);
  // The queue id from the body this time (zulip-js puts it in the query).
  auto gone = call(bhttp::verb::delete_, "/api/v1/events", "queue_id=" + q);
  EXPECT_EQ(gone.result(), bhttp::status::ok);
  EXPECT_EQ(body(gone), json::parse(R"({"result":"success","msg":""})"));
  ASSERT_TRUE(harness_.finish(waiting));
  EXPECT_EQ(waiting->answer->result(), bhttp::status::ok);
  expect_error(events(q, "-1", "&dont_block=true"), bhttp::status::bad_request,
               "BAD_EVENT_QUEUE_ID", "Bad event queue ID: " + q);
}

TEST_F(Zulip, MissingParametersAndTheQueueLimit) {
  expect_error(call(bhttp::verb::get, "/api/v1/events?last_event_id=-1"),
               bhttp::status::bad_request, "BAD_REQUEST", "Missing 'queue_id' argument");
  expect_error(call(bhttp::verb::get, "/api/v1/events?queue_id=abc"), bhttp::status::bad_request,
               "BAD_REQUEST", "Missing 'last_event_id' argument");
  expect_error(call(bhttp::verb::delete_, "/api/v1/events"), bhttp::status::bad_request,
               "BAD_REQUEST", "Missing 'queue_id' argument");
  for (int i = 0; i < 3; ++i) register_queue();
  auto over = call(bhttp::verb::post, "/api/v1/register", "");
  EXPECT_EQ(over.result(), bhttp::status::bad_request) << over.body();
  EXPECT_EQ(body(over).at("result"), "error");
  // Another user has their own budget.
  EXPECT_EQ(call(bhttp::verb::post, "/api/v1/register", "", "", hamlet_key, "hamlet@example.com")
                .result(),
            bhttp::status::ok);
}

TEST_F(Zulip, UnknownPathsUnderTheApiAreJsonErrors) {
  auto res = call(bhttp::verb::get, "/api/v1/users/me");
  EXPECT_EQ(res.result(), bhttp::status::not_found);
  EXPECT_EQ(body(res).at("result"), "error");
}

TEST(ZulipEvents, PublishedEventsAreCheckedForWhatClientsNeed) {
  auto ok = message("{acme}public", 1, "Denmark");
  EXPECT_EQ(check_event(ok), std::nullopt);
  EXPECT_EQ(check_event({"s", "presence", R"({"email":"x@example.com"})"}), std::nullopt);
  EXPECT_EQ(check_event({"s", "presence", "[1]"}), "'data' must be a JSON object");
  EXPECT_EQ(check_event({"s", "presence", R"({"id":3})"}),
            "'data' must not carry 'id' or 'type': the server sets them");
  EXPECT_EQ(check_event({"s", "heartbeat", "{}"}), "'heartbeat' events are the server's own");
  EXPECT_EQ(check_event({"s", "message", R"({"flags":[]})"}),
            "'message' (the message object) is required");
  // Each required field of the message, missing in turn.
  for (const char* field : {"id", "sender_id", "timestamp", "content", "sender_email",
                            "sender_full_name", "subject", "stream_id"}) {
    auto data = json::parse(ok.data);
    data.at("message").as_object().erase(field);
    auto problem = check_event({"s", "message", json::serialize(data)});
    ASSERT_TRUE(problem) << field;
    EXPECT_EQ(*problem, "'message." + std::string(field) + "' is required");
  }
  auto dm = json::parse(ok.data);
  dm.at("message").as_object()["type"] = "private";
  dm.at("message").as_object()["display_recipient"] = json::array{{{"id", 11}}};
  dm.at("message").as_object().erase("stream_id");
  EXPECT_EQ(check_event({"s", "message", json::serialize(dm)}), std::nullopt);
}

TEST(ZulipEvents, RenderingPutsTheTypeFirstAndThePositionAsId) {
  core::event ev;
  ev.pos = 42;
  ev.type = "message";
  ev.data = R"({"message":{"content":"hi"},"flags":[]})";
  EXPECT_EQ(render_event(ev),
            R"({"type":"message","message":{"content":"hi"},"flags":[],"id":42})");
  core::event empty;
  empty.pos = 7;
  empty.type = "typing";
  empty.data = "{}";
  EXPECT_EQ(render_event(empty), R"({"type":"typing","id":7})");
}

}  // namespace
}  // namespace eventfeed::api::zulip
