// Zulip's real-time events API end to end, against a real server process: every row of the
// spec's error table, heartbeats, the superseding poll, pruning, collection, rate limits, and a
// queue that survives kill -9.
#include <gtest/gtest.h>

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <csignal>

#include "server_fixture.hpp"

namespace eventfeed::integration {
namespace {

namespace json = boost::json;

constexpr std::string_view bot_email = "bot@example.com";
constexpr std::string_view bot_key = "abcdefghijklmnopqrstuvwxyz012345";
constexpr std::string_view eve_key = "EVEfghijklmnopqrstuvwxyz01234567";

header_list basic(std::string_view email = bot_email, std::string_view key = bot_key) {
  const std::string plain = std::string(email) + ":" + std::string(key);
  namespace b64 = boost::beast::detail::base64;
  std::string encoded(b64::encoded_size(plain.size()), '\0');
  encoded.resize(b64::encode(encoded.data(), plain.data(), plain.size()));
  return {{"Authorization", "Basic " + encoded}};
}

std::string zulip_tables(std::string_view zulip_lines = {}) {
  return R"(
[zulip]
public_stream = "{acme}public"
heartbeat_seconds = 1
heartbeat_jitter_seconds = 0
gc_interval_seconds = 1
)" + std::string(zulip_lines) +
         R"(
[[zulip.users]]
email = "bot@example.com"
api_key = "abcdefghijklmnopqrstuvwxyz012345"
user_id = 11
full_name = "Example Bot"
stream = "{acme}user:11"

[[zulip.users]]
email = "eve@example.com"
api_key = "EVEfghijklmnopqrstuvwxyz01234567"
user_id = 12
full_name = "Eve"
stream = "{acme}user:12"
)";
}

// A message event's data as a backend publishes it.
std::string message(int id, std::string_view channel, std::string_view topic = "castle") {
  json::object m{{"id", id},
                 {"type", "stream"},
                 {"content", "message " + std::to_string(id)},
                 {"sender_id", 5},
                 {"sender_email", "iago@example.com"},
                 {"sender_full_name", "Iago"},
                 {"display_recipient", channel},
                 {"subject", topic},
                 {"stream_id", 3},
                 {"timestamp", 1700000000}};
  return json::serialize(
      json::object{{"type", "message"}, {"data", {{"message", m}, {"flags", json::array{}}}}});
}

class Zulip : public ServerTest {
 protected:
  void SetUp() override { start_server(test_config({}, zulip_tables())); }

  http_reply request(bhttp::verb method, std::string target, std::string body = {},
                     header_list headers = basic()) {
    if (!body.empty()) headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    return client_->request(method, target, body, headers);
  }

  // Registers and returns the queue id.
  std::string register_queue(std::string body = "event_types=%5B%22message%22%5D") {
    auto r = request(bhttp::verb::post, "/api/v1/register", body);
    EXPECT_EQ(r.status, 200u) << r;
    return std::string(r.json().at("queue_id").as_string());
  }

  http_reply events(const std::string& queue, std::string_view last, std::string_view more = {}) {
    return request(bhttp::verb::get, "/api/v1/events?queue_id=" + queue +
                                         "&last_event_id=" + std::string(last) + std::string(more));
  }

  std::uint64_t publish_message(int id, std::string_view channel = "Denmark",
                                std::string_view stream = "%7Bacme%7Dpublic") {
    auto r = client_->post("/v1/streams/" + std::string(stream) + "/events", message(id, channel),
                           bearer());
    EXPECT_EQ(r.status, 200u) << r;
    return r.json().at("first").to_number<std::uint64_t>();
  }

  static void expect_error(const http_reply& r, unsigned status, std::string_view code,
                           std::string_view msg) {
    EXPECT_EQ(r.status, status) << r;
    EXPECT_EQ(r.header("Content-Type"), "application/json") << r;
    auto v = r.json();
    EXPECT_EQ(v.at("result"), "error") << r;
    EXPECT_EQ(v.at("code"), json::value(code)) << r;
    EXPECT_EQ(v.at("msg"), json::value(msg)) << r;
  }
};

TEST_F(Zulip, EveryRowOfTheAuthenticationErrorTable) {
  auto none = request(bhttp::verb::get, "/api/v1/events", {}, {});
  expect_error(none, 401, "UNAUTHORIZED",
               "Not logged in: API authentication or user session required");
  EXPECT_EQ(none.header("WWW-Authenticate"), R"(Basic realm="zulip")");

  auto bearer_scheme = request(bhttp::verb::get, "/api/v1/events", {}, bearer());
  expect_error(bearer_scheme, 400, "BAD_REQUEST",
               "This endpoint requires HTTP basic authentication.");
  EXPECT_FALSE(bearer_scheme.has_header("WWW-Authenticate"));

  auto undecodable =
      request(bhttp::verb::get, "/api/v1/events", {}, {{"Authorization", "Basic %%%"}});
  expect_error(undecodable, 401, "UNAUTHORIZED", "Invalid authorization header for basic auth");
  EXPECT_EQ(undecodable.header("WWW-Authenticate"), R"(Basic realm="zulip")");

  auto malformed = request(bhttp::verb::get, "/api/v1/events", {}, basic(bot_email, "short-key"));
  expect_error(malformed, 401, "INVALID_API_KEY", "Malformed API key");
  EXPECT_FALSE(malformed.has_header("WWW-Authenticate"));

  auto unknown = request(bhttp::verb::get, "/api/v1/events", {},
                         basic(bot_email, "0123456789abcdefghijklmnopqrstuv"));
  expect_error(unknown, 401, "INVALID_API_KEY", "Invalid API key");
  auto mismatch =
      request(bhttp::verb::get, "/api/v1/events", {}, basic("eve@example.com", bot_key));
  expect_error(mismatch, 401, "INVALID_API_KEY", "Invalid API key");
  EXPECT_FALSE(mismatch.has_header("WWW-Authenticate"));

  auto settings = request(bhttp::verb::get, "/api/v1/server_settings", {}, {});
  EXPECT_EQ(settings.status, 200u) << "server_settings needs no credential";
  EXPECT_TRUE(settings.json().at("zulip_version").is_string());
  EXPECT_TRUE(settings.json().at("zulip_feature_level").is_int64());
  auto unknown_path = request(bhttp::verb::get, "/api/v1/nothing");
  expect_error(unknown_path, 404, "NOT_FOUND", "no such endpoint");
}

TEST_F(Zulip, ParameterErrorsAndBadQueues) {
  const auto q = register_queue();
  expect_error(request(bhttp::verb::get, "/api/v1/events?last_event_id=-1"), 400, "BAD_REQUEST",
               "Missing 'queue_id' argument");
  expect_error(request(bhttp::verb::get, "/api/v1/events?queue_id=" + q), 400, "BAD_REQUEST",
               "Missing 'last_event_id' argument");
  expect_error(events(q, "x"), 400, "BAD_REQUEST", "Argument \"last_event_id\" is not valid JSON.");
  expect_error(
      request(bhttp::verb::post, "/api/v1/register", "narrow=%5B%5B%22near%22%2C%22x%22%5D%5D"),
      400, "BAD_REQUEST", "Operator near not supported.");
  expect_error(request(bhttp::verb::post, "/api/v1/register",
                       "narrow=%5B%5B%22is%22%2C%22followed%22%5D%5D"),
               400, "BAD_REQUEST", "Operand followed not supported.");
  expect_error(request(bhttp::verb::post, "/api/v1/register", "event_types=%5B"), 400,
               "BAD_REQUEST", "Argument \"event_types\" is not valid JSON.");

  auto bad = events("no-such-queue", "-1");
  expect_error(bad, 400, "BAD_EVENT_QUEUE_ID", "Bad event queue ID: no-such-queue");
  EXPECT_EQ(bad.json().at("queue_id"), "no-such-queue");
  auto foreign = request(bhttp::verb::get, "/api/v1/events?queue_id=" + q + "&last_event_id=-1", {},
                         basic("eve@example.com", eve_key));
  expect_error(foreign, 400, "BAD_EVENT_QUEUE_ID", "Bad event queue ID: " + q);
}

TEST_F(Zulip, RegisterAnswersAQueueAndListsIgnoredParameters) {
  auto r =
      request(bhttp::verb::post, "/api/v1/register",
              "event_types=%5B%22message%22%5D&narrow=%5B%5D&apply_markdown=false&eventTypes=x");
  ASSERT_EQ(r.status, 200u) << r;
  auto v = r.json();
  EXPECT_EQ(v.at("result"), "success");
  EXPECT_EQ(v.at("msg"), "");
  EXPECT_EQ(v.at("last_event_id"), -1);
  EXPECT_EQ(v.at("event_queue_longpoll_timeout_seconds"), 90);
  EXPECT_EQ(v.at("queue_id").as_string().size(), 36u);
  EXPECT_EQ(json::serialize(v.at("ignored_parameters_unsupported")), R"(["eventTypes"])");
  EXPECT_EQ(r.header("X-RateLimit-Limit"), "200");
  EXPECT_TRUE(r.body.ends_with("}\n"));
}

TEST_F(Zulip, NarrowsAndEventTypesFilterTheQueue) {
  const auto q = register_queue(
      "event_types=%5B%22message%22%5D&narrow=%5B%5B%22stream%22%2C+%22Denmark%22%5D%5D");
  publish_message(1, "Sweden");
  const auto p = publish_message(2, "denmark");
  client_->post("/v1/streams/%7Bacme%7Duser:11/events",
                R"({"type":"typing","data":{"op":"start"}})", bearer());
  auto r = events(q, "-1", "&dont_block=true");
  ASSERT_EQ(r.status, 200u) << r;
  const auto body = r.json();
  const auto& evs = body.at("events").as_array();
  ASSERT_EQ(evs.size(), 1u) << r;
  EXPECT_EQ(evs[0].at("id"), p);
  EXPECT_EQ(evs[0].at("type"), "message");
  EXPECT_EQ(evs[0].at("message").at("display_recipient"), "denmark");
}

TEST_F(Zulip, AWaitingPollIsAnsweredByAnEventOrAHeartbeat) {
  const auto q = register_queue("all_public_streams=true");
  request_swarm swarm(server_->port());
  const auto h = basic();
  const auto i = swarm.start("/api/v1/events?queue_id=" + q + "&last_event_id=-1", h);
  ASSERT_TRUE(wait_stream_waiters("{acme}public", 1));
  const auto p = publish_message(7);
  ASSERT_TRUE(swarm.wait(i, 5s));
  auto got = swarm.result(i).reply;
  ASSERT_EQ(got.status, 200u) << got;
  EXPECT_EQ(got.json().at("events").as_array()[0].at("id"), p);
  EXPECT_EQ(got.json().at("queue_id"), json::value(q));

  const auto started = std::chrono::steady_clock::now();
  auto beat = events(q, std::to_string(p));
  const auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(beat.status, 200u) << beat;
  const auto body = beat.json();
  const auto& evs = body.at("events").as_array();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].at("type"), "heartbeat");
  EXPECT_EQ(evs[0].at("id"), p) << "a heartbeat's id is where the queue has read to";
  EXPECT_GE(waited, 1s);
  EXPECT_LT(waited, 3s);
  EXPECT_EQ(events(q, std::to_string(p), "&dont_block=true").status, 200u)
      << "the heartbeat's id is acknowledged like any other";
}

TEST_F(Zulip, ANewerPollAnswersTheOlderAtOnce) {
  const auto q = register_queue();
  request_swarm swarm(server_->port());
  const auto first = swarm.start("/api/v1/events?queue_id=" + q + "&last_event_id=-1", basic());
  ASSERT_TRUE(wait_stream_waiters("{acme}user:11", 1));
  const auto second = swarm.start("/api/v1/events?queue_id=" + q + "&last_event_id=-1", basic());
  ASSERT_TRUE(swarm.wait(first, 2s)) << "superseded at once";
  auto old = swarm.result(first).reply;
  ASSERT_EQ(old.status, 200u) << old;
  EXPECT_TRUE(old.json().at("events").as_array().empty());
  EXPECT_FALSE(swarm.result(second).done);
  ASSERT_TRUE(swarm.wait(second, 5s));
}

TEST_F(Zulip, AcknowledgementPrunesAndItsErrorsSayBehindOrAhead) {
  const auto q = register_queue("all_public_streams=true");
  const auto p1 = publish_message(1);
  const auto p2 = publish_message(2);
  auto all = events(q, "-1", "&dont_block=true");
  ASSERT_EQ(all.json().at("events").as_array().size(), 2u);
  auto again = events(q, "-1", "&dont_block=true");
  EXPECT_EQ(again.json().at("events").as_array().size(), 2u) << "not acknowledged: delivered again";
  const auto pruned = events(q, std::to_string(p1), "&dont_block=true").json();
  ASSERT_EQ(pruned.at("events").as_array().size(), 1u);
  EXPECT_EQ(pruned.at("events").as_array()[0].at("id"), p2);
  expect_error(events(q, "-1"), 400, "BAD_REQUEST",
               "An event newer than " + std::to_string(p1) + " has already been pruned!");
  expect_error(events(q, std::to_string(p2 + 100)), 400, "BAD_REQUEST",
               "Event " + std::to_string(p2 + 100) + " was not in this queue");
  const auto done = events(q, std::to_string(p2), "&dont_block=true").json();
  EXPECT_TRUE(done.at("events").as_array().empty() ||
              done.at("events").as_array()[0].at("type") == "heartbeat");
}

TEST_F(Zulip, DeletingAQueueEndsItsPollAndItIsGone) {
  const auto q = register_queue();
  request_swarm swarm(server_->port());
  const auto parked = swarm.start("/api/v1/events?queue_id=" + q + "&last_event_id=-1", basic());
  ASSERT_TRUE(wait_stream_waiters("{acme}user:11", 1));
  auto gone = request(bhttp::verb::delete_, "/api/v1/events", "queue_id=" + q);
  ASSERT_EQ(gone.status, 200u) << gone;
  EXPECT_EQ(gone.body, "{\"result\":\"success\",\"msg\":\"\"}\n");
  ASSERT_TRUE(swarm.wait(parked, 2s));
  EXPECT_EQ(swarm.result(parked).reply.status, 200u);
  expect_error(events(q, "-1"), 400, "BAD_EVENT_QUEUE_ID", "Bad event queue ID: " + q);
  const auto q2 = register_queue();
  EXPECT_EQ(request(bhttp::verb::delete_, "/api/v1/events?queue_id=" + q2).status, 200u)
      << "the queue id may come in the query";
}

TEST_F(Zulip, AnIdleQueueIsCollectedAfterItsLifespan) {
  const auto idle = register_queue("queue_lifespan_secs=1");
  const auto kept = register_queue("queue_lifespan_secs=600");
  // Any poll of the queue is an access that keeps it: watch the server's log instead.
  ASSERT_TRUE(wait_until(
      [&] {
        return server_->process().stderr_text().find("collected 1 idle zulip queue") !=
               std::string::npos;
      },
      10s, "the idle queue collected"));
  expect_error(events(idle, "-1", "&dont_block=true"), 400, "BAD_EVENT_QUEUE_ID",
               "Bad event queue ID: " + idle);
  EXPECT_EQ(events(kept, "-1", "&dont_block=true").status, 200u);
}

TEST_F(Zulip, ABusyUserIsRateLimited) {
  start_server(test_config({}, zulip_tables("rate_limit_per_minute = 5\n")));
  for (int i = 0; i < 5; ++i) {
    auto ok = request(bhttp::verb::get, "/api/v1/server_settings");
    ASSERT_EQ(ok.status, 200u);
    auto r = request(bhttp::verb::post, "/api/v1/register", "narrow=%5B%5D");
    if (r.status == 429) {
      ASSERT_EQ(i, 5) << "refused early";
      break;
    }
    ASSERT_EQ(r.status, 200u) << r;
    EXPECT_EQ(r.header("X-RateLimit-Remaining"), std::to_string(4 - i));
  }
  auto limited = request(bhttp::verb::post, "/api/v1/register", "narrow=%5B%5D");
  expect_error(limited, 429, "RATE_LIMIT_HIT", "API usage exceeded rate limit");
  const int retry = std::stoi(limited.header("Retry-After"));
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 60);
  EXPECT_GT(limited.json().at("retry-after").as_double(), 0.0);
  EXPECT_EQ(limited.header("X-RateLimit-Remaining"), "0");
  EXPECT_EQ(request(bhttp::verb::post, "/api/v1/register", "narrow=%5B%5D",
                    basic("eve@example.com", eve_key))
                .status,
            200u)
      << "another user has their own budget";
}

TEST_F(Zulip, PublishesToZulipStreamsAreChecked) {
  auto bad = client_->post("/v1/streams/%7Bacme%7Dpublic/events",
                           R"({"type":"message","data":{"message":{"id":1}}})", bearer());
  EXPECT_EQ(bad.status, 400u) << bad;
  EXPECT_NE(
      bad.json().at("error").at("message").as_string().find("'message.sender_id' is required"),
      std::string::npos)
      << bad;
  auto own = client_->post("/v1/streams/%7Bacme%7Dpublic/events", R"({"type":"x","data":{"id":3}})",
                           bearer());
  EXPECT_EQ(own.status, 400u) << own;
}

TEST(ZulipDurability, AQueueSurvivesKill9AndSaysItRestarted) {
  temp_dir dir;
  const std::string config = R"([server]
threads = 2
access_log = false
[store]
backend = "sqlite"
data_dir = ')" + (dir.path() / "data").string() +
                             R"('
[[keys]]
name = "publisher"
key = "test-publisher-key"
publish = ["*"]
read = ["*"]
)" + zulip_tables();
  std::string q;
  std::uint64_t p1 = 0, p2 = 0;
  {
    server_process server(config);
    http_client c(server.port());
    auto reg = c.request(bhttp::verb::post, "/api/v1/register", "all_public_streams=true",
                         {{"Authorization", basic()[0].second},
                          {"Content-Type", "application/x-www-form-urlencoded"}});
    ASSERT_EQ(reg.status, 200u) << reg;
    q = std::string(reg.json().at("queue_id").as_string());
    p1 = c.post("/v1/streams/%7Bacme%7Dpublic/events", message(1, "Denmark"), bearer())
             .json()
             .at("first")
             .to_number<std::uint64_t>();
    auto got = c.get("/api/v1/events?queue_id=" + q + "&last_event_id=-1&dont_block=true", basic());
    ASSERT_EQ(got.json().at("events").as_array().size(), 1u) << got;
    p2 = c.post("/v1/streams/%7Bacme%7Dpublic/events", message(2, "Denmark"), bearer())
             .json()
             .at("first")
             .to_number<std::uint64_t>();
    server.process().send_signal(SIGKILL);
    server.kill();
  }
  server_process again(config);
  http_client c(again.port());
  // The client acknowledges what it had (p1): p2 comes, after the restart event.
  auto r = c.get(
      "/api/v1/events?queue_id=" + q + "&last_event_id=" + std::to_string(p1) + "&dont_block=true",
      basic());
  ASSERT_EQ(r.status, 200u) << r << again.process().stderr_text();
  const auto body = r.json();
  const auto& evs = body.at("events").as_array();
  ASSERT_EQ(evs.size(), 2u) << r;
  EXPECT_EQ(evs[0].at("type"), "restart");
  EXPECT_TRUE(evs[0].at("zulip_version").is_string());
  EXPECT_EQ(evs[1].at("id"), p2);
  auto next = c.get(
      "/api/v1/events?queue_id=" + q + "&last_event_id=" + std::to_string(p2) + "&dont_block=true",
      basic());
  ASSERT_EQ(next.status, 200u) << next;
  const auto later = next.json();
  for (const auto& e : later.at("events").as_array()) EXPECT_NE(e.at("type"), "restart");
}

}  // namespace
}  // namespace eventfeed::integration
