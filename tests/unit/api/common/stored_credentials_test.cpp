#include "api/common/stored_credentials.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>

#include "run_awaitable.hpp"
#include "store/memory/memory_store.hpp"

namespace eventfeed::api::common {
namespace {

namespace net = boost::asio;

core::principal named(std::string name) {
  core::principal p;
  p.name = std::move(name);
  return p;
}

std::shared_ptr<const key_entry> entry(const secret_hasher& h, std::string_view secret,
                                       std::string name, std::uint64_t serial,
                                       std::string login = {}) {
  auto e = std::make_shared<key_entry>();
  e->secret = h.digest(secret);
  e->who = named(std::move(name));
  e->login = std::move(login);
  e->serial = serial;
  return e;
}

credential bearer(std::string secret) {
  credential c;
  c.status = credential::state::ok;
  c.secret = std::move(secret);
  return c;
}

TEST(SecretHasher, IsHmacSha256) {
  secret_hasher jefe("Jefe");  // RFC 4231, test case 2; twice, as the context is reused
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(hex_encode(jefe.digest("what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(SecretHasher, IsKeyedAndDeterministic) {
  secret_hasher a("pepper-one-0123456789");
  secret_hasher b("pepper-two-0123456789");
  EXPECT_EQ(a.digest("secret"), a.digest("secret"));
  EXPECT_EQ(a.digest("secret").size(), 32u);
  EXPECT_NE(a.digest("secret"), b.digest("secret"));
  EXPECT_NE(a.digest("secret"), a.digest("secreT"));
}

TEST(RandomToken, Is43UrlSafeCharactersOf32Bytes) {
  const std::string t = random_token(32);
  EXPECT_EQ(t.size(), 43u);
  for (char c : t)
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << c;
  EXPECT_NE(t, random_token(32));
}

TEST(Hex, RoundTrips) {
  const std::string raw("\x00\x7f\xff\x10", 4);
  EXPECT_EQ(hex_encode(raw), "007fff10");
  EXPECT_EQ(hex_decode("007FFF10"), raw);
  EXPECT_FALSE(hex_decode("abc"));
  EXPECT_FALSE(hex_decode("zz"));
}

TEST(CredentialIndex, FindsAnEntryByItsSecretNeverByItsDigest) {
  auto h = std::make_shared<const secret_hasher>("pepper-0123456789abcdef");
  credential_index index(h);
  for (int i = 0; i < 1000; ++i)
    index.put(entry(*h, "secret-" + std::to_string(i), "k" + std::to_string(i), i + 1));
  EXPECT_EQ(index.size(), 1000u);
  for (int i : {0, 1, 500, 999}) {
    auto e = index.resolve(bearer("secret-" + std::to_string(i)));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->who.name, "k" + std::to_string(i));
    EXPECT_EQ(e->serial, static_cast<std::uint64_t>(i + 1));
  }
  EXPECT_EQ(index.resolve(bearer(h->digest("secret-1"))), nullptr);
  EXPECT_EQ(index.resolve(bearer("secret-1000")), nullptr);
  index.erase(h->digest("secret-1"));
  EXPECT_EQ(index.resolve(bearer("secret-1")), nullptr);
  EXPECT_EQ(index.size(), 999u);
}

TEST(CredentialIndex, ALoginMustMatchCaseInsensitively) {
  auto h = std::make_shared<const secret_hasher>("pepper-0123456789abcdef");
  credential_index index(h);
  index.put(entry(*h, "user-secret", "user", 2, "bot@example.com"));
  auto with_login = [](std::string login) {
    credential c = bearer("user-secret");
    c.login = std::move(login);
    return c;
  };
  EXPECT_NE(index.resolve(with_login("BOT@example.com")), nullptr);
  EXPECT_EQ(index.resolve(with_login("other@example.com")), nullptr);
}

TEST(RevocationBoard, CancelsTheWaitOfEveryPollTrackedWithTheSerial) {
  revocation_board board;
  auto a = board.track(7);
  auto b = board.track(7);
  auto other = board.track(8);
  int cancelled = 0;
  board.on_wait(*a, [&] { ++cancelled; });
  board.on_wait(*other, [&] { cancelled += 100; });
  board.revoke(7);
  EXPECT_EQ(cancelled, 1);                  // b had not started waiting: marked only
  board.on_wait(*b, [&] { ++cancelled; });  // waiting after the revocation: cancelled at once
  EXPECT_EQ(cancelled, 2);
  EXPECT_TRUE(board.release(*a));
  EXPECT_TRUE(board.release(*b));
  EXPECT_FALSE(board.release(*other));
  EXPECT_EQ(board.tracked_count(), 0u);
}

TEST(RevocationBoard, ATicketTracksItsPollFromItsFirstWaitOnly) {
  revocation_board board;
  revocation_board::ticket config_key(&board, 0);  // not a stored credential: never tracked
  config_key.on_wait([] {});
  EXPECT_EQ(board.tracked_count(), 0u);
  revocation_board::ticket answered_at_once(&board, 5);
  board.revoke(5);
  EXPECT_FALSE(answered_at_once.release()) << "admitted before the revocation, never waited";
  revocation_board::ticket waiting(&board, 5);
  int cancelled = 0;
  waiting.on_wait([&] { ++cancelled; });  // revoked before its first wait: cancelled at once
  EXPECT_EQ(cancelled, 1);
  EXPECT_TRUE(waiting.release());
  EXPECT_EQ(board.tracked_count(), 0u);
}

TEST(RevocationBoard, APollTrackedAfterItsSerialWasRevokedIsRevoked) {
  revocation_board board;
  board.revoke(3);
  auto late = board.track(3);
  EXPECT_TRUE(board.release(*late));
}

class CredentialStore : public ::testing::Test {
 protected:
  template <class T>
  T run(net::awaitable<T> work) {
    return testing::run_awaitable(io_, std::move(work));
  }

  static stored_credential key(std::string name) {
    stored_credential c;
    c.kind = "key";
    c.name = std::move(name);
    c.read = {"room:*"};
    return c;
  }

  static const credential_index& index_of(credential_store& s) {
    return s.serve("key", [](const stored_credential& c) { return named(c.name); });
  }

  net::io_context io_;
  core::manual_clock clock_;
  store::memory::memory_store store_{{}, &clock_};
};

TEST_F(CredentialStore, StoresADigestNeverTheSecret) {
  credential_store creds(store_, clock_);
  auto made = run(creds.create(key("alice")));
  ASSERT_TRUE(made);
  EXPECT_EQ(made->secret.size(), 43u);
  EXPECT_EQ(made->credential.id.size(), 25u);
  auto record = store_.get_record("credential", made->credential.id);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->find(made->secret), std::string::npos);
  EXPECT_TRUE(store_.get_record("credential-pepper", "hmac"));
  const auto& index = index_of(creds);
  auto found = index.resolve(bearer(made->secret));
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->who.name, "alice");
}

TEST_F(CredentialStore, ASecondStoreOverTheSameRecordsResolvesTheSameSecrets) {
  std::string secret;
  {
    credential_store creds(store_, clock_);
    auto made = run(creds.create(key("alice")));
    ASSERT_TRUE(made);
    secret = made->secret;
  }
  credential_store again(store_, clock_);  // as after a restart: the pepper is reused
  EXPECT_EQ(again.size(), 1u);
  EXPECT_NE(index_of(again).resolve(bearer(secret)), nullptr);
}

TEST_F(CredentialStore, RotateRefusesTheOldSecretAndRevokeBoth) {
  credential_store creds(store_, clock_);
  const auto& index = index_of(creds);  // served before the changes: kept up to date
  auto made = run(creds.create(key("alice")));
  ASSERT_TRUE(made);
  auto parked = creds.revocations().track(made->credential.serial);
  auto rotated = run(creds.rotate("key", made->credential.id));
  ASSERT_TRUE(rotated);
  EXPECT_NE(rotated->secret, made->secret);
  EXPECT_TRUE(creds.revocations().release(*parked));  // the old secret's poll: revoked
  EXPECT_EQ(index.resolve(bearer(made->secret)), nullptr);
  EXPECT_NE(index.resolve(bearer(rotated->secret)), nullptr);

  EXPECT_FALSE(run(creds.revoke("other-kind", made->credential.id)));
  auto gone = run(creds.revoke("key", made->credential.id));
  ASSERT_TRUE(gone);
  EXPECT_EQ(index.resolve(bearer(rotated->secret)), nullptr);
  EXPECT_EQ(index.size(), 0u);
  EXPECT_FALSE(store_.get_record("credential", made->credential.id));
  auto missing = run(creds.rotate("key", made->credential.id));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.err().code, core::errc::not_found);
}

TEST_F(CredentialStore, RecordsRoundTrip) {
  stored_credential c = key("alice");
  c.id = "c0123";
  c.login = "alice@example.com";
  c.publish = {"room:alice"};
  c.attributes = {{"user_id", "11"}};
  c.digest = std::string(32, '\x01');
  c.created_ms = 5;
  auto back = credential_store::from_record(c.id, credential_store::to_record(c));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->name, "alice");
  EXPECT_EQ(back->login, c.login);
  EXPECT_EQ(back->read, c.read);
  EXPECT_EQ(back->publish, c.publish);
  EXPECT_EQ(back->attributes, c.attributes);
  EXPECT_EQ(back->digest, c.digest);
  EXPECT_EQ(back->created_ms, 5);
  EXPECT_FALSE(credential_store::from_record("x", "{"));
  EXPECT_FALSE(credential_store::from_record("x", R"({"kind":"key"})"));
}

}  // namespace
}  // namespace eventfeed::api::common
