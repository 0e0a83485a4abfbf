#include "api/common/signed_tokens.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "jwt_mint.hpp"

namespace eventfeed::api::common {
namespace {

namespace json = boost::json;
using testing::mint;
using testing::mint_unsigned;

const std::string secret = "0123456789abcdef0123456789abcdef-hs";
constexpr std::int64_t start_s = 1'700'000'000;

class SignedTokens : public ::testing::Test {
 protected:
  SignedTokens() : clock_(start_s * 1000) {
    keys_.push_back(jwt_key{"backend", {"HS256"}, true, secret, 30});
    keys_.push_back(jwt_key{"rsa-backend", {"RS256"}, false, rsa_.public_pem, 30});
    keys_.push_back(jwt_key{"ec-backend", {"ES256"}, false, ec_.public_pem, 30});
  }

  static json::object claims(std::string iss, std::int64_t exp_in_s = 300) {
    return {{"iss", std::move(iss)},
            {"sub", "user-7"},
            {"name", "Seven"},
            {"exp", start_s + exp_in_s},
            {"read", json::array{"room:*"}},
            {"publish", json::array{"room:7"}}};
  }

  std::shared_ptr<const key_entry> verify(const std::string& token, std::string& why) {
    return verifier().verify(token, why);
  }
  // Refused, and why.
  std::string refusal(const std::string& token) {
    std::string why;
    EXPECT_EQ(verifier().verify(token, why), nullptr);
    return why;
  }
  jwt_verifier& verifier() {
    if (!verifier_) verifier_ = std::make_unique<jwt_verifier>(keys_, clock_);
    return *verifier_;
  }

  static inline const testing::key_pair rsa_ = testing::rsa_key_pair();
  static inline const testing::key_pair ec_ = testing::ec_key_pair();
  core::manual_clock clock_;
  std::vector<jwt_key> keys_;
  std::unique_ptr<jwt_verifier> verifier_;
};

TEST_F(SignedTokens, AValidTokenOfEachKindOfKeyGivesItsClaimsAsAPrincipal) {
  for (const auto& token : {mint("HS256", secret, claims("backend")),
                            mint("RS256", rsa_.private_pem, claims("rsa-backend")),
                            mint("ES256", ec_.private_pem, claims("ec-backend"))}) {
    std::string why;
    auto entry = verify(token, why);
    ASSERT_NE(entry, nullptr) << why;
    const core::principal& who = entry->who;
    EXPECT_EQ(who.who.id, "user-7");
    EXPECT_EQ(who.who.name, "Seven");
    EXPECT_TRUE(who.may_read("room:42"));
    EXPECT_FALSE(who.may_read("other:1"));
    EXPECT_TRUE(who.may_publish("room:7"));
    EXPECT_FALSE(who.may_publish("room:8"));
    EXPECT_TRUE(who.name.starts_with("jwt:")) << who.name;
  }
}

TEST_F(SignedTokens, ExpiryAndNotBeforeAllowTheLeewayAndNoMore) {
  const auto expired = mint("HS256", secret, claims("backend", -31));
  const auto just_expired = mint("HS256", secret, claims("backend", -29));
  EXPECT_EQ(refusal(expired), "token expired");
  std::string why;
  EXPECT_NE(verify(just_expired, why), nullptr) << "within the 30 s leeway: " << why;

  auto early = claims("backend");
  early["nbf"] = start_s + 31;
  EXPECT_EQ(refusal(mint("HS256", secret, early)), "token not valid yet");
  early["nbf"] = start_s + 29;
  EXPECT_NE(verify(mint("HS256", secret, early), why), nullptr) << why;

  auto no_exp = claims("backend");
  no_exp.erase("exp");
  EXPECT_EQ(refusal(mint("HS256", secret, no_exp)), "token has no expiry ('exp')");
  auto text_exp = claims("backend");
  text_exp["exp"] = "tomorrow";
  EXPECT_EQ(refusal(mint("HS256", secret, text_exp)), "token 'exp' is not a number");
}

TEST_F(SignedTokens, ACachedTokenStillExpires) {
  const auto token = mint("HS256", secret, claims("backend", 60));
  std::string why;
  ASSERT_NE(verify(token, why), nullptr) << why;
  EXPECT_EQ(verify(token, why), verify(token, why)) << "the second verification is the cache's";
  clock_.advance(std::chrono::seconds(60 + 31));
  EXPECT_EQ(refusal(token), "token expired");
}

TEST_F(SignedTokens, WrongSignaturesUnknownIssuersAndForeignAlgorithmsAreRefused) {
  EXPECT_EQ(refusal(mint("HS256", "another-secret-of-thirty-two-bytes!!", claims("backend"))),
            "token signature does not verify");
  const auto other = testing::rsa_key_pair();
  EXPECT_EQ(refusal(mint("RS256", other.private_pem, claims("rsa-backend"))),
            "token signature does not verify");
  EXPECT_EQ(refusal(mint("HS256", secret, claims("stranger"))), "token issuer is not trusted");
  auto no_iss = claims("backend");
  no_iss.erase("iss");
  EXPECT_EQ(refusal(mint("HS256", secret, no_iss)), "token has no issuer ('iss')");
  EXPECT_EQ(refusal(mint("HS512", secret, claims("backend"))),
            "token algorithm 'HS512' is not accepted from this issuer");
}

TEST_F(SignedTokens, AlgNoneAndAlgorithmConfusionAreRefused) {
  EXPECT_EQ(refusal(mint_unsigned(claims("backend"))), "token algorithm 'none' is not accepted");
  // The classic confusion: HMAC "signed" with the text of the issuer's RSA public key, hoping
  // the verifier uses that text as an HMAC secret.
  EXPECT_EQ(refusal(mint("HS256", rsa_.public_pem, claims("rsa-backend"))),
            "token algorithm 'HS256' is not accepted from this issuer");
}

TEST_F(SignedTokens, MalformedTokensAndClaimsAreRefused) {
  EXPECT_EQ(refusal("a.b.c"), "malformed token");
  EXPECT_EQ(refusal("not-a-token"), "malformed token");
  auto bad_read = claims("backend");
  bad_read["read"] = "room:*";
  EXPECT_EQ(refusal(mint("HS256", secret, bad_read)),
            "token claims 'read' and 'publish' must be lists of stream patterns");
  EXPECT_FALSE(jwt_verifier::looks_like_jwt("opaque-config-key"));
  EXPECT_FALSE(jwt_verifier::looks_like_jwt("a..c"));
  EXPECT_TRUE(jwt_verifier::looks_like_jwt("a.b."));
}

TEST_F(SignedTokens, SeveralEntriesForOneIssuerLetAKeyBeRotated) {
  const std::string next = "fedcba9876543210fedcba9876543210-next";
  keys_.push_back(jwt_key{"backend", {"HS256"}, true, next, 30});
  std::string why;
  EXPECT_NE(verify(mint("HS256", secret, claims("backend")), why), nullptr) << why;
  EXPECT_NE(verify(mint("HS256", next, claims("backend")), why), nullptr) << why;
}

TEST_F(SignedTokens, TrustAnswersOnlyForBearerTokensShapedLikeJwts) {
  jwt_trust trust;
  credential c;
  c.status = credential::state::ok;
  c.secret = mint("HS256", secret, claims("backend"));
  std::string why;
  EXPECT_EQ(trust.vouch(c, why), nullptr) << "no verifier in force";
  EXPECT_EQ(why, "");
  trust.replace(std::make_shared<const jwt_verifier>(keys_, clock_));
  EXPECT_NE(trust.vouch(c, why), nullptr) << why;
  c.secret = "opaque-config-key";
  EXPECT_EQ(trust.vouch(c, why), nullptr);
  EXPECT_EQ(why, "") << "not a JWT: left to the key ring's 'unknown key'";
}

// [[jwt]] tables: the key material's kind must match the algorithms.
std::string read_jwt(const std::string& toml, jwt_key& out) {
  toml::table doc = toml::parse(toml);
  config_errors errors("test.toml");
  config_table root(doc, "", errors);
  auto t = root.table("jwt");
  EXPECT_TRUE(t.has_value());
  const bool ok = parse_jwt_key(*t, out);
  EXPECT_EQ(ok, !errors.failed());
  return errors.message();
}

TEST(SignedTokensConfig, EntriesAreCheckedAgainstTheirKeys) {
  const auto dir = std::filesystem::temp_directory_path() / "eventfeed-jwt-config-test";
  std::filesystem::create_directories(dir);
  const auto rsa = testing::rsa_key_pair();
  const auto rsa_file = (dir / "rsa.pem").string();
  std::ofstream(rsa_file) << rsa.public_pem;
  const auto junk_file = (dir / "junk.pem").string();
  std::ofstream(junk_file) << "not a key";
  ::setenv("EVENTFEED_TEST_JWT_SECRET", secret.c_str(), 1);
  ::setenv("EVENTFEED_TEST_JWT_SHORT", "short", 1);

  jwt_key k;
  EXPECT_EQ(read_jwt("[jwt]\nissuer = \"b\"\nalgorithms = [\"HS256\"]\n"
                     "secret_env = \"EVENTFEED_TEST_JWT_SECRET\"",
                     k),
            "");
  EXPECT_TRUE(k.shared_secret);
  EXPECT_EQ(k.material, secret);
  k = {};
  EXPECT_EQ(read_jwt("[jwt]\nissuer = \"b\"\nalgorithms = [\"RS256\", \"RS512\"]\n"
                     "public_key_file = \"" +
                         rsa_file + "\"\nleeway_seconds = 5",
                     k),
            "");
  EXPECT_FALSE(k.shared_secret);
  EXPECT_EQ(k.leeway_s, 5);

  EXPECT_EQ(read_jwt("[jwt]\nissuer = \"b\"\nalgorithms = [\"HS256\"]\n"
                     "secret_env = \"EVENTFEED_TEST_JWT_SHORT\"",
                     k),
            "test.toml: jwt.secret_env: the secret must be at least 32 bytes (RFC 7518: as long "
            "as the hash for HS256)");
  EXPECT_EQ(read_jwt("[jwt]\nissuer = \"b\"\nalgorithms = [\"ES256\"]\n"
                     "public_key_file = \"" +
                         rsa_file + "\"",
                     k),
            "test.toml: jwt.public_key_file: " + rsa_file +
                " holds an RSA key, which the algorithms given cannot use");
  EXPECT_EQ(read_jwt("[jwt]\nissuer = \"b\"\nalgorithms = [\"RS256\"]\n"
                     "public_key_file = \"" +
                         junk_file + "\"",
                     k),
            "test.toml: jwt.public_key_file: " + junk_file +
                " holds no PEM public key (-----BEGIN PUBLIC KEY-----)");
  EXPECT_EQ(read_jwt("[jwt]\nissuer = \"b\"\nalgorithms = [\"HS256\", \"RS256\"]\n"
                     "secret_env = \"EVENTFEED_TEST_JWT_SECRET\"",
                     k),
            "test.toml: jwt.algorithms: mixes algorithms of different key types: one entry per "
            "key");
  EXPECT_EQ(read_jwt("[jwt]\nissuer = \"b\"\nalgorithms = [\"none\"]\n"
                     "secret_env = \"EVENTFEED_TEST_JWT_SECRET\"",
                     k),
            "test.toml: jwt.algorithms: 'none' is not one of HS256, HS384, HS512, RS256, RS384, "
            "RS512, ES256, ES384, ES512");
  EXPECT_EQ(
      read_jwt("[jwt]\nissuer = \"b\"\nalgorithms = [\"RS256\"]\n"
               "secret_env = \"EVENTFEED_TEST_JWT_SECRET\"",
               k),
      "test.toml: jwt.secret_env: RS and ES algorithms take a public key ('public_key_file')");
  EXPECT_EQ(
      read_jwt("[jwt]\nalgorithms = [\"HS256\"]\nsecret_env = \"EVENTFEED_TEST_JWT_SECRET\"", k),
      "test.toml: jwt.issuer: is required (the tokens' 'iss' claim)");
  EXPECT_EQ(read_jwt("[jwt]\nissuer = \"b\"\nalgorithms = [\"HS256\"]\nsecret = \"x\"", k),
            "test.toml: jwt.secret: unknown key");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace eventfeed::api::common
