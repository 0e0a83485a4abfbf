#include "server/config.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>

#include "../api/handler_harness.hpp"
#include "api/chaturbate/chaturbate_dialect.hpp"
#include "api/common/config_table.hpp"
#include "api/native/native_dialect.hpp"
#include "api/zulip/zulip_dialect.hpp"
#include "store/memory/memory_store.hpp"

namespace eventfeed::server {
namespace {

using namespace std::chrono_literals;
namespace net = boost::asio;

// A dialect that exists only for these tests, registered the way real ones are: it owns
// `[echo]` (with an array of tables `[[echo.rooms]]`) and installs one route per room.
class echo_dialect final : public api::common::dialect {
 public:
  struct room {
    std::string name;
    std::string token;
    std::vector<std::string> tags;
  };

  std::string_view name() const noexcept override { return "echo"; }
  std::vector<std::string> sections() const override { return {"echo"}; }
  bool configure(const api::common::config_table& root) override {
    auto t = root.table("echo");
    if (!t) return !root.has("echo");
    if (!t->only({"greeting", "hold", "rooms"}) || !t->get("greeting", greeting) ||
        !t->seconds("hold", 0, 90, hold))
      return false;
    std::vector<api::common::config_table> entries;
    if (!t->tables("rooms", entries)) return false;
    for (const auto& e : entries) {
      room r;
      if (!e.only({"name", "token", "token_env", "tags"}) || !e.get("name", r.name) ||
          !e.secret("token", "token_env", r.token) || !e.strings("tags", r.tags))
        return false;
      if (r.name.empty()) return e.fail("name", "is required");
      rooms.push_back(std::move(r));
    }
    return true;
  }
  void install(api::common::platform& p) override {
    for (const auto& r : rooms) {
      p.routes.add(http::bhttp::verb::get, "/echo/" + r.name,
                   [this, &p](http::request_context& ctx) -> net::awaitable<void> {
                     co_return ctx.reply(http::json_response(
                         http::bhttp::status::ok, "\"" + greeting + " " + p.public_url + "\""));
                   });
    }
  }

  std::string greeting = "hello";
  std::chrono::milliseconds hold{10'000};
  std::vector<room> rooms;
};

dialect_registry with_echo() {
  auto r = builtin_dialects();
  r.factories.push_back([] { return std::make_unique<echo_dialect>(); });
  return r;
}

const echo_dialect& echo_of(const config& cfg) {
  return dynamic_cast<const echo_dialect&>(*cfg.dialects.back());
}

std::string error_of(std::string_view toml, const dialect_registry& r = with_echo()) {
  auto c = parse_config(toml, "test.toml", r);
  return c ? std::string("(parsed)") : c.err().message;
}

TEST(Config, ADialectParsesItsOwnSectionAndArraysOfTables) {
  setenv("EVENTFEED_TEST_ROOM_TOKEN", "from-the-env", 1);
  auto cfg = parse_config(R"(
[echo]
greeting = "hi"
hold = 2.5
[[echo.rooms]]
name = "a"
token = "t1"
tags = ["x", "y"]
[[echo.rooms]]
name = "b"
token_env = "EVENTFEED_TEST_ROOM_TOKEN"
)",
                          "test.toml", with_echo());
  ASSERT_TRUE(cfg) << cfg.err().message;
  ASSERT_EQ(cfg->dialects.size(), builtin_dialects().factories.size() + 1);
  EXPECT_EQ(cfg->dialects[0]->name(), "native");
  const auto& echo = echo_of(*cfg);
  EXPECT_EQ(echo.greeting, "hi");
  EXPECT_EQ(echo.hold, 2500ms);
  ASSERT_EQ(echo.rooms.size(), 2u);
  EXPECT_EQ(echo.rooms[0].tags, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(echo.rooms[1].token, "from-the-env");
}

TEST(Config, UnknownKeysStopStartUpWithTheirFullPath) {
  EXPECT_EQ(error_of("[echo]\ncolour = 1\n"), "test.toml: echo.colour: unknown key");
  EXPECT_EQ(error_of("[[echo.rooms]]\nname = \"a\"\n[[echo.rooms]]\nname = \"b\"\nsize = 2\n"),
            "test.toml: echo.rooms[1].size: unknown key");
  EXPECT_EQ(error_of("[nonesuch]\n"), "test.toml: nonesuch: unknown key")
      << "a section no registered dialect owns";
  EXPECT_EQ(error_of("[echo]\n", builtin_dialects()), "test.toml: echo: unknown key")
      << "the same section without the dialect registered";
  EXPECT_EQ(error_of("[server]\nthreads = 1000\n"),
            "test.toml: server.threads: must be between 0 and 256");
}

TEST(Config, TypesRangesAndSecretsAreChecked) {
  EXPECT_EQ(error_of("[echo]\nhold = 91\n"),
            "test.toml: echo.hold: must be between 0 and 90 seconds");
  EXPECT_EQ(error_of("[echo]\ngreeting = 3\n"), "test.toml: echo.greeting: must be a string");
  EXPECT_EQ(error_of("echo = 3\n"), "test.toml: echo: must be a table");
  EXPECT_EQ(error_of("[echo]\nrooms = 3\n"),
            "test.toml: echo.rooms: must be an array of tables ([[echo.rooms]])");
  EXPECT_EQ(error_of("[[echo.rooms]]\ntoken = \"t\"\n"),
            "test.toml: echo.rooms[0].name: is required");
  EXPECT_EQ(error_of("[[echo.rooms]]\nname = \"a\"\ntoken = \"t\"\ntoken_env = \"X\"\n"),
            "test.toml: echo.rooms[0]: set either 'token' or 'token_env', not both");
  unsetenv("EVENTFEED_TEST_UNSET");
  EXPECT_EQ(error_of("[[echo.rooms]]\nname = \"a\"\ntoken_env = \"EVENTFEED_TEST_UNSET\"\n"),
            "test.toml: echo.rooms[0].token_env: environment variable EVENTFEED_TEST_UNSET is "
            "not set");
  EXPECT_EQ(error_of("[[echo.rooms]]\nname = \"a\"\ntags = [\"\"]\n"),
            "test.toml: echo.rooms[0].tags: must be an array of non-empty strings");
}

TEST(Config, TheNativeDialectOwnsItsSectionsAndKeys) {
  auto cfg = parse_config(R"(
[native]
max_limit = 10
[[keys]]
key = "a-long-enough-key"
read = ["room:*"]
)",
                          "test.toml");
  ASSERT_TRUE(cfg) << cfg.err().message;
  const auto& native = dynamic_cast<const api::native::native_dialect&>(*cfg->dialects.front());
  EXPECT_EQ(native.limits().max_limit, 10u);
  ASSERT_EQ(native.keys().size(), 1u);
  EXPECT_EQ(native.keys()[0].name, "key0");
  EXPECT_EQ(error_of("[[keys]]\nkey = \"short\"\nread = [\"*\"]\n"),
            "test.toml: keys[0].key: must be at least 8 characters");
  EXPECT_EQ(error_of("[[keys]]\nkey = \"long-enough\"\n"),
            "test.toml: keys[0]: grants nothing: give it 'publish' and/or 'read' stream patterns");
}

TEST(Config, TheDemoConfigLoadsWithEveryDialect) {
  auto cfg = load_config(std::filesystem::path(EVENTFEED_EXAMPLES_DIR) / "demo.toml");
  ASSERT_TRUE(cfg) << cfg.err().message;
  const api::zulip::zulip_dialect* zulip = nullptr;
  const api::chaturbate::chaturbate_dialect* chaturbate = nullptr;
  for (const auto& d : cfg->dialects) {
    if (!zulip) zulip = dynamic_cast<const api::zulip::zulip_dialect*>(d.get());
    if (!chaturbate) chaturbate = dynamic_cast<const api::chaturbate::chaturbate_dialect*>(d.get());
  }
  ASSERT_TRUE(zulip && chaturbate);
  EXPECT_EQ(zulip->users().size(), 2u);
  EXPECT_EQ(zulip->options().public_stream, "{demo}public");
  EXPECT_EQ(chaturbate->rooms().size(), 1u);
}

TEST(Config, PublicUrlIsCheckedAndDefaultsToTheListenAddress) {
  auto cfg = parse_config("[server]\npublic_url = \"https://events.example.com/\"\n", "t");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->public_url, "https://events.example.com");
  EXPECT_EQ(parse_config("", "t")->public_url, "") << "resolved once the port is bound";
  EXPECT_EQ(*parse_public_url("http://127.0.0.1:8080/base//"), "http://127.0.0.1:8080/base");
  for (const char* bad : {"events.example.com", "ftp://x", "https://", "https:///path",
                          "https://x/?a=1", "https://x/#f", "https://x y"}) {
    EXPECT_FALSE(parse_public_url(bad)) << bad;
  }
  EXPECT_EQ(error_of("[server]\npublic_url = \"x\"\n").rfind("test.toml: server.public_url: ", 0),
            0u);
  EXPECT_EQ(default_public_url("127.0.0.1", 8080), "http://127.0.0.1:8080");
  EXPECT_EQ(default_public_url("::1", 9), "http://[::1]:9");
}

TEST(Config, AnInstalledDialectServesItsRoutesWithThePublicUrl) {
  auto cfg = parse_config("[[echo.rooms]]\nname = \"lobby\"\n", "t", with_echo());
  ASSERT_TRUE(cfg) << cfg.err().message;
  core::manual_clock clock;
  store::memory::memory_store store({}, &clock);
  feed::engine engine(store, clock);
  http::router routes;
  boost::asio::io_context io;
  feed::task_group tasks(io.get_executor());
  api::common::platform p{routes, engine, clock, tasks, {}};
  for (const auto& d : cfg->dialects) d->install(p);
  p.public_url = "https://events.example.com";  // set after install, before serving
  api::testing::handler_harness harness(routes);
  EXPECT_EQ(harness.call(http::bhttp::verb::get, "/echo/lobby").body(),
            "\"hello https://events.example.com\"");
  EXPECT_EQ(harness.call(http::bhttp::verb::get, "/echo/other").result(),
            http::bhttp::status::not_found);
  tasks.stop(0ms);
}

}  // namespace
}  // namespace eventfeed::server
