#include "client/url.hpp"

#include <gtest/gtest.h>

#include "eventfeed/client.hpp"

namespace eventfeed {
namespace {

using namespace std::chrono_literals;

TEST(ParseUrl, AcceptsHostPortAndPrefix) {
  auto u = parse_url("http://127.0.0.1:8080");
  ASSERT_TRUE(u) << u.err().message;
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->prefix, "");

  u = parse_url("HTTP://events.example.com/eventfeed/");
  ASSERT_TRUE(u) << u.err().message;
  EXPECT_EQ(u->host, "events.example.com");
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->prefix, "/eventfeed");

  u = parse_url("http://localhost/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->prefix, "");
}

TEST(ParseUrl, AcceptsBracketedIpv6) {
  auto u = parse_url("http://[::1]:18080/a/b");
  ASSERT_TRUE(u) << u.err().message;
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 18080);
  EXPECT_EQ(u->prefix, "/a/b");
  EXPECT_TRUE(parse_url("http://[fe80::1]"));
}

TEST(ParseUrl, RejectsHttpsWithAClearMessage) {
  auto u = parse_url("https://events.example.com");
  ASSERT_FALSE(u);
  EXPECT_EQ(u.err().kind, error_kind::invalid_argument);
  EXPECT_EQ(u.err().code, "invalid_url");
  EXPECT_NE(u.err().message.find("https is not supported"), std::string::npos);
}

TEST(ParseUrl, RejectsGarbage) {
  for (const char* bad : {"",
                          "127.0.0.1:8080",
                          "localhost",
                          "ftp://host",
                          "http://",
                          "http://:8080",
                          "http://host:",
                          "http://host:0",
                          "http://host:65536",
                          "http://host:80x",
                          "http://host:-1",
                          "http://user:pw@host",
                          "http://host/a?b=1",
                          "http://host#frag",
                          "http://[::1",
                          "http://[::1]x",
                          "http://[]",
                          "http://ho st",
                          "http://host/a b",
                          "http://host/%zz",
                          " http://host"}) {
    auto u = parse_url(bad);
    EXPECT_FALSE(u) << bad;
    if (!u) {
      EXPECT_EQ(u.err().code, "invalid_url") << bad;
      EXPECT_NE(u.err().message.find("expected http://host[:port][/prefix]"), std::string::npos);
    }
  }
}

TEST(EncodePathSegment, EncodesBracesAndKeepsColons) {
  EXPECT_EQ(detail::encode_path_segment("{acme}user:42"), "%7Bacme%7Duser:42");
  EXPECT_EQ(detail::encode_path_segment("a.b_c-d~"), "a.b_c-d~");
  EXPECT_EQ(detail::encode_path_segment("a/b c"), "a%2Fb%20c");
}

TEST(EncodeQueryValue, EncodesEverythingButUnreserved) {
  EXPECT_EQ(detail::encode_query_value("tip"), "tip");
  EXPECT_EQ(detail::encode_query_value("a,b&c=d"), "a%2Cb%26c%3Dd");
  EXPECT_EQ(detail::encode_query_value("\xC3\xA9"), "%C3%A9");
}

TEST(IsValidStreamName, FollowsTheServersRule) {
  EXPECT_TRUE(detail::is_valid_stream_name("room:alice"));
  EXPECT_TRUE(detail::is_valid_stream_name("{acme}user:42"));
  EXPECT_TRUE(detail::is_valid_stream_name(std::string(200, 'a')));
  EXPECT_FALSE(detail::is_valid_stream_name(std::string(201, 'a')));
  EXPECT_FALSE(detail::is_valid_stream_name(""));
  EXPECT_FALSE(detail::is_valid_stream_name("room alice"));
  EXPECT_FALSE(detail::is_valid_stream_name("room/alice"));
}

TEST(IsValidCursor, AcceptsEmptyNowAndPositions) {
  EXPECT_TRUE(detail::is_valid_cursor(""));
  EXPECT_TRUE(detail::is_valid_cursor("now"));
  EXPECT_TRUE(detail::is_valid_cursor("0"));
  EXPECT_TRUE(detail::is_valid_cursor("18446744073709551615"));
  EXPECT_FALSE(detail::is_valid_cursor("18446744073709551616"));
  EXPECT_FALSE(detail::is_valid_cursor("-1"));
  EXPECT_FALSE(detail::is_valid_cursor("+1"));
  EXPECT_FALSE(detail::is_valid_cursor("1 "));
  EXPECT_FALSE(detail::is_valid_cursor("oldest"));
}

TEST(FormatSeconds, WritesTheShortestDecimal) {
  EXPECT_EQ(detail::format_seconds(30s), "30");
  EXPECT_EQ(detail::format_seconds(1500ms), "1.5");
  EXPECT_EQ(detail::format_seconds(250ms), "0.25");
  EXPECT_EQ(detail::format_seconds(5ms), "0.005");
  EXPECT_EQ(detail::format_seconds(0ms), "0");
  EXPECT_EQ(detail::format_seconds(-3s), "0");
}

}  // namespace
}  // namespace eventfeed
