#include "core/json_text.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace eventfeed::core {
namespace {

std::string roundtrip(std::string_view text) {
  return to_compact_json(boost::json::parse(text));
}

TEST(JsonText, WritesNumbersTheWayPeopleWriteThem) {
  EXPECT_EQ(roundtrip(R"({"amount":5.5})"), R"({"amount":5.5})");
  EXPECT_EQ(roundtrip(R"({"a":5.0,"b":-0.25,"c":1e21,"d":12})"),
            R"({"a":5.0,"b":-0.25,"c":1e+21,"d":12})");
  EXPECT_EQ(roundtrip("[18446744073709551615,-9223372036854775808]"),
            "[18446744073709551615,-9223372036854775808]");
}

TEST(JsonText, IsCompactAndEscapesStrings) {
  EXPECT_EQ(roundtrip(R"( { "k" : [ true , false , null , "a\"b\n" ] } )"),
            R"({"k":[true,false,null,"a\"b\n"]})");
  EXPECT_EQ(roundtrip(R"({"\u00e9":"\u2603"})"), "{\"\xC3\xA9\":\"\xE2\x98\x83\"}");
}

TEST(JsonText, ReadsBackToTheSameValue) {
  const auto v = boost::json::parse(R"({"x":[1,2.5,{"y":"z"}],"n":0.1})");
  EXPECT_EQ(boost::json::parse(to_compact_json(v)), v);
}

}  // namespace
}  // namespace eventfeed::core
