#include "api/common/json_fields.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace eventfeed::api::common {
namespace {

namespace json = boost::json;

std::optional<std::string> check(std::string_view text, void (*fn)(json_fields&)) {
  std::string problem;
  auto v = parse_object(text, problem);
  if (!v) return problem;
  json_fields f(v->get_object(), "");
  fn(f);
  return f.problem;
}

TEST(JsonFields, NamesTheFirstProblemByItsPath) {
  auto fn = [](json_fields& f) {
    f.string("a");
    nested(f, "user", [](json_fields& u) {
      u.equals("type", "user");
      u.string("id");
    });
  };
  EXPECT_EQ(check(R"({"a":"x","user":{"type":"user","id":"1"}})", fn), std::nullopt);
  EXPECT_EQ(check(R"({"user":{"type":"user","id":"1"}})", fn), "'a' is required");
  EXPECT_EQ(check(R"({"a":1,"user":{"id":1}})", fn), "'a' must be a string");
  EXPECT_EQ(check(R"({"a":"x","user":{"type":"group","id":1}})", fn),
            "'user.type' must be \"user\"");
  EXPECT_EQ(check(R"({"a":"x","user":{"type":"user","id":1}})", fn), "'user.id' must be a string");
  EXPECT_EQ(check(R"({"a":"x","user":[]})", fn), "'user' must be an object");
  EXPECT_EQ(check(R"([1])", fn), "'data' must be a JSON object");
  EXPECT_EQ(check(R"({)", fn), "'data' must be a JSON object");
}

TEST(JsonFields, OptionalFieldsMayBeAbsentOrNull) {
  auto fn = [](json_fields& f) {
    f.optional_string("s");
    f.optional_object("o");
    nested_optional(f, "n", [](json_fields& n) { n.string("id"); });
    f.absent("server", "is set by the server");
  };
  EXPECT_EQ(check(R"({})", fn), std::nullopt);
  EXPECT_EQ(check(R"({"s":null,"o":null,"n":null})", fn), std::nullopt);
  EXPECT_EQ(check(R"({"s":"x","o":{},"n":{"id":"1"}})", fn), std::nullopt);
  EXPECT_EQ(check(R"({"s":1})", fn), "'s' must be a string or null");
  EXPECT_EQ(check(R"({"o":"x"})", fn), "'o' must be an object or null");
  EXPECT_EQ(check(R"({"n":{}})", fn), "'n.id' is required");
  EXPECT_EQ(check(R"({"server":1})", fn), "'server' is set by the server");
}

TEST(JsonFields, NumbersIdsAndChoices) {
  auto fn = [](json_fields& f) {
    f.positive_integer("n");
    f.id("id");
    f.one_of("c", {"a", "b"});
    f.boolean("b");
    f.number("x");
  };
  EXPECT_EQ(check(R"({"n":1,"id":"42","c":"a","b":true,"x":1.5})", fn), std::nullopt);
  EXPECT_EQ(check(R"({"n":0,"id":"42","c":"a","b":true,"x":1})", fn),
            "'n' must be an integer of at least 1");
  EXPECT_EQ(check(R"({"n":1,"id":"4x","c":"a","b":true,"x":1})", fn),
            "'id' must be an integer or a string of digits");
  EXPECT_EQ(check(R"({"n":1,"id":4,"c":"z","b":true,"x":1})", fn), "'c' must be one of a, b");
  EXPECT_EQ(check(R"({"n":1,"id":4,"c":"b","b":1,"x":1})", fn), "'b' must be true or false");
  EXPECT_EQ(check(R"({"n":1,"id":4,"c":"b","b":false,"x":"1"})", fn), "'x' must be a number");
}

}  // namespace
}  // namespace eventfeed::api::common
