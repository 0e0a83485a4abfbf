#include "server/app.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "api/common/config_table.hpp"

namespace eventfeed::server {
namespace {

// A dialect whose installation fails, as one with a bad setting found late would.
class failing_dialect final : public api::common::dialect {
 public:
  std::string_view name() const noexcept override { return "failing"; }
  std::vector<std::string> sections() const override { return {}; }
  bool configure(const api::common::config_table&) override { return true; }
  void install(api::common::platform&) override { throw std::runtime_error("cannot install"); }
};

TEST(App, AConstructorThatThrowsLeavesNothingBehind) {
  auto registry = builtin_dialects();
  registry.factories.push_back([] { return std::make_unique<failing_dialect>(); });
  auto cfg = parse_config("[store]\nbackend = \"memory\"\n[server]\nlisten = \"127.0.0.1:0\"\n",
                          "t", registry);
  ASSERT_TRUE(cfg) << cfg.err().message;
  EXPECT_THROW(app a(std::move(*cfg)), std::runtime_error);
}

TEST(App, StartsOnAnyPortAndDefaultsThePublicUrlToIt) {
  auto cfg = parse_config(
      "[store]\nbackend = \"memory\"\n[server]\nlisten = \"127.0.0.1:0\"\n"
      "threads = 1\n",
      "t");
  ASSERT_TRUE(cfg) << cfg.err().message;
  app a(std::move(*cfg));
  a.start();
  EXPECT_NE(a.port(), 0);
  EXPECT_EQ(a.public_url(), "http://127.0.0.1:" + std::to_string(a.port()));
  a.stop();
}

}  // namespace
}  // namespace eventfeed::server
