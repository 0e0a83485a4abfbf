#include "http/router.hpp"

#include <gtest/gtest.h>

#include "http/request_context.hpp"

namespace eventfeed::http {
namespace {

handler dummy() {
  return [](request_context& ctx) -> net::awaitable<void> { co_return ctx.reply(response{}); };
}

TEST(Router, MatchesLiteralsAndDecodesCaptures) {
  router r;
  r.add(bhttp::verb::get, "/v1/streams/{stream}/events", dummy());
  r.add(bhttp::verb::get, "/v1/streams/{stream}", dummy());
  auto m = r.find(bhttp::verb::get, "/v1/streams/%7Bacme%7Duser%3A1/events");
  ASSERT_NE(m.h, nullptr);
  ASSERT_NE(m.params.find("stream"), nullptr);
  EXPECT_EQ(*m.params.find("stream"), "{acme}user:1");
  auto info = r.find(bhttp::verb::get, "/v1/streams/room:a");
  ASSERT_NE(info.h, nullptr);
  EXPECT_EQ(*info.params.find("stream"), "room:a");
}

TEST(Router, TrailingSlashMatchesTheSamePath) {
  router r;
  r.add(bhttp::verb::get, "/healthz", dummy());
  EXPECT_NE(r.find(bhttp::verb::get, "/healthz/").h, nullptr);
}

TEST(Router, ReportsAKnownPathWithAnotherMethod) {
  router r;
  r.add(bhttp::verb::post, "/v1/events", dummy());
  auto m = r.find(bhttp::verb::get, "/v1/events");
  EXPECT_EQ(m.h, nullptr);
  EXPECT_TRUE(m.path_known);
  auto none = r.find(bhttp::verb::get, "/nope");
  EXPECT_EQ(none.h, nullptr);
  EXPECT_FALSE(none.path_known);
}

TEST(Router, RejectsEmptyOrMalformedCaptures) {
  router r;
  r.add(bhttp::verb::get, "/v1/streams/{stream}", dummy());
  EXPECT_EQ(r.find(bhttp::verb::get, "/v1/streams/").h, nullptr);
  EXPECT_EQ(r.find(bhttp::verb::get, "/v1/streams/%zz").h, nullptr);
}

TEST(Router, KeepsOnlyTheCapturesOfTheRouteWithTheMethod) {
  router r;
  r.add(bhttp::verb::post, "/v1/streams/{stream}/events", dummy());
  r.add(bhttp::verb::get, "/v1/streams/{name}/events", dummy());
  auto m = r.find(bhttp::verb::get, "/v1/streams/a%2Fb/events");
  ASSERT_NE(m.h, nullptr);
  EXPECT_EQ(m.params.find("stream"), nullptr);
  ASSERT_NE(m.params.find("name"), nullptr);
  EXPECT_EQ(*m.params.find("name"), "a/b");
}

TEST(Router, APathDeeperThanAnyRouteIsUnknown) {
  router r;
  r.add(bhttp::verb::get, "/a/{x}", dummy());
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "/a";
  auto m = r.find(bhttp::verb::get, deep);
  EXPECT_EQ(m.h, nullptr);
  EXPECT_FALSE(m.path_known);
  EXPECT_THROW(r.add(bhttp::verb::get, deep, dummy()), std::invalid_argument);
}

TEST(Router, RendersErrorsInTheShapeOfTheLongestPrefix) {
  router r;
  r.set_error_renderer("/api/", [](const error_details& e) {
    return json_response(
        e.status, std::string(R"({"result":"error","code":")") + std::string(e.code) + "\"}");
  });
  auto zulip = r.render_error("/api/v1/events", {bhttp::status::bad_request, "BAD", "m", "", {}});
  EXPECT_EQ(zulip.body(), R"({"result":"error","code":"BAD"})");
  auto native = r.render_error("/v1/x", {bhttp::status::not_found, "not_found", "no such", "", {}});
  EXPECT_EQ(native.result(), bhttp::status::not_found);
  EXPECT_EQ(native.body(), R"({"error":{"code":"not_found","message":"no such"}})");
  EXPECT_EQ(native[bhttp::field::content_type], "application/json");
}

}  // namespace
}  // namespace eventfeed::http
