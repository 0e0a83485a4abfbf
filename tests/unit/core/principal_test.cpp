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

TEST(BearerToken, ExtractsTheToken) {
  EXPECT_EQ(bearer_token("Bearer abc123"), "abc123");
  EXPECT_EQ(bearer_token("Bearer a.b-c_d=="), "a.b-c_d==");
}

TEST(BearerToken, SchemeIsCaseInsensitive) {
  EXPECT_EQ(bearer_token("bearer tok"), "tok");
  EXPECT_EQ(bearer_token("BEARER tok"), "tok");
  EXPECT_EQ(bearer_token("bEaReR tok"), "tok");
}

TEST(BearerToken, TrimsSpacesAroundTheToken) {
  EXPECT_EQ(bearer_token("Bearer    tok  "), "tok");
}

TEST(BearerToken, RejectsOtherSchemesAndEmptyTokens) {
  EXPECT_EQ(bearer_token(""), std::nullopt);
  EXPECT_EQ(bearer_token("Bearer"), std::nullopt);
  EXPECT_EQ(bearer_token("Bearer "), std::nullopt);
  EXPECT_EQ(bearer_token("Bearer     "), std::nullopt);
  EXPECT_EQ(bearer_token("Bearertok"), std::nullopt);
  EXPECT_EQ(bearer_token("Basic dXNlcjpwYXNz"), std::nullopt);
  EXPECT_EQ(bearer_token("Token tok"), std::nullopt);
  EXPECT_EQ(bearer_token(" Bearer tok"), std::nullopt);
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

TEST(KeyRing, FindsByExactKey) {
  key_ring ring;
  ring.add("secret-one", make("one", {"*"}, {}));
  ring.add("secret-two", make("two", {}, {"*"}));
  EXPECT_EQ(ring.size(), 2u);
  const principal* one = ring.find("secret-one");
  ASSERT_NE(one, nullptr);
  EXPECT_EQ(one->name, "one");
  const principal* two = ring.find("secret-two");
  ASSERT_NE(two, nullptr);
  EXPECT_EQ(two->name, "two");
}

TEST(KeyRing, UnknownPrefixOrExtendedKeysAreNotFound) {
  key_ring ring;
  ring.add("secret", make("one", {"*"}, {}));
  EXPECT_EQ(ring.find(""), nullptr);
  EXPECT_EQ(ring.find("secre"), nullptr);
  EXPECT_EQ(ring.find("secret!"), nullptr);
  EXPECT_EQ(ring.find("SECRET"), nullptr);
  EXPECT_EQ(ring.find(std::string("secret\0", 7)), nullptr);
  key_ring empty;
  EXPECT_EQ(empty.find("secret"), nullptr);
}

TEST(KeyRing, FirstOfDuplicateKeysWins) {
  key_ring ring;
  ring.add("k", make("first", {}, {}));
  ring.add("k", make("second", {}, {}));
  ASSERT_NE(ring.find("k"), nullptr);
  EXPECT_EQ(ring.find("k")->name, "first");
}

}  // namespace
}  // namespace eventfeed::core
