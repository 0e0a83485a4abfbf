#include "core/stream_name.hpp"

#include <gtest/gtest.h>

namespace eventfeed::core {
namespace {

TEST(StreamName, AcceptsTheDocumentedAlphabet) {
  EXPECT_TRUE(is_valid_stream_name("room:alice"));
  EXPECT_TRUE(is_valid_stream_name("{acme}user:42"));
  EXPECT_TRUE(is_valid_stream_name("a.b_c-D9"));
  EXPECT_TRUE(is_valid_stream_name(std::string(200, 'x')));
}

TEST(StreamName, RejectsOthersWithAMessage) {
  EXPECT_FALSE(is_valid_stream_name(""));
  EXPECT_FALSE(is_valid_stream_name(std::string(201, 'x')));
  EXPECT_FALSE(is_valid_stream_name("room alice"));
  EXPECT_FALSE(is_valid_stream_name("room/alice"));
  auto r = parse_stream_name("a*b");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::invalid_stream);
}

TEST(StreamName, TagIsTheBracedPartOrTheWholeName) {
  EXPECT_EQ(stream_tag("{acme}user:42"), "acme");
  EXPECT_EQ(stream_tag("user:{acme}"), "acme");
  EXPECT_EQ(stream_tag("user:42"), "user:42");
  EXPECT_EQ(stream_tag("{}user"), "{}user");
}

TEST(StreamPattern, GlobsWithStar) {
  EXPECT_TRUE(stream_pattern("room:*").matches("room:alice"));
  EXPECT_TRUE(stream_pattern("room:*").matches("room:"));
  EXPECT_FALSE(stream_pattern("room:*").matches("user:1"));
  EXPECT_TRUE(stream_pattern("*").matches("anything"));
  EXPECT_TRUE(stream_pattern("*:42").matches("user:42"));
  EXPECT_TRUE(stream_pattern("a*b*c").matches("aXXbYYc"));
  EXPECT_FALSE(stream_pattern("a*b*c").matches("aXXbYY"));
  EXPECT_TRUE(stream_pattern("user:42").matches("user:42"));
  EXPECT_FALSE(stream_pattern("user:42").matches("user:421"));
}

}  // namespace
}  // namespace eventfeed::core
