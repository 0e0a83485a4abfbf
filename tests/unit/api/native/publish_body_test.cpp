#include "api/native/publish_body.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace eventfeed::api::native {
namespace {

using core::errc;

// {"events":[{"type":"t","data":{"i":0}}, ...]} with `n` items.
std::string batch_of(std::size_t n) {
  std::string body = R"({"events":[)";
  for (std::size_t i = 0; i < n; ++i) {
    if (i) body += ',';
    body += R"({"type":"t","data":{"i":)" + std::to_string(i) + "}}";
  }
  return body + "]}";
}

TEST(ParseStreamPublish, SingleEventTakesTheGivenStream) {
  auto r = parse_stream_publish("room:a", R"({"type":"tip","data":{"amount":5}})");
  ASSERT_TRUE(r) << r.err().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].stream, "room:a");
  EXPECT_EQ((*r)[0].type, "tip");
  EXPECT_EQ((*r)[0].data, R"({"amount":5})");
}

TEST(ParseStreamPublish, MissingOrNullDataBecomesAnEmptyObject) {
  auto absent = parse_stream_publish("s", R"({"type":"ping"})");
  ASSERT_TRUE(absent);
  EXPECT_EQ((*absent)[0].data, "{}");
  auto null = parse_stream_publish("s", R"({"type":"ping","data":null})");
  ASSERT_TRUE(null);
  EXPECT_EQ((*null)[0].data, "{}");
}

TEST(ParseStreamPublish, DataIsReserialisedCompactly) {
  auto r = parse_stream_publish("s", R"({ "type" : "t", "data" : { "a" : [ 1 , 2 ] } })");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0].data, R"({"a":[1,2]})");
}

TEST(ParseStreamPublish, DataMustBeAnObject) {
  for (const char* body : {R"({"type":"t","data":[1]})", R"({"type":"t","data":"x"})",
                           R"({"type":"t","data":3})", R"({"type":"t","data":true})"}) {
    auto r = parse_stream_publish("s", body);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.err().code, errc::bad_request) << body;
    EXPECT_NE(r.err().message.find("'data'"), std::string::npos) << r.err().message;
  }
}

TEST(ParseStreamPublish, TypeIsRequiredNonEmptyStringOfAtMost200) {
  for (const char* body : {R"({"data":{}})", R"({"type":"","data":{}})", R"({"type":7})",
                           R"({"type":null})", R"({"type":["t"]})"}) {
    auto r = parse_stream_publish("s", body);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.err().code, errc::bad_request) << body;
  }
  const std::string at_limit(max_type_length, 't');
  auto ok = parse_stream_publish("s", R"({"type":")" + at_limit + R"("})");
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)[0].type, at_limit);
  auto over = parse_stream_publish("s", R"({"type":")" + at_limit + R"(t"})");
  ASSERT_FALSE(over);
  EXPECT_EQ(over.err().code, errc::bad_request);
}

TEST(ParseStreamPublish, BodyMustBeAJsonObject) {
  for (const char* body : {"", "not json", "[]", R"("x")", "42", R"({"type":"t")"}) {
    auto r = parse_stream_publish("s", body);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.err().code, errc::invalid_json) << body;
  }
}

TEST(ParseStreamPublish, BatchKeepsOrderAndStream) {
  auto r = parse_stream_publish(
      "s", R"({"events":[{"type":"a","data":{"n":1}},{"type":"b"},{"type":"c","data":{}}]})");
  ASSERT_TRUE(r) << r.err().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].type, "a");
  EXPECT_EQ((*r)[0].data, R"({"n":1})");
  EXPECT_EQ((*r)[1].type, "b");
  EXPECT_EQ((*r)[1].data, "{}");
  EXPECT_EQ((*r)[2].type, "c");
  for (const auto& ev : *r) EXPECT_EQ(ev.stream, "s");
}

TEST(ParseStreamPublish, BatchOfOneToOneThousandIsAccepted) {
  auto one = parse_stream_publish("s", batch_of(1));
  ASSERT_TRUE(one);
  EXPECT_EQ(one->size(), 1u);
  auto full = parse_stream_publish("s", batch_of(default_max_batch));
  ASSERT_TRUE(full) << full.err().message;
  EXPECT_EQ(full->size(), default_max_batch);
  EXPECT_EQ(full->back().data, R"({"i":999})");
}

TEST(ParseStreamPublish, BatchOverTheLimitIsPayloadTooLarge) {
  auto over = parse_stream_publish("s", batch_of(default_max_batch + 1));
  ASSERT_FALSE(over);
  EXPECT_EQ(over.err().code, errc::payload_too_large);
  auto custom = parse_stream_publish("s", batch_of(3), 2);
  ASSERT_FALSE(custom);
  EXPECT_EQ(custom.err().code, errc::payload_too_large);
  EXPECT_TRUE(parse_stream_publish("s", batch_of(2), 2));
}

TEST(ParseStreamPublish, EmptyOrNonArrayBatchIsABadRequest) {
  for (const char* body : {R"({"events":[]})", R"({"events":{}})", R"({"events":null})"}) {
    auto r = parse_stream_publish("s", body);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.err().code, errc::bad_request) << body;
  }
}

TEST(ParseStreamPublish, BatchErrorsNameTheItem) {
  auto not_object = parse_stream_publish("s", R"({"events":[{"type":"a"},3]})");
  ASSERT_FALSE(not_object);
  EXPECT_EQ(not_object.err().code, errc::bad_request);
  EXPECT_NE(not_object.err().message.find("events[1]"), std::string::npos);

  auto bad_type = parse_stream_publish("s", R"({"events":[{"type":"a"},{"type":"b"},{"x":1}]})");
  ASSERT_FALSE(bad_type);
  EXPECT_NE(bad_type.err().message.find("events[2]"), std::string::npos);

  auto bad_data = parse_stream_publish("s", R"({"events":[{"type":"a","data":[]}]})");
  ASSERT_FALSE(bad_data);
  EXPECT_EQ(bad_data.err().code, errc::bad_request);
  EXPECT_NE(bad_data.err().message.find("events[0]"), std::string::npos);
}

TEST(ParseMultiPublish, EachItemNamesItsStream) {
  auto r = parse_multi_publish(R"({"events":[{"stream":"{acme}a","type":"x","data":{"k":1}},)"
                               R"({"stream":"{acme}b","type":"y"}]})");
  ASSERT_TRUE(r) << r.err().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].stream, "{acme}a");
  EXPECT_EQ((*r)[0].type, "x");
  EXPECT_EQ((*r)[0].data, R"({"k":1})");
  EXPECT_EQ((*r)[1].stream, "{acme}b");
  EXPECT_EQ((*r)[1].data, "{}");
}

TEST(ParseMultiPublish, StreamIsRequiredAndValidated) {
  auto missing = parse_multi_publish(R"({"events":[{"type":"x"}]})");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.err().code, errc::bad_request);

  auto not_string = parse_multi_publish(R"({"events":[{"stream":5,"type":"x"}]})");
  ASSERT_FALSE(not_string);
  EXPECT_EQ(not_string.err().code, errc::bad_request);

  for (const std::string& name :
       std::vector<std::string>{"", "room alice", "a/b", "a*", std::string(201, 'x')}) {
    auto r = parse_multi_publish(R"({"events":[{"stream":"ok","type":"x"},{"stream":")" + name +
                                 R"(","type":"x"}]})");
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.err().code, errc::invalid_stream) << name;
    EXPECT_NE(r.err().message.find("events[1]"), std::string::npos) << r.err().message;
  }
}

TEST(ParseMultiPublish, ValidatesTypeAndDataLikeTheSingleStreamForm) {
  auto no_type = parse_multi_publish(R"({"events":[{"stream":"s"}]})");
  ASSERT_FALSE(no_type);
  EXPECT_EQ(no_type.err().code, errc::bad_request);
  auto bad_data = parse_multi_publish(R"({"events":[{"stream":"s","type":"t","data":1}]})");
  ASSERT_FALSE(bad_data);
  EXPECT_EQ(bad_data.err().code, errc::bad_request);
}

TEST(ParseMultiPublish, BatchLimitsApply) {
  EXPECT_EQ(parse_multi_publish(R"({"events":[]})").err().code, errc::bad_request);
  EXPECT_EQ(parse_multi_publish(R"({"type":"t"})").err().code, errc::bad_request);
  EXPECT_EQ(parse_multi_publish("[1]").err().code, errc::invalid_json);
  std::string body = R"({"events":[)";
  for (std::size_t i = 0; i <= default_max_batch; ++i) {
    if (i) body += ',';
    body += R"({"stream":"s","type":"t"})";
  }
  body += "]}";
  auto over = parse_multi_publish(body);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.err().code, errc::payload_too_large);
}

}  // namespace
}  // namespace eventfeed::api::native
