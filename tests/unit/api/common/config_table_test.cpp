#include "api/common/config_table.hpp"

#include <gtest/gtest.h>

namespace eventfeed::api::common {
namespace {

using namespace std::chrono_literals;

// Runs `read` on the root of `toml`; returns the error message ("" when it succeeded).
template <class Read>
std::string read_config(const std::string& toml, Read read) {
  toml::table doc = toml::parse(toml);
  config_errors errors("test.toml");
  const bool ok = read(config_table(doc, "", errors));
  EXPECT_EQ(ok, !errors.failed()) << errors.message();
  return errors.message();
}

TEST(ConfigTable, RateLimitsReadBothKeysAndKeepDefaults) {
  feed::rate_limit rate{1000, 60s};
  EXPECT_EQ(read_config("", [&](const config_table& t) { return t.rate_limit(rate); }), "");
  EXPECT_EQ(rate.budget, 1000u);
  EXPECT_EQ(rate.window, 60s);
  EXPECT_EQ(read_config("rate_limit_per_minute = 0\nrate_limit_window = 1.5",
                        [&](const config_table& t) { return t.rate_limit(rate); }),
            "");
  EXPECT_EQ(rate.budget, 0u);
  EXPECT_EQ(rate.window, 1500ms);
  EXPECT_EQ(read_config("rate_limit_per_minute = 16777216",
                        [&](const config_table& t) { return t.rate_limit(rate); }),
            "test.toml: rate_limit_per_minute: must be between 0 and 16777215");
  EXPECT_EQ(read_config("rate_limit_window = 0",
                        [&](const config_table& t) { return t.rate_limit(rate); }),
            "test.toml: rate_limit_window: must be between 1 and 86400 seconds");
}

TEST(ConfigTable, StreamsAreRequiredAndChecked) {
  std::string stream;
  auto read = [&](const config_table& t) { return t.stream("stream", "the user's", stream); };
  EXPECT_EQ(read_config("stream = \"box:user:1\"", read), "");
  EXPECT_EQ(stream, "box:user:1");
  stream.clear();
  EXPECT_EQ(read_config("", read), "test.toml: stream: is required (the user's)");
  EXPECT_NE(read_config("stream = \"no spaces\"", read), "");
  EXPECT_EQ(read_config("stream = 5", read), "test.toml: stream: must be a string");
}

TEST(ConfigTable, ParseTablesStopsAtTheFirstProblem) {
  std::vector<std::string> names;
  auto read = [&](const config_table& t) {
    return t.parse_tables("item", names, [](const config_table& e, std::string& name) {
      return e.get("name", name) && (!name.empty() || e.fail("name", "is required"));
    });
  };
  EXPECT_EQ(read_config("[[item]]\nname = \"a\"\n[[item]]\nname = \"b\"\n", read), "");
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
  names.clear();
  EXPECT_EQ(read_config("[[item]]\nname = \"a\"\n[[item]]\n[[item]]\nname = \"c\"\n", read),
            "test.toml: item[1].name: is required");
  EXPECT_EQ(names, (std::vector<std::string>{"a"}));
  EXPECT_EQ(read_config("item = 3", read),
            "test.toml: item: must be an array of tables ([[item]])");
}

}  // namespace
}  // namespace eventfeed::api::common
