#include "client/wire.hpp"

#include <gtest/gtest.h>

namespace eventfeed::detail {
namespace {

TEST(JsonScanner, HandsOutExactSpans) {
  const std::string_view text = R"( {"a" : [1, {"b":"}]"}], "c\"d":"x\\y", "e": 1.50e1 , "f":{}} )";
  json_scanner s(text);
  ASSERT_TRUE(s.enter_object());
  EXPECT_EQ(s.next_key(), "a");
  EXPECT_EQ(s.value(), R"([1, {"b":"}]"}])");
  EXPECT_EQ(s.next_key(), "c\"d");
  EXPECT_EQ(s.value(), R"("x\\y")");
  EXPECT_EQ(s.next_key(), "e");
  EXPECT_EQ(s.value(), "1.50e1");
  EXPECT_EQ(s.next_key(), "f");
  EXPECT_EQ(s.value(), "{}");
  EXPECT_FALSE(s.next_key());
}

TEST(JsonScanner, WalksArrays) {
  json_scanner s("[ ]");
  ASSERT_TRUE(s.enter_array());
  EXPECT_FALSE(s.next_element());

  json_scanner t(R"([true, "x", null])");
  ASSERT_TRUE(t.enter_array());
  std::vector<std::string_view> got;
  while (t.next_element()) got.push_back(t.value());
  EXPECT_EQ(got, (std::vector<std::string_view>{"true", R"("x")", "null"}));
  EXPECT_FALSE(json_scanner("{}").enter_array());
}

TEST(ParsePoll, KeepsDataByteForByte) {
  const std::string body =
      R"({"events":[{"position":17,"time":1700000000000,"type":"tip","data":{"amount":5.50,"s":"a\"}b"}},)"
      R"({"position":18,"time":1700000000001,"type":"caf\u00e9","data":{}}],"next":18,"gap":false})";
  auto r = parse_poll(body, "room:a");
  ASSERT_TRUE(r) << r.err().message;
  ASSERT_EQ(r->events.size(), 2u);
  EXPECT_EQ(r->events[0].pos, 17u);
  EXPECT_EQ(r->events[0].time_ms, 1700000000000);
  EXPECT_EQ(r->events[0].type, "tip");
  EXPECT_EQ(r->events[0].data, R"({"amount":5.50,"s":"a\"}b"})");
  EXPECT_EQ(r->events[1].type, "caf\xC3\xA9");
  EXPECT_EQ(r->events[1].data, "{}");
  EXPECT_EQ(r->events[1].stream, "room:a") << "the one stream polled";
  EXPECT_EQ(r->next, 18u);
  EXPECT_FALSE(r->gap);
}

TEST(ParsePoll, SeveralStreamsNameEachEventsStream) {
  const stream_set both{"{t}a", "{t}b"};
  auto r = parse_poll(
      R"({"events":[{"stream":"{t}b","position":1,"time":2,"type":"x","data":{}},)"
      R"({"stream":"{t}a","position":3,"time":2,"type":"y","data":{}}],"next":3,"gap":false})",
      both);
  ASSERT_TRUE(r) << r.err().message;
  EXPECT_EQ(r->events[0].stream, "{t}b");
  EXPECT_EQ(r->events[1].stream, "{t}a");
  EXPECT_EQ(to_json(r->events[0], true),
            R"({"stream":"{t}b","position":1,"time":2,"type":"x","data":{}})");
  for (const char* bad :
       {R"({"events":[{"position":1,"time":2,"type":"x","data":{}}],"next":1})",
        R"({"events":[{"stream":"{t}c","position":1,"type":"x","data":{}}],)"
        R"("next":1})",
        R"({"events":[{"stream":7,"position":1,"type":"x","data":{}}],"next":1})"}) {
    auto refused = parse_poll(bad, both);
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.err().code, "bad_response") << bad;
  }
}

TEST(ParsePoll, ReadsAnEmptyAnswerAndAGap) {
  auto r = parse_poll(R"({"events":[],"next":42,"gap":true})", "room:a");
  ASSERT_TRUE(r) << r.err().message;
  EXPECT_TRUE(r->events.empty());
  EXPECT_EQ(r->next, 42u);
  EXPECT_TRUE(r->gap);

  r = parse_poll(R"({ "next" : 3 , "events" : [ ] , "extra": {"x":[1]} })", "room:a");
  ASSERT_TRUE(r) << r.err().message;
  EXPECT_EQ(r->next, 3u);
  EXPECT_FALSE(r->gap);
}

TEST(ParsePoll, RejectsWhatTheApiDoesNotSay) {
  for (const char* bad :
       {"", "<html>502</html>", "[]", R"({"events":[]})", R"({"next":1})",
        R"({"events":{},"next":1})", R"({"events":[],"next":-1})", R"({"events":[],"next":1.5})",
        R"({"events":[],"next":1,"gap":"yes"})", R"({"events":[1],"next":1})",
        R"({"events":[{"position":1,"type":"t"}],"next":1})",
        R"({"events":[{"position":1,"type":"t","data":[]}],"next":1})",
        R"({"events":[{"position":"1","type":"t","data":{}}],"next":1})",
        R"({"events":[],"next":1} trailing)"}) {
    auto r = parse_poll(bad, "room:a");
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.err().kind, error_kind::protocol) << bad;
      EXPECT_EQ(r.err().code, "bad_response") << bad;
    }
  }
}

TEST(ParsePublished, ReadsFirstAndLast) {
  auto r = parse_published(R"({"first":7,"last":9})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 7u);
  EXPECT_EQ(r->last, 9u);
  EXPECT_FALSE(parse_published(R"({"first":7})"));
  EXPECT_FALSE(parse_published(R"({"first":-7,"last":9})"));
}

TEST(ParsePositions, ReadsTheList) {
  auto r = parse_positions(R"({"positions":[3,4,10]})");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (std::vector<position>{3, 4, 10}));
  EXPECT_FALSE(parse_positions(R"({"positions":[3,"4"]})"));
  EXPECT_FALSE(parse_positions(R"({})"));
}

TEST(ParseStreamInfo, ReadsEveryField) {
  auto r = parse_stream_info(R"({"stream":"room:a","head":9,"oldest":2,"waiters":3})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stream, "room:a");
  EXPECT_EQ(r->head, 9u);
  EXPECT_EQ(r->oldest, 2u);
  EXPECT_EQ(r->waiters, 3u);
  EXPECT_FALSE(parse_stream_info(R"({"stream":"room:a","head":9})"));
}

TEST(ParseHealth, ReadsStatusAndStore) {
  auto r = parse_health(R"({"status":"ok","store":"sqlite","waiters":0})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, "ok");
  EXPECT_EQ(r->store, "sqlite");
}

TEST(ErrorFromAnswer, ReadsTheApiErrorShape) {
  const error e = error_from_answer(
      403, "Forbidden",
      R"({"error":{"code":"forbidden","message":"this key may not read stream 'x'"}})");
  EXPECT_EQ(e.kind, error_kind::server);
  EXPECT_EQ(e.status, 403);
  EXPECT_EQ(e.code, "forbidden");
  EXPECT_EQ(e.message, "this key may not read stream 'x'");
  EXPECT_FALSE(e.retryable());
  EXPECT_EQ(e.to_string(), "server answered 403 (forbidden): this key may not read stream 'x'");
}

TEST(ErrorFromAnswer, DescribesAnAnswerOfSomethingElse) {
  const error e = error_from_answer(502, "Bad Gateway", "<html>\n<b>upstream</b>\n</html>");
  EXPECT_EQ(e.kind, error_kind::server);
  EXPECT_EQ(e.code, "http_502");
  EXPECT_EQ(e.message, "Bad Gateway: <html> <b>upstream</b> </html>");
  EXPECT_TRUE(e.retryable());

  const error long_body = error_from_answer(500, "", std::string(1000, 'x'));
  EXPECT_EQ(long_body.message, "HTTP 500: " + std::string(200, 'x') + "...");
}

TEST(Error, RetryableOnlyForTransientFailures) {
  EXPECT_TRUE((error{error_kind::transport, 0, "connect", ""}).retryable());
  EXPECT_TRUE((error{error_kind::server, 503, "unavailable", ""}).retryable());
  EXPECT_TRUE((error{error_kind::server, 429, "rate_limited", ""}).retryable());
  EXPECT_FALSE((error{error_kind::server, 400, "bad_request", ""}).retryable());
  EXPECT_FALSE((error{error_kind::server, 401, "unauthorized", ""}).retryable());
  EXPECT_FALSE((error{error_kind::invalid_argument, 0, "invalid_url", ""}).retryable());
  EXPECT_FALSE((error{error_kind::cancelled, 0, "cancelled", ""}).retryable());
  EXPECT_FALSE((error{error_kind::protocol, 200, "bad_response", ""}).retryable());
}

TEST(StreamPublishBody, SendsOneEventInTheShortForm) {
  auto b = stream_publish_body({new_event{"tip", R"({"amount": 5})"}});
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, R"({"type":"tip","data":{"amount": 5}})");
}

TEST(StreamPublishBody, SendsABatchAndEscapesTypes) {
  auto b = stream_publish_body({new_event{"a\"b", "{}"}, new_event{"c", " "}});
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, R"({"events":[{"type":"a\"b","data":{}},{"type":"c","data":{}}]})");
}

TEST(StreamPublishBody, RejectsDataThatIsNotAnObjectNamingIt) {
  auto b = stream_publish_body({new_event{"a", "{}"}, new_event{"b", "[1]"}});
  ASSERT_FALSE(b);
  EXPECT_EQ(b.err().kind, error_kind::invalid_argument);
  EXPECT_EQ(b.err().code, "invalid_json");
  EXPECT_EQ(b.err().message, "events[1]: 'data' is an array, not a JSON object");

  b = stream_publish_body({new_event{"a", "{"}});
  ASSERT_FALSE(b);
  EXPECT_EQ(b.err().message.rfind("'data' is not valid JSON", 0), 0u) << b.err().message;
  EXPECT_FALSE(stream_publish_body({}));
}

TEST(MultiPublishBody, NamesEachStream) {
  auto b =
      multi_publish_body({stream_event{"s:1", "t", "{}"}, stream_event{"s:2", "u", R"({"x":1})"}});
  ASSERT_TRUE(b);
  EXPECT_EQ(
      *b,
      R"({"events":[{"stream":"s:1","type":"t","data":{}},{"stream":"s:2","type":"u","data":{"x":1}}]})");
}

TEST(ToJson, RendersLikeTheServer) {
  event ev{17, 1700000000000, "t\"ip", R"({"amount":5})"};
  EXPECT_EQ(to_json(ev),
            R"({"position":17,"time":1700000000000,"type":"t\"ip","data":{"amount":5}})");
}

TEST(ToJson, KeepsEachEventOnOneLine) {
  event ev{1, 2, "t", "{\n  \"a\": \"x y\\n\",\r\n  \"b\": [1, 2]\n}"};
  EXPECT_EQ(to_json(ev), R"({"position":1,"time":2,"type":"t","data":{"a":"x y\n","b":[1,2]}})");
  ev.data.clear();
  EXPECT_EQ(to_json(ev), R"({"position":1,"time":2,"type":"t","data":{}})");
}

}  // namespace
}  // namespace eventfeed::detail
