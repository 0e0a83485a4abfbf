#include "http/url_codec.hpp"

#include <gtest/gtest.h>

namespace eventfeed::http {
namespace {

TEST(PercentDecode, DecodesEscapesAndOptionallyPlus) {
  EXPECT_EQ(percent_decode("%7Bacme%7Duser%3A42", false), "{acme}user:42");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("", true), "");
}

TEST(PercentEncodeSegment, KeepsUnreservedAndEscapesTheRest) {
  EXPECT_EQ(percent_encode_segment("alice_1.x-y~"), "alice_1.x-y~");
  EXPECT_EQ(percent_encode_segment("a/b?c d%"), "a%2Fb%3Fc%20d%25");
  EXPECT_EQ(percent_encode_segment("\xc3\xa9"), "%C3%A9");
  EXPECT_EQ(percent_decode(percent_encode_segment("{acme}user:42/x"), false), "{acme}user:42/x");
}

TEST(PercentDecode, RejectsMalformedEscapes) {
  EXPECT_FALSE(percent_decode("%", false));
  EXPECT_FALSE(percent_decode("%4", false));
  EXPECT_FALSE(percent_decode("%G1", false));
  EXPECT_FALSE(percent_decode("ab%", true));
}

TEST(QueryParam, FindsTheFirstDecodedValue) {
  const std::string_view q = "after=17&timeout=1.5&types=a%2Cb&x=1&x=2&flag";
  EXPECT_EQ(query_param(q, "after"), "17");
  EXPECT_EQ(query_param(q, "timeout"), "1.5");
  EXPECT_EQ(query_param(q, "types"), "a,b");
  EXPECT_EQ(query_param(q, "x"), "1");
  EXPECT_EQ(query_param(q, "flag"), "");
  EXPECT_FALSE(query_param(q, "missing"));
  EXPECT_FALSE(query_param("", "after"));
  EXPECT_EQ(query_param("&&a=1", "a"), "1");
}

TEST(QueryParam, WorksOnViewsThatAreNotNulTerminated) {
  const std::string target = "after=5&timeout=2XXXX";
  std::string_view q(target.data(), target.size() - 4);
  EXPECT_EQ(query_param(q, "timeout"), "2");
}

}  // namespace
}  // namespace eventfeed::http
