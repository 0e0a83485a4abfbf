#include "core/principal.hpp"

#include <gtest/gtest.h>

namespace eventfeed::core {
namespace {

principal make(std::string name, std::vector<std::string> publish, std::vector<std::string> read) {
  principal p;
  p.name = std::move(name);
  for (auto& g : publish) p.publish.emplace_back(std::move(g));
  for (auto& g : read) p.read.emplace_back(std::move(g));
  return p;
}

TEST(Principal, MayPublishAndReadByPattern) {
  auto p = make("app", {"room:*", "user:42"}, {"*"});
  EXPECT_TRUE(p.may_publish("room:alice"));
  EXPECT_TRUE(p.may_publish("user:42"));
  EXPECT_FALSE(p.may_publish("user:421"));
  EXPECT_FALSE(p.may_publish("user:1"));
  EXPECT_TRUE(p.may_read("user:1"));
  EXPECT_TRUE(p.may_read("{acme}x"));
}

TEST(Principal, NoPatternsMeansNoRights) {
  auto p = make("nobody", {}, {});
  EXPECT_FALSE(p.may_publish("a"));
  EXPECT_FALSE(p.may_read("a"));
}

TEST(Principal, ReadAndPublishAreSeparate) {
  auto reader = make("reader", {}, {"{acme}*"});
  EXPECT_TRUE(reader.may_read("{acme}user:1"));
  EXPECT_FALSE(reader.may_read("{other}user:1"));
  EXPECT_FALSE(reader.may_publish("{acme}user:1"));
}

TEST(Principal, OwnStreamsAreReadableAndTheFirstIsHome) {
  auto p = make("user", {}, {});
  p.streams = {"{acme}user:11", "{acme}public"};
  EXPECT_EQ(p.home_stream(), "{acme}user:11");
  EXPECT_TRUE(p.may_read("{acme}user:11"));
  EXPECT_TRUE(p.may_read("{acme}public"));
  EXPECT_FALSE(p.may_read("{acme}user:12"));
  EXPECT_FALSE(p.may_publish("{acme}user:11")) << "own streams are read rights only";
  EXPECT_EQ(make("none", {}, {}).home_stream(), "");
}

}  // namespace
}  // namespace eventfeed::core
