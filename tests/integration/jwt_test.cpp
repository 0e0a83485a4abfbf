// Signed tokens (JWT) on the native API against a real server process: `[[jwt]]` entries with
// a shared secret (HS256, from the environment) and a public key file (RS256), the streams a
// token may read and publish from its claims, every kind of bad token refused with 401 and a
// JSON body, and a reload that stops trusting an issuer.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "jwt_mint.hpp"
#include "server_fixture.hpp"

namespace eventfeed::integration {
namespace {

namespace json = boost::json;
using testing::mint;

const std::string hs_secret = "integration-secret-0123456789abcdef";

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json::object claims(std::string iss, std::int64_t exp_in_s = 600) {
  return {{"iss", std::move(iss)},
          {"sub", "user-7"},
          {"exp", now_s() + exp_in_s},
          {"read", json::array{"room:*"}},
          {"publish", json::array{"room:7"}}};
}

class Jwt : public ServerTest {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("eventfeed-jwt-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "rsa.pem") << rsa_.public_pem;
    // The server inherits the test's environment.
    ::setenv("EVENTFEED_TEST_JWT_SECRET", hs_secret.c_str(), 1);
    start_server(config(true));
  }
  void TearDown() override {
    ServerTest::TearDown();
    std::filesystem::remove_all(dir_);
  }

  std::string config(bool trust_rsa) const {
    std::string tables = R"(
[[jwt]]
issuer = "backend"
algorithms = ["HS256"]
secret_env = "EVENTFEED_TEST_JWT_SECRET"
leeway_seconds = 5
)";
    if (trust_rsa)
      tables += R"(
[[jwt]]
issuer = "rsa-backend"
algorithms = ["RS256"]
public_key_file = ")" +
                (dir_ / "rsa.pem").string() + "\"\n";
    return test_config({}, tables);
  }

  http_reply publish_with(const std::string& token, std::string_view stream) {
    return client_->post("/v1/streams/" + std::string(stream) + "/events",
                         R"({"type":"note","data":{}})", bearer(token));
  }
  http_reply read_with(const std::string& token, std::string_view stream) {
    return client_->get("/v1/streams/" + std::string(stream) + "/events?after=0&timeout=0",
                        bearer(token));
  }
  void expect_refused(const std::string& token, std::string_view message) {
    auto reply = read_with(token, "room:7");
    EXPECT_EQ(reply.status, 401u) << reply;
    EXPECT_EQ(reply.header("Content-Type"), "application/json");
    EXPECT_EQ(reply.body, error_json("unauthorized", message));
    EXPECT_TRUE(reply.header("WWW-Authenticate").starts_with("Bearer")) << reply;
  }

  static inline const testing::key_pair rsa_ = testing::rsa_key_pair();
  std::filesystem::path dir_;
};

TEST_F(Jwt, ValidTokensReadAndPublishWhatTheirClaimsAllowAndNothingElse) {
  for (const auto& token : {mint("HS256", hs_secret, claims("backend")),
                            mint("RS256", rsa_.private_pem, claims("rsa-backend"))}) {
    auto published = publish_with(token, "room:7");
    ASSERT_EQ(published.status, 200u) << published;
    auto read = read_with(token, "room:7");
    ASSERT_EQ(read.status, 200u) << read;
    EXPECT_NE(read.body.find(R"("type":"note")"), std::string::npos) << read.body;

    auto other_publish = publish_with(token, "room:8");
    EXPECT_EQ(other_publish.status, 403u) << other_publish;
    EXPECT_EQ(other_publish.header("Content-Type"), "application/json");
    auto other_read = read_with(token, "lobby:1");
    EXPECT_EQ(other_read.status, 403u) << other_read;
    EXPECT_EQ(other_read.header("Content-Type"), "application/json");
  }
}

TEST_F(Jwt, AParkedPollWithATokenIsWokenByAPublish) {
  const auto token = mint("HS256", hs_secret, claims("backend"));
  request_swarm swarm(server_->port());
  const auto i = swarm.start("/v1/streams/room:7/events?after=now&timeout=30", bearer(token));
  ASSERT_TRUE(wait_stream_waiters("room:7", 1));
  const auto pos = publish_one("room:7", "second");
  ASSERT_TRUE(swarm.wait(i, 10s)) << "the parked poll was not released by the publish";
  auto out = swarm.result(i);
  ASSERT_FALSE(out.ec) << out.ec.message();
  ASSERT_EQ(out.reply.status, 200u) << out.reply;
  EXPECT_NE(out.reply.body.find(R"("position":)" + std::to_string(pos)), std::string::npos)
      << out.reply.body;
}

TEST_F(Jwt, EveryKindOfBadTokenIsRefusedWith401AndAJsonBody) {
  auto expired = claims("backend", -60);
  expect_refused(mint("HS256", hs_secret, expired), "token expired");
  auto early = claims("backend");
  early["nbf"] = now_s() + 3600;
  expect_refused(mint("HS256", hs_secret, early), "token not valid yet");
  expect_refused(mint("HS256", "a-different-secret-of-enough-length!", claims("backend")),
                 "token signature does not verify");
  expect_refused(mint("RS256", testing::rsa_key_pair().private_pem, claims("rsa-backend")),
                 "token signature does not verify");
  expect_refused(mint("HS256", hs_secret, claims("stranger")), "token issuer is not trusted");
  expect_refused(testing::mint_unsigned(claims("backend")),
                 "token algorithm 'none' is not accepted");
  expect_refused(mint("HS256", rsa_.public_pem, claims("rsa-backend")),
                 "token algorithm 'HS256' is not accepted from this issuer");
  auto bad_claims = claims("backend");
  bad_claims["publish"] = 7;
  expect_refused(mint("HS256", hs_secret, bad_claims),
                 "token claims 'read' and 'publish' must be lists of stream patterns");
  // Not shaped like a token at all: an unknown key, as before.
  expect_refused("no-such-key", "unknown key");
}

TEST_F(Jwt, AReloadThatDropsAnIssuerRefusesItsTokensOnTheNextRequest) {
  const auto token = mint("RS256", rsa_.private_pem, claims("rsa-backend"));
  ASSERT_EQ(read_with(token, "room:7").status, 200u) << "verified, and now cached";
  server_->reload(config(false));
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  http_reply reply;
  // The reload is asynchronous to the request: wait for it to take effect.
  do {
    reply = read_with(token, "room:7");
  } while (reply.status == 200u && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(reply.status, 401u) << reply;
  EXPECT_EQ(reply.body, error_json("unauthorized", "token issuer is not trusted"));
  EXPECT_EQ(read_with(mint("HS256", hs_secret, claims("backend")), "room:7").status, 200u);
}

}  // namespace
}  // namespace eventfeed::integration
