// The admin API (docs/api/admin.md) against a real server process on the SQLite store: a key
// created through it works at once, survives a restart and a SIGKILL, and a config reload;
// rotating or revoking it refuses the old secret on the next request and answers a poll parked
// with it 401; a key without `admin = true` gets 403 on every admin route; and no secret shows
// anywhere but in the create and rotate answers (not in lists, not in the access log).
//
// Nothing sleeps: every wait is a bounded loop on an observable condition.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "server_fixture.hpp"

namespace eventfeed::integration {
namespace {

namespace json = boost::json;

constexpr std::string_view admin_key = "test-admin-key-0123";

class Admin : public ServerTest {
 protected:
  void SetUp() override { start_server(config()); }
  // The server goes before its data directory does.
  void TearDown() override {
    ServerTest::TearDown();
    client_.reset();
    server_.reset();
  }

  std::string config(std::string_view extra_keys = {}) const {
    std::string cfg = "[server]\nthreads = 2\naccess_log = true\n\n[store]\nbackend = \"sqlite\"\n";
    cfg += "data_dir = '" + (dir_.path() / "data").string() + "'\n\n";
    cfg += "[[keys]]\nname = \"admin\"\nadmin = true\nkey = \"" + std::string(admin_key) + "\"\n\n";
    cfg += "[[keys]]\nname = \"publisher\"\nkey = \"" + std::string(publisher_key) +
           "\"\npublish = [\"*\"]\nread = [\"*\"]\n";
    cfg += extra_keys;
    return cfg;
  }

  // Restarts the server on the same data directory.
  void restart() { start_server(config()); }

  http_reply admin(bhttp::verb method, const std::string& target, std::string_view body = {},
                   std::string_view key = admin_key) {
    return client_->request(method, target, body, bearer(key));
  }

  // Creates a key that may read room:* and publish to room:a; returns its answer.
  json::object create_key(std::string_view name = "alice") {
    auto reply =
        admin(bhttp::verb::post, "/v1/admin/keys",
              R"({"name":")" + std::string(name) + R"(","read":["room:*"],"publish":["room:a"]})");
    EXPECT_EQ(reply.status, 201u) << reply;
    json::value v = reply.json();
    return v.as_object();
  }

  unsigned publish_with(std::string_view secret, std::string_view stream) {
    return client_
        ->post("/v1/streams/" + std::string(stream) + "/events", R"({"type":"note"})",
               bearer(secret))
        .status;
  }
  unsigned read_with(std::string_view secret, std::string_view stream) {
    return client_
        ->get("/v1/streams/" + std::string(stream) + "/events?after=0&timeout=0", bearer(secret))
        .status;
  }

  // Parks a poll with `secret` on room:a and waits until it waits in the server.
  std::size_t park(request_swarm& swarm, std::string_view secret) {
    const auto i = swarm.start("/v1/streams/room:a/events?after=now&timeout=60", bearer(secret));
    EXPECT_TRUE(wait_stream_waiters("room:a", 1));
    return i;
  }

  temp_dir dir_;
};

std::string str(const json::object& o, std::string_view key) {
  return std::string(o.at(key).as_string());
}

TEST_F(Admin, ACreatedKeyWorksAtOnceWithTheRightsItWasGiven) {
  auto made = create_key();
  const auto secret = str(made, "secret");
  EXPECT_EQ(secret.size(), 43u);
  EXPECT_EQ(str(made, "name"), "alice");
  EXPECT_EQ(json::serialize(made.at("read")), R"(["room:*"])");
  EXPECT_EQ(publish_with(secret, "room:a"), 200u);
  EXPECT_EQ(publish_with(secret, "room:b"), 403u);
  EXPECT_EQ(read_with(secret, "room:b"), 200u);
  EXPECT_EQ(read_with(secret, "other"), 403u);
  EXPECT_EQ(read_with(secret + "x", "room:a"), 401u);
}

TEST_F(Admin, NoAnswerButCreateAndRotateShowsASecretNorDoesTheLog) {
  auto made = create_key();
  const auto id = str(made, "id");
  auto rotated = admin(bhttp::verb::post, "/v1/admin/keys/" + id + "/rotate");
  ASSERT_EQ(rotated.status, 200u) << rotated;
  json::value rv = rotated.json();
  const auto second = str(rv.as_object(), "secret");
  const std::vector<std::string> secrets{str(made, "secret"), second};
  std::vector<http_reply> answers{admin(bhttp::verb::get, "/v1/admin/keys"),
                                  admin(bhttp::verb::get, "/v1/admin/keys/" + id)};
  EXPECT_EQ(read_with(second, "room:a"), 200u);
  answers.push_back(admin(bhttp::verb::delete_, "/v1/admin/keys/" + id));
  answers.push_back(client_->get("/v1/streams/room:a/events?after=0&timeout=0", bearer(second)));
  for (const auto& a : answers) {
    EXPECT_LT(a.status, 500u) << a;
    for (const auto& s : secrets) EXPECT_EQ(a.body.find(s), std::string::npos) << a;
  }
  json::value listed = answers[0].json();
  ASSERT_EQ(listed.at("keys").as_array().size(), 1u);
  EXPECT_FALSE(listed.at("keys").as_array()[0].as_object().contains("secret"));
  // The access log, once it shows the last request.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::string log;
  do {
    log = server_->process().stdout_text() + server_->process().stderr_text();
  } while (log.find("DELETE /v1/admin/keys/" + id) == std::string::npos &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_NE(log.find("/v1/admin/keys/" + id + "/rotate"), std::string::npos) << log;
  for (const auto& s : secrets) EXPECT_EQ(log.find(s), std::string::npos);
}

TEST_F(Admin, AKeyWithoutAdminGets403OnEveryRouteAndNoKey401) {
  auto made = create_key();
  const auto id = str(made, "id");
  const auto stored_secret = str(made, "secret");
  const std::vector<std::pair<bhttp::verb, std::string>> routes{
      {bhttp::verb::post, "/v1/admin/keys"},
      {bhttp::verb::get, "/v1/admin/keys"},
      {bhttp::verb::get, "/v1/admin/keys/" + id},
      {bhttp::verb::post, "/v1/admin/keys/" + id + "/rotate"},
      {bhttp::verb::delete_, "/v1/admin/keys/" + id}};
  for (const auto& [method, target] : routes) {
    for (std::string_view key : {publisher_key, std::string_view(stored_secret)}) {
      auto reply = admin(method, target, R"({"read":["*"]})", key);
      EXPECT_EQ(reply.status, 403u) << target << " " << reply;
      const json::value answer = reply.json();
      EXPECT_EQ(answer.at("error").at("code"), "forbidden") << reply;
    }
    auto anonymous = client_->request(method, target, R"({"read":["*"]})");
    EXPECT_EQ(anonymous.status, 401u) << target << " " << anonymous;
  }
  EXPECT_EQ(read_with(stored_secret, "room:a"), 200u) << "nothing was changed";
}

TEST_F(Admin, BadRequestsGetClearErrors) {
  auto bad = [&](std::string_view body, std::string_view code) {
    auto reply = admin(bhttp::verb::post, "/v1/admin/keys", body);
    EXPECT_EQ(reply.status, 400u) << reply;
    const json::value answer = reply.json();
    EXPECT_EQ(answer.at("error").at("code").as_string(), code) << reply;
  };
  bad("{", "invalid_json");
  bad("[]", "invalid_json");
  bad(R"({"name":"x"})", "bad_request");
  bad(R"({"read":"room:*"})", "bad_request");
  bad(R"({"read":[""]})", "bad_request");
  bad(R"({"read":["*"],"secret":"mine"})", "bad_request");
  auto missing = admin(bhttp::verb::post, "/v1/admin/keys/cnothing/rotate");
  EXPECT_EQ(missing.status, 404u) << missing;
  EXPECT_EQ(admin(bhttp::verb::delete_, "/v1/admin/keys/cnothing").status, 404u);
}

TEST_F(Admin, AStoredKeySurvivesARestartAKillAndAReload) {
  const auto first = str(create_key("first"), "secret");
  restart();
  EXPECT_EQ(read_with(first, "room:a"), 200u);
  const auto second = str(create_key("second"), "secret");
  server_->kill();
  restart();
  EXPECT_EQ(read_with(first, "room:a"), 200u);
  EXPECT_EQ(read_with(second, "room:a"), 200u);
  json::value listed = admin(bhttp::verb::get, "/v1/admin/keys").json();
  EXPECT_EQ(listed.at("keys").as_array().size(), 2u);

  // A reload rebuilds the ring from the new config and keeps the stored keys in it.
  server_->reload(
      config("\n[[keys]]\nname = \"late\"\nkey = \"test-late-key-0123\"\nread = "
             "[\"*\"]\n"));
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (read_with("test-late-key-0123", "room:a") != 200u &&
         std::chrono::steady_clock::now() < deadline) {
  }
  EXPECT_EQ(read_with("test-late-key-0123", "room:a"), 200u);
  EXPECT_EQ(read_with(first, "room:a"), 200u);
  EXPECT_EQ(read_with(second, "room:a"), 200u);
}

TEST_F(Admin, RevokingRefusesTheNextRequestAndAnswersAParkedPoll) {
  auto made = create_key();
  const auto secret = str(made, "secret");
  request_swarm swarm(server_->port());
  const auto parked = park(swarm, secret);
  auto revoked = admin(bhttp::verb::delete_, "/v1/admin/keys/" + str(made, "id"));
  ASSERT_EQ(revoked.status, 200u) << revoked;
  const json::value gone = revoked.json();
  EXPECT_EQ(gone.at("revoked"), true);
  EXPECT_EQ(read_with(secret, "room:a"), 401u);
  ASSERT_TRUE(swarm.wait(parked, 30s));
  const auto answer = swarm.result(parked).reply;
  EXPECT_EQ(answer.status, 401u) << answer;
  EXPECT_EQ(answer.body, error_json("unauthorized", "credential revoked"));
  const json::value listed = admin(bhttp::verb::get, "/v1/admin/keys").json();
  EXPECT_EQ(listed.at("keys").as_array().size(), 0u);
  restart();
  EXPECT_EQ(read_with(secret, "room:a"), 401u) << "revoked for good";
}

TEST_F(Admin, RotatingRefusesTheOldSecretAndAnswersItsParkedPoll) {
  auto made = create_key();
  const auto old_secret = str(made, "secret");
  request_swarm swarm(server_->port());
  const auto parked = park(swarm, old_secret);
  auto rotated = admin(bhttp::verb::post, "/v1/admin/keys/" + str(made, "id") + "/rotate");
  ASSERT_EQ(rotated.status, 200u) << rotated;
  json::value rv = rotated.json();
  const auto new_secret = str(rv.as_object(), "secret");
  EXPECT_EQ(str(rv.as_object(), "id"), str(made, "id"));
  EXPECT_EQ(read_with(old_secret, "room:a"), 401u);
  EXPECT_EQ(read_with(new_secret, "room:a"), 200u);
  ASSERT_TRUE(swarm.wait(parked, 30s));
  EXPECT_EQ(swarm.result(parked).reply.status, 401u);
  // A poll parked with the new secret is not disturbed: it gets the next event.
  const auto fresh = park(swarm, new_secret);
  EXPECT_EQ(publish_with(new_secret, "room:a"), 200u);
  ASSERT_TRUE(swarm.wait(fresh, 30s));
  EXPECT_EQ(swarm.result(fresh).reply.status, 200u);
  restart();
  EXPECT_EQ(read_with(old_secret, "room:a"), 401u);
  EXPECT_EQ(read_with(new_secret, "room:a"), 200u);
}

// `eventfeed admin key ...`, the CLI over the same routes: one JSON line of the server's answer.
TEST_F(Admin, TheCliAddsListsRotatesAndRevokesKeys) {
  auto run = [&](std::vector<std::string> args, std::string_view key = admin_key) {
    args.insert(args.begin(), eventfeed_binary());
    args.insert(args.end(), {"--url", server_->url(), "--key", std::string(key)});
    child_process proc(args);
    auto status = proc.wait(20s);
    proc.wait_stdout_closed(5s);
    EXPECT_TRUE(status.exited) << status;
    return std::pair{status.code, proc.stdout_text() + proc.stderr_text()};
  };
  auto [added_code, added] = run({"admin", "key", "add", "--name", "cli", "--read", "room:*",
                                  "--publish", "room:a", "--publish", "room:b"});
  ASSERT_EQ(added_code, 0) << added;
  const json::value made = json::parse(added);
  const auto id = str(made.as_object(), "id");
  const auto secret = str(made.as_object(), "secret");
  EXPECT_EQ(publish_with(secret, "room:b"), 200u);

  auto [list_code, listed] = run({"admin", "key", "list"});
  EXPECT_EQ(list_code, 0) << listed;
  EXPECT_NE(listed.find(id), std::string::npos) << listed;
  EXPECT_EQ(listed.find(secret), std::string::npos) << listed;

  auto [rotate_code, rotated] = run({"admin", "key", "rotate", id});
  ASSERT_EQ(rotate_code, 0) << rotated;
  const json::value again = json::parse(rotated);
  EXPECT_EQ(read_with(secret, "room:a"), 401u);
  EXPECT_EQ(read_with(str(again.as_object(), "secret"), "room:a"), 200u);

  auto [refused_code, refused] = run({"admin", "key", "revoke", id}, publisher_key);
  EXPECT_EQ(refused_code, 1) << refused;
  EXPECT_NE(refused.find("forbidden"), std::string::npos) << refused;
  auto [revoke_code, revoked] = run({"admin", "key", "revoke", id});
  EXPECT_EQ(revoke_code, 0) << revoked;
  EXPECT_EQ(read_with(str(again.as_object(), "secret"), "room:a"), 401u);
  auto [usage_code, usage] = run({"admin", "key", "add", "--name", "nothing"});
  EXPECT_EQ(usage_code, 2) << usage;
}

}  // namespace
}  // namespace eventfeed::integration
