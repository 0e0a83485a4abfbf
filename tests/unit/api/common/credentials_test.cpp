#include "api/common/credentials.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace eventfeed::api::common {
namespace {

using core::principal;

principal make(std::string name, std::vector<std::string> publish, std::vector<std::string> read) {
  principal p;
  p.name = std::move(name);
  for (auto& g : publish) p.publish.emplace_back(std::move(g));
  for (auto& g : read) p.read.emplace_back(std::move(g));
  return p;
}

// The token of a Bearer header, or nullopt when the header is refused for any reason.
std::optional<std::string> bearer_token(std::string_view header) {
  auto c = bearer_credential(header);
  if (!c.ok()) return std::nullopt;
  return c.secret;
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

TEST(BearerCredential, SaysWhyItFoundNothing) {
  EXPECT_EQ(bearer_credential("").status, credential::state::missing);
  EXPECT_EQ(bearer_credential("Basic dXNlcjpwYXNz").status, credential::state::wrong_scheme);
  EXPECT_EQ(bearer_credential("Bearertok").status, credential::state::wrong_scheme);
  EXPECT_EQ(bearer_credential("Bearer").status, credential::state::malformed);
  EXPECT_EQ(bearer_credential("Bearer   ").status, credential::state::malformed);
  EXPECT_TRUE(bearer_credential("Bearer t").login.empty());
}

TEST(BasicCredential, SplitsLoginAndSecretAtTheFirstColon) {
  // base64("bot@example.com:abc:def") -- a secret may itself contain ':'.
  auto c = basic_credential("Basic Ym90QGV4YW1wbGUuY29tOmFiYzpkZWY=");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.login, "bot@example.com");
  EXPECT_EQ(c.secret, "abc:def");
  auto scheme_case = basic_credential("bAsIc dXNlcjpwYXNz");  // user:pass
  ASSERT_TRUE(scheme_case.ok());
  EXPECT_EQ(scheme_case.login, "user");
  EXPECT_EQ(scheme_case.secret, "pass");
  auto unpadded = basic_credential("Basic dXNlcjpwYXNz");
  EXPECT_EQ(unpadded.secret, "pass");
  auto empty_secret = basic_credential("Basic dXNlcjo=");  // "user:"
  ASSERT_TRUE(empty_secret.ok());
  EXPECT_EQ(empty_secret.secret, "");
}

TEST(BasicCredential, AnEmptyLoginIsMalformed) {
  // base64(":key-of-bot"): a known secret must not be accepted without the login it belongs to.
  EXPECT_EQ(basic_credential("Basic OmtleS1vZi1ib3Q=").status, credential::state::malformed);
  key_ring ring;
  ring.add("key-of-bot", make("bot", {}, {}), "bot@example.com");
  EXPECT_EQ(ring.resolve(basic_credential("Basic OmtleS1vZi1ib3Q=")), nullptr);
}

TEST(BasicCredential, MissingWrongSchemeAndMalformed) {
  EXPECT_EQ(basic_credential("").status, credential::state::missing);
  EXPECT_EQ(basic_credential("Bearer abc").status, credential::state::wrong_scheme);
  EXPECT_EQ(basic_credential("Digest x").status, credential::state::wrong_scheme);
  EXPECT_EQ(basic_credential("Basic").status, credential::state::malformed);
  EXPECT_EQ(basic_credential("Basic !!!!").status, credential::state::malformed);
  EXPECT_EQ(basic_credential("Basic dXNlcg==").status, credential::state::malformed)
      << "'user' has no ':'";
  EXPECT_EQ(basic_credential("Basic dXNlcjpwYXN").status, credential::state::ok)
      << "a short last group still decodes whole bytes";
  EXPECT_EQ(basic_credential("Basic dXNlc").status, credential::state::malformed)
      << "one leftover character cannot make a byte";
}

TEST(PathCredential, TakesLoginAndToken) {
  auto c = path_credential("alice", "tok24");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.login, "alice");
  EXPECT_EQ(c.secret, "tok24");
  EXPECT_EQ(path_credential("", "").status, credential::state::missing);
  EXPECT_EQ(path_credential("alice", "").status, credential::state::malformed);
  EXPECT_EQ(path_credential("", "tok").status, credential::state::malformed);
}

TEST(Base64, DecodesTheStandardAlphabet) {
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_EQ(base64_decode("Zg=="), "f");
  EXPECT_EQ(base64_decode("Zm8="), "fo");
  EXPECT_EQ(base64_decode("Zm9v"), "foo");
  EXPECT_EQ(base64_decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(base64_decode("+/+/"), std::string("\xfb\xff\xbf"));
  EXPECT_EQ(base64_decode("Zm9v YmFy"), std::nullopt);
  EXPECT_EQ(base64_decode("Zm9v-_"), std::nullopt) << "the URL-safe alphabet is not Basic's";
  EXPECT_EQ(base64_decode("YQ==="), std::nullopt) << "at most two padding characters";
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

TEST(KeyRing, LoginsMustMatchCaseInsensitively) {
  key_ring ring;
  ring.add("key-of-bot-000000000000000000000", make("bot", {}, {}), "Bot@Example.com");
  ring.add("key-of-eve-000000000000000000000", make("eve", {}, {}), "eve@example.com");
  ASSERT_NE(ring.find_entry("bot@example.COM", "key-of-bot-000000000000000000000"), nullptr);
  EXPECT_EQ(ring.find_entry("bot@example.com", "key-of-bot-000000000000000000000")->who.name,
            "bot");
  EXPECT_EQ(ring.find_entry("eve@example.com", "key-of-bot-000000000000000000000"), nullptr)
      << "a known key with another user's login is refused";
  EXPECT_EQ(ring.find_entry("bot@example.com", "key-of-eve-000000000000000000000"), nullptr);
  EXPECT_EQ(ring.find_entry("bot@example.com", "wrong"), nullptr);
}

TEST(KeyRing, ResolvesEachForm) {
  key_ring ring;
  ring.add("native-key", make("native", {"*"}, {}));
  ring.add("room-token", make("room", {}, {}), "alice");
  EXPECT_EQ(ring.resolve(bearer_credential("Bearer native-key"))->who.name, "native");
  EXPECT_EQ(ring.resolve(path_credential("alice", "room-token"))->who.name, "room");
  EXPECT_EQ(ring.resolve(path_credential("bob", "room-token")), nullptr);
  EXPECT_EQ(ring.resolve(bearer_credential("")), nullptr);
}

TEST(KeyRing, ManyKeysSharingNoPrefixAreEachFound) {
  key_ring ring;
  for (int i = 0; i < 1000; ++i)
    ring.add("key-" + std::to_string(i), make(std::to_string(i), {}, {}));
  for (int i = 0; i < 1000; ++i) {
    const principal* p = ring.find("key-" + std::to_string(i));
    ASSERT_NE(p, nullptr) << i;
    EXPECT_EQ(p->name, std::to_string(i));
  }
  EXPECT_EQ(ring.find("key-1000"), nullptr);
}

TEST(KeyRing, FindsTheSameUnderAGivenIndexKey) {
  // The index key only spreads the secrets over the index; lookups do not depend on it.
  key_ring ring(core::siphash_key{0, 0});
  ring.add("a", make("a", {}, {}));
  ring.add("b", make("b", {}, {}));
  EXPECT_EQ(ring.find("a")->name, "a");
  EXPECT_EQ(ring.find("b")->name, "b");
}

TEST(KeyDirectory, ReplacingKeepsTheOldRingAliveForItsHolders) {
  auto first = std::make_shared<key_ring>();
  first->add("old-key-1", make("old", {}, {}));
  key_directory dir(first);
  first.reset();
  auto held = dir.current();
  auto next = std::make_shared<key_ring>();
  next->add("new-key-1", make("new", {}, {}));
  dir.replace(next);
  EXPECT_EQ(held->find("old-key-1")->name, "old") << "a request in flight keeps its ring";
  EXPECT_EQ(dir.current()->find("old-key-1"), nullptr);
  EXPECT_EQ(dir.current()->find("new-key-1")->name, "new");
}

TEST(KeyDirectory, ReadersSeeWholeRingsWhileAReplacerRuns) {
  // Every ring holds one key, named after the ring's number; a reader sees a whole ring, and the
  // rings it sees never go back in time. (Under TSan this also checks the locking.)
  auto ring_of = [](int n) {
    auto ring = std::make_shared<key_ring>();
    ring->add("key-" + std::to_string(n), make(std::to_string(n), {}, {}));
    return ring;
  };
  key_directory dir(ring_of(0));
  std::atomic<bool> done{false};
  std::thread replacer([&] {
    for (int i = 1; i <= 2000; ++i) dir.replace(ring_of(i));
    done = true;
  });
  int last = 0;
  while (!done) {
    auto ring = dir.current();
    ASSERT_EQ(ring->size(), 1u);
    const int n = std::stoi(ring->entries().front().who.name);
    ASSERT_GE(n, last);
    ASSERT_NE(ring->find("key-" + std::to_string(n)), nullptr);
    last = n;
  }
  replacer.join();
  EXPECT_EQ(dir.current()->entries().front().who.name, "2000");
}

TEST(KeyDirectory, EachDirectoryHasItsOwnRingOnEveryThread) {
  auto one = std::make_shared<key_ring>();
  one->add("secret-one", make("one", {}, {}));
  auto two = std::make_shared<key_ring>();
  two->add("secret-two", make("two", {}, {}));
  key_directory a(one);
  key_directory b(two);
  EXPECT_EQ(a.current()->find("secret-one")->name, "one");
  EXPECT_EQ(b.current()->find("secret-two")->name, "two");
  EXPECT_EQ(a.current()->find("secret-two"), nullptr);
  std::thread other([&] { EXPECT_EQ(b.current()->find("secret-two")->name, "two"); });
  other.join();
}

}  // namespace
}  // namespace eventfeed::api::common
