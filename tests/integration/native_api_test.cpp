// Publish and long-poll through the native API against a real server process.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <cstdio>

#include "server_fixture.hpp"

namespace eventfeed::integration {
namespace {

using NativeApi = ServerTest;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string poll_body(const std::vector<std::string>& events, std::uint64_t next,
                      bool gap = false) {
  std::string body = R"({"events":[)";
  for (std::size_t i = 0; i < events.size(); ++i) body += (i ? "," : "") + events[i];
  return body + R"(],"next":)" + std::to_string(next) + R"(,"gap":)" + (gap ? "true" : "false") +
         "}";
}

std::string events_target(std::string_view stream, std::string_view query) {
  return "/v1/streams/" + std::string(stream) + "/events?" + std::string(query);
}

TEST_F(NativeApi, PublishThenPollReturnsTheEvent) {
  const auto before = wall_ms();
  auto answer = publish("room:lobby", R"({"type":"tip","data":{"amount":5,"from":"al"}})");
  const auto after = wall_ms();
  const auto pos = answer.at("first").to_number<std::uint64_t>();
  EXPECT_GT(pos, 0u);
  EXPECT_EQ(boost::json::serialize(answer),
            R"({"first":)" + std::to_string(pos) + R"(,"last":)" + std::to_string(pos) + "}");

  auto reply = poll("room:lobby", "after=0&timeout=0");
  ASSERT_EQ(reply.status, 200u) << reply;
  EXPECT_EQ(reply.header("Content-Type"), "application/json");
  const auto time = event_time(reply, 0);
  EXPECT_GE(time, before - 1);
  EXPECT_LE(time, after + 1);
  EXPECT_EQ(reply.body,
            poll_body({event_json(pos, time, "tip", R"({"amount":5,"from":"al"})")}, pos));

  // No `after` means from the oldest event; the answer is the same.
  auto oldest = poll("room:lobby", "timeout=0");
  ASSERT_EQ(oldest.status, 200u) << oldest;
  EXPECT_EQ(oldest.body, reply.body);

  auto info = client_->get("/v1/streams/room:lobby", bearer());
  ASSERT_EQ(info.status, 200u) << info;
  EXPECT_EQ(info.body, R"({"stream":"room:lobby","head":)" + std::to_string(pos) + R"(,"oldest":)" +
                           std::to_string(pos) + R"(,"waiters":0})");
}

TEST_F(NativeApi, BatchPublishIsReadBackInOrderAndNextIsTheLastPosition) {
  auto answer = publish("room:batch", R"({"events":[{"type":"a","data":{"n":1}},{"type":"b"},)"
                                      R"({"type":"c","data":null}]})");
  const auto first = answer.at("first").to_number<std::uint64_t>();
  const auto last = answer.at("last").to_number<std::uint64_t>();
  ASSERT_LT(first, last);

  auto reply = poll("room:batch", "after=0&timeout=0");
  ASSERT_EQ(reply.status, 200u) << reply;
  auto events = reply.json().at("events").as_array();
  ASSERT_EQ(events.size(), 3u) << reply;
  const auto p1 = events[1].at("position").to_number<std::uint64_t>();
  EXPECT_LT(first, p1);
  EXPECT_LT(p1, last);
  EXPECT_EQ(reply.body, poll_body({event_json(first, event_time(reply, 0), "a", R"({"n":1})"),
                                   event_json(p1, event_time(reply, 1), "b", "{}"),
                                   event_json(last, event_time(reply, 2), "c", "{}")},
                                  last));
}

TEST_F(NativeApi, PollParkedBeforeThePublishReceivesIt) {
  request_swarm swarm(server_->port());
  const auto i = swarm.start(events_target("room:wait", "after=now&timeout=30"), bearer());
  ASSERT_TRUE(wait_stream_waiters("room:wait", 1));
  EXPECT_FALSE(swarm.result(i).done) << "the poll answered before anything was published";

  const auto pos = publish_one("room:wait", "message", R"({"text":"hello"})");
  ASSERT_TRUE(swarm.wait(i, 10s)) << "the parked poll was not released by the publish";
  auto out = swarm.result(i);
  ASSERT_FALSE(out.ec) << out.ec.message();
  ASSERT_EQ(out.reply.status, 200u) << out.reply;
  EXPECT_EQ(out.reply.body,
            poll_body({event_json(pos, event_time(out.reply, 0), "message", R"({"text":"hello"})")},
                      pos));
  EXPECT_LT(out.elapsed, 20s);
  EXPECT_TRUE(wait_total_waiters(0));
}

TEST_F(NativeApi, PollTimeoutAnswersNoEventsWithTheSameCursor) {
  const auto pos = publish_one("room:quiet", "once");
  request_swarm swarm(server_->port());
  // At the head of a stream with events, and on a stream that has none.
  const auto at_head = swarm.start(
      events_target("room:quiet", "after=" + std::to_string(pos) + "&timeout=1"), bearer());
  const auto empty = swarm.start(events_target("room:never", "after=0&timeout=1"), bearer());
  ASSERT_TRUE(swarm.wait_all(10s)) << "a poll with timeout=1 is still open after 10 s";

  auto head_out = swarm.result(at_head);
  ASSERT_FALSE(head_out.ec) << head_out.ec.message();
  ASSERT_EQ(head_out.reply.status, 200u) << head_out.reply;
  EXPECT_EQ(head_out.reply.body, poll_body({}, pos));
  EXPECT_GE(head_out.elapsed, 900ms);
  EXPECT_LT(head_out.elapsed, 3s);

  auto empty_out = swarm.result(empty);
  ASSERT_FALSE(empty_out.ec) << empty_out.ec.message();
  ASSERT_EQ(empty_out.reply.status, 200u) << empty_out.reply;
  EXPECT_EQ(empty_out.reply.body, poll_body({}, 0));
  EXPECT_GE(empty_out.elapsed, 900ms);
  EXPECT_LT(empty_out.elapsed, 3s);
  EXPECT_EQ(total_waiters(), 0u);
}

TEST_F(NativeApi, PollWithTimeoutZeroAnswersAtOnce) {
  const auto pos = publish_one("room:now", "x");
  const auto start = std::chrono::steady_clock::now();
  auto reply = poll("room:now", "after=now&timeout=0");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  ASSERT_EQ(reply.status, 200u) << reply;
  EXPECT_EQ(reply.body, poll_body({}, pos));
}

TEST_F(NativeApi, ResumingFromACursorReturnsExactlyTheMissedEventsOnce) {
  // Another stream's publishes in between make this stream's positions non-consecutive, so a
  // client that computed `next` as "last + 1" would be caught.
  std::vector<std::uint64_t> positions;
  for (int i = 0; i < 50; ++i) {
    positions.push_back(
        publish_one("room:log", "n" + std::to_string(i), R"({"i":)" + std::to_string(i) + "}"));
    if (i % 3 == 0) publish_one("room:noise", "noise");
  }
  for (std::size_t i = 1; i < positions.size(); ++i) ASSERT_LT(positions[i - 1], positions[i]);

  constexpr std::size_t seen = 10;  // the client has seen events 0..9
  std::uint64_t cursor = positions[seen - 1];
  std::vector<std::uint64_t> received;
  for (int page = 0; page < 20; ++page) {
    auto reply = poll("room:log", "after=" + std::to_string(cursor) + "&limit=7&timeout=0");
    ASSERT_EQ(reply.status, 200u) << reply;
    auto v = reply.json().as_object();
    const auto& events = v.at("events").as_array();
    const auto next = v.at("next").to_number<std::uint64_t>();
    EXPECT_EQ(v.at("gap"), false);
    ASSERT_LE(events.size(), 7u);
    if (events.empty()) {
      EXPECT_EQ(next, cursor) << "an empty page must not move the cursor";
      break;
    }
    for (std::size_t j = 0; j < events.size(); ++j) {
      const auto p = events[j].at("position").to_number<std::uint64_t>();
      const std::size_t index = seen + received.size();
      ASSERT_LT(index, positions.size()) << "more events than were published: " << reply;
      EXPECT_EQ(p, positions[index]);
      EXPECT_EQ(std::string(events[j].at("type").as_string()), "n" + std::to_string(index));
      EXPECT_EQ(boost::json::serialize(events[j].at("data")),
                R"({"i":)" + std::to_string(index) + "}");
      received.push_back(p);
    }
    EXPECT_EQ(next, received.back()) << "`next` must be the last position of the page";
    cursor = next;
  }
  EXPECT_EQ(received, std::vector<std::uint64_t>(positions.begin() + seen, positions.end()));
  EXPECT_EQ(cursor, positions.back());
}

TEST_F(NativeApi, ThousandParkedPollsOnHundredStreamsAreEachReleasedByTheirStreamsPublish) {
  constexpr int streams = 100;
  constexpr int per_stream = 10;
  auto name = [](int s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "load:%03d", s);
    return std::string(buf);
  };
  request_swarm swarm(server_->port());
  for (int s = 0; s < streams; ++s)
    for (int j = 0; j < per_stream; ++j)
      swarm.start(events_target(name(s), "after=0&timeout=60"), bearer());
  ASSERT_TRUE(wait_total_waiters(streams * per_stream, 60s));
  ASSERT_EQ(swarm.completed(), 0u) << "polls answered before anything was published";

  std::vector<std::uint64_t> positions;
  for (int s = 0; s < streams; ++s)
    positions.push_back(publish_one(name(s), "ping", R"({"s":)" + std::to_string(s) + "}"));
  ASSERT_TRUE(swarm.wait_all(60s))
      << swarm.completed() << " of " << swarm.size() << " polls were released";

  int wrong = 0;
  for (std::size_t i = 0; i < swarm.size(); ++i) {
    const int s = static_cast<int>(i) / per_stream;
    auto out = swarm.result(i);
    std::string expected;
    if (!out.ec && out.reply.status == 200) {
      try {
        expected =
            poll_body({event_json(positions[static_cast<std::size_t>(s)], event_time(out.reply, 0),
                                  "ping", R"({"s":)" + std::to_string(s) + "}")},
                      positions[static_cast<std::size_t>(s)]);
      } catch (const std::exception&) {
        // the body is not an answer with one event; the comparison below reports it
      }
    }
    if (out.ec || out.reply.status != 200 || out.reply.body != expected) {
      if (++wrong <= 5)
        ADD_FAILURE() << "poll " << i << " on " << name(s) << ": "
                      << (out.ec ? out.ec.message() : "") << "\n"
                      << out.reply << "\nexpected: " << expected;
    }
  }
  EXPECT_EQ(wrong, 0) << "polls answered wrongly";
  EXPECT_TRUE(wait_total_waiters(0));
}

TEST_F(NativeApi, ClientThatDisconnectsWhileParkedFreesItsWaiter) {
  request_swarm swarm(server_->port());
  const auto i = swarm.start(events_target("room:gone", "after=0&timeout=60"), bearer());
  ASSERT_TRUE(wait_stream_waiters("room:gone", 1));
  swarm.abort(i);
  EXPECT_TRUE(wait_stream_waiters("room:gone", 0, 10s))
      << "the waiter of a closed connection stays parked";
  EXPECT_EQ(total_waiters(), 0u);

  // The stream still works for the next client.
  const auto pos = publish_one("room:gone", "after");
  auto reply = poll("room:gone", "after=0&timeout=0");
  ASSERT_EQ(reply.status, 200u) << reply;
  EXPECT_EQ(reply.body, poll_body({event_json(pos, event_time(reply, 0), "after", "{}")}, pos));
}

TEST_F(NativeApi, MultiStreamPublishWakesEachStreamsPollWithItsOwnEvents) {
  request_swarm swarm(server_->port());
  const auto a = swarm.start(events_target("room:a", "after=0&timeout=30"), bearer());
  const auto b = swarm.start(events_target("room:b", "after=0&timeout=30"), bearer());
  ASSERT_TRUE(wait_total_waiters(2));

  auto reply = client_->post("/v1/events",
                             R"({"events":[{"stream":"room:a","type":"x","data":{"n":1}},)"
                             R"({"stream":"room:b","type":"y","data":{"n":2}},)"
                             R"({"stream":"room:a","type":"z","data":{"n":3}}]})",
                             bearer());
  ASSERT_EQ(reply.status, 200u) << reply;
  const auto answer = reply.json();
  const auto& positions = answer.at("positions").as_array();
  ASSERT_EQ(positions.size(), 3u) << reply;
  const auto p1 = positions[0].to_number<std::uint64_t>();
  const auto p2 = positions[1].to_number<std::uint64_t>();
  const auto p3 = positions[2].to_number<std::uint64_t>();
  EXPECT_LT(p1, p2);
  EXPECT_LT(p2, p3);
  EXPECT_EQ(reply.body, R"({"positions":[)" + std::to_string(p1) + "," + std::to_string(p2) + "," +
                            std::to_string(p3) + "]}");

  ASSERT_TRUE(swarm.wait_all(10s));
  auto out_a = swarm.result(a);
  auto out_b = swarm.result(b);
  ASSERT_EQ(out_a.reply.status, 200u) << out_a.reply << out_a.ec.message();
  ASSERT_EQ(out_b.reply.status, 200u) << out_b.reply << out_b.ec.message();
  // A waiter woken by the first event of the batch still sees the whole committed batch.
  EXPECT_EQ(out_a.reply.body,
            poll_body({event_json(p1, event_time(out_a.reply, 0), "x", R"({"n":1})"),
                       event_json(p3, event_time(out_a.reply, 1), "z", R"({"n":3})")},
                      p3));
  EXPECT_EQ(out_b.reply.body,
            poll_body({event_json(p2, event_time(out_b.reply, 0), "y", R"({"n":2})")}, p2));
}

TEST_F(NativeApi, MultiStreamPublishIsAllOrNothingOnAForbiddenStream) {
  auto reply = client_->post("/v1/events",
                             R"({"events":[{"stream":"room:ok","type":"x"},)"
                             R"({"stream":"user:1","type":"y"}]})",
                             bearer("test-room-writer-key"));
  ASSERT_EQ(reply.status, 403u) << reply;
  EXPECT_EQ(reply.body, error_json("forbidden", "this key may not publish to stream 'user:1'"));
  auto info = client_->get("/v1/streams/room:ok", bearer());
  EXPECT_EQ(info.body, R"({"stream":"room:ok","head":0,"oldest":0,"waiters":0})");
}

TEST_F(NativeApi, TypeFilterSkipsOtherTypesAndMovesTheCursorPastThem) {
  request_swarm swarm(server_->port());
  const auto i = swarm.start(events_target("room:typed", "after=0&timeout=30&types=b,c"), bearer());
  ASSERT_TRUE(wait_stream_waiters("room:typed", 1));
  publish_one("room:typed", "a");
  const auto pb = publish_one("room:typed", "b", R"({"k":"v"})");
  ASSERT_TRUE(swarm.wait(i, 10s));
  auto out = swarm.result(i);
  ASSERT_EQ(out.reply.status, 200u) << out.reply << out.ec.message();
  EXPECT_EQ(out.reply.body,
            poll_body({event_json(pb, event_time(out.reply, 0), "b", R"({"k":"v"})")}, pb));

  // Only skipped events after the cursor: the answer is empty but the cursor moves past them.
  const auto pa = publish_one("room:typed", "a");
  auto skipped = poll("room:typed", "after=" + std::to_string(pb) + "&types=b&timeout=0");
  ASSERT_EQ(skipped.status, 200u) << skipped;
  EXPECT_EQ(skipped.body, poll_body({}, pa));
}

class NativeOptionsTest : public ServerTest {
 protected:
  void SetUp() override {
    start_server(test_config(
        {}, "\n[native]\ndefault_timeout = 1\nmax_timeout = 1\nmax_batch = 4\nmax_limit = 3\n"));
  }
};

TEST_F(NativeOptionsTest, TimeoutDefaultsAndCapsAndLimitsComeFromTheConfig) {
  request_swarm swarm(server_->port());
  const auto no_timeout = swarm.start(events_target("room:opt", "after=0"), bearer());
  const auto long_timeout = swarm.start(events_target("room:opt", "after=0&timeout=60"), bearer());
  ASSERT_TRUE(swarm.wait_all(10s)) << "polls were held past native.max_timeout = 1";
  for (auto i : {no_timeout, long_timeout}) {
    auto out = swarm.result(i);
    ASSERT_FALSE(out.ec) << out.ec.message();
    EXPECT_EQ(out.reply.body, poll_body({}, 0)) << out.reply;
    EXPECT_GE(out.elapsed, 900ms);
    EXPECT_LT(out.elapsed, 3s);
  }

  auto five = client_->post(
      "/v1/streams/room:opt/events",
      R"({"events":[{"type":"a"},{"type":"b"},{"type":"c"},{"type":"d"},{"type":"e"}]})", bearer());
  EXPECT_EQ(five.status, 413u) << five;
  EXPECT_EQ(five.body, error_json("payload_too_large",
                                  "'events' has 5 items; at most 4 are allowed in one publish"));
  auto four =
      publish("room:opt", R"({"events":[{"type":"a"},{"type":"b"},{"type":"c"},{"type":"d"}]})");
  auto capped = poll("room:opt", "after=0&limit=1000&timeout=0");
  ASSERT_EQ(capped.status, 200u) << capped;
  const auto v = capped.json();
  ASSERT_EQ(v.at("events").as_array().size(), 3u) << "limit is capped by native.max_limit";
  EXPECT_EQ(v.at("next"), v.at("events").at(2).at("position"));
  EXPECT_LT(v.at("next").to_number<std::uint64_t>(), four.at("last").to_number<std::uint64_t>());
}

class RetentionTest : public ServerTest {
 protected:
  void SetUp() override { start_server(test_config({}, "\n[retention]\nmax_events = 5\n")); }
};

TEST_F(RetentionTest, CursorOlderThanTheOldestRetainedEventReportsAGap) {
  std::vector<std::uint64_t> p;
  for (int i = 0; i < 10; ++i) p.push_back(publish_one("room:short", "e" + std::to_string(i)));

  auto behind = poll("room:short", "after=" + std::to_string(p[0]) + "&timeout=0");
  ASSERT_EQ(behind.status, 200u) << behind;
  auto v = behind.json().as_object();
  EXPECT_EQ(v.at("gap"), true) << behind;
  const auto& events = v.at("events").as_array();
  ASSERT_EQ(events.size(), 5u) << behind;
  for (std::size_t i = 0; i < 5; ++i)
    EXPECT_EQ(events[i].at("position").to_number<std::uint64_t>(), p[5 + i]);
  EXPECT_EQ(v.at("next").to_number<std::uint64_t>(), p[9]);

  // A cursor at the last trimmed event has missed nothing.
  auto exact = poll("room:short", "after=" + std::to_string(p[4]) + "&timeout=0");
  ASSERT_EQ(exact.status, 200u) << exact;
  EXPECT_EQ(exact.json().at("gap"), false) << exact;
  EXPECT_EQ(exact.json().at("events").as_array().size(), 5u) << exact;

  auto info = client_->get("/v1/streams/room:short", bearer());
  EXPECT_EQ(info.body, R"({"stream":"room:short","head":)" + std::to_string(p[9]) +
                           R"(,"oldest":)" + std::to_string(p[5]) + R"(,"waiters":0})");
}

}  // namespace
}  // namespace eventfeed::integration
