#include "api/common/gateway.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "../handler_harness.hpp"
#include "api/common/routes.hpp"
#include "store/memory/memory_store.hpp"

namespace eventfeed::api::common {
namespace {

using namespace std::chrono_literals;
using testing::header;
namespace json = boost::json;

std::string body_of(const http::response& res) {
  return std::string(json::parse(res.body()).at("error").at("message").as_string());
}

TEST(ErrorTable, BaseRowsAndOverrides) {
  auto t = error_table::base();
  EXPECT_EQ(t[core::errc::bad_request].status, bhttp::status::bad_request);
  EXPECT_EQ(t[core::errc::invalid_stream].code, "invalid_stream");
  EXPECT_EQ(t[core::errc::payload_too_large].status, bhttp::status::payload_too_large);
  EXPECT_EQ(t[core::errc::unauthorized].status, bhttp::status::unauthorized);
  EXPECT_EQ(t[core::errc::forbidden].status, bhttp::status::forbidden);
  EXPECT_EQ(t[core::errc::not_found].status, bhttp::status::not_found);
  EXPECT_EQ(t[core::errc::rate_limited].status, bhttp::status::too_many_requests);
  EXPECT_EQ(t[core::errc::unavailable].status, bhttp::status::service_unavailable);
  EXPECT_EQ(t[core::errc::shutting_down].status, bhttp::status::service_unavailable);
  EXPECT_EQ(t[core::errc::internal].status, bhttp::status::internal_server_error);
  t[core::errc::not_found] = {bhttp::status::bad_request, "BAD_EVENT_QUEUE_ID", {}};
  EXPECT_EQ(t[core::errc::not_found].status, bhttp::status::bad_request);
  EXPECT_EQ(error_table::base()[core::errc::not_found].status, bhttp::status::not_found)
      << "overrides change a copy, not the base";
}

// A dialect made for this test: its own error shape under /t/, one route per credential form,
// each answering with the caller's name, and a poll that renders the number of events.
class Gateway : public ::testing::Test {
 protected:
  struct handlers {
    gateway bearer, basic, path;
    net::awaitable<void> who(http::request_context& ctx, const gateway& g) {
      auto c = g.admit(ctx);
      if (!c) co_return;
      co_return ctx.reply(http::json_response(bhttp::status::ok, c->who().name));
    }
    net::awaitable<void> by_bearer(http::request_context& ctx) { return who(ctx, bearer); }
    net::awaitable<void> by_basic(http::request_context& ctx) { return who(ctx, basic); }
    net::awaitable<void> by_path(http::request_context& ctx) { return who(ctx, path); }
    net::awaitable<void> poll(http::request_context& ctx) {
      feed::poll_request req;
      req.streams = {"s"};
      req.from = core::cursor::now();
      req.timeout = 10s;
      return bearer.poll(ctx, std::move(req), [](const feed::poll_result& r) {
        return http::json_response(bhttp::status::ok, std::to_string(r.events.size()));
      });
    }
  };

  Gateway() {
    auto ring = std::make_shared<key_ring>();
    core::principal bot;
    bot.name = "bot";
    ring->add("bot-secret", bot, "bot@example.com");
    core::principal app;
    app.name = "app";
    ring->add("app-token", app);
    keys_.replace(ring);
    routes_.set_error_renderer("/t/", [](const http::error_details& e) {
      return http::json_response(
          e.status, json::serialize(json::value{{"code", e.code}, {"msg", e.message}}));
    });
    auto errors = error_table::base();
    errors[core::errc::unauthorized].headers = {{"WWW-Authenticate", "Basic realm=\"t\""}};
    admission_policy bearer;
    admission_policy basic;
    basic.form = credential_form::basic;
    basic.wrong_scheme = {"basic only", error_shape{bhttp::status::bad_request, "BAD", {}}};
    basic.unknown = {"who?", error_shape{bhttp::status::unauthorized, "INVALID_KEY", {}}};
    basic.vet = [](const credential& c) -> std::optional<refusal> {
      if (c.secret.size() < 5) return refusal{"short key", {}};
      return std::nullopt;
    };
    admission_policy path;
    path.form = credential_form::path;
    auto h = std::make_shared<handlers>(handlers{gateway(feed_, keys_, errors, bearer),
                                                 gateway(feed_, keys_, errors, basic),
                                                 gateway(feed_, keys_, errors, path)});
    route_binder<handlers>(routes_, h)
        .get("/t/bearer", &handlers::by_bearer)
        .get("/t/basic", &handlers::by_basic)
        .get("/t/path/{username}/{token}", &handlers::by_path)
        .get("/t/poll", &handlers::poll);
  }

  static json::value body(const http::response& res) { return json::parse(res.body()); }

  core::manual_clock clock_;
  store::memory::memory_store store_{{}, &clock_};
  feed::engine feed_{store_, clock_, 4};
  key_directory keys_;
  http::router routes_;
  testing::handler_harness harness_{routes_};
};

TEST_F(Gateway, AdmitsEachFormAndNamesTheCaller) {
  EXPECT_EQ(
      harness_.call(bhttp::verb::get, "/t/bearer", {{"Authorization", "Bearer app-token"}}).body(),
      "app");
  // base64("bot@example.com:bot-secret")
  EXPECT_EQ(harness_
                .call(bhttp::verb::get, "/t/basic",
                      {{"Authorization", "Basic Ym90QGV4YW1wbGUuY29tOmJvdC1zZWNyZXQ="}})
                .body(),
            "bot");
  EXPECT_EQ(harness_.call(bhttp::verb::get, "/t/path/BOT%40example.com/bot-secret").body(), "bot");
}

TEST_F(Gateway, RefusalsTakeTheDialectsShapeAndHeaders) {
  auto missing = harness_.call(bhttp::verb::get, "/t/basic");
  EXPECT_EQ(missing.result(), bhttp::status::unauthorized);
  EXPECT_EQ(body(missing).at("code"), "unauthorized");
  EXPECT_EQ(body(missing).at("msg"), "missing credentials");
  EXPECT_EQ(header(missing, "WWW-Authenticate"), "Basic realm=\"t\"");

  auto scheme = harness_.call(bhttp::verb::get, "/t/basic", {{"Authorization", "Bearer x"}});
  EXPECT_EQ(scheme.result(), bhttp::status::bad_request);
  EXPECT_EQ(body(scheme).at("code"), "BAD");
  EXPECT_EQ(header(scheme, "WWW-Authenticate"), "") << "a shape of its own has its own headers";

  auto malformed = harness_.call(bhttp::verb::get, "/t/basic", {{"Authorization", "Basic %%"}});
  EXPECT_EQ(body(malformed).at("msg"), "malformed credentials");

  // base64("bot@example.com:abc"): vetted before the lookup
  auto short_key = harness_.call(bhttp::verb::get, "/t/basic",
                                 {{"Authorization", "Basic Ym90QGV4YW1wbGUuY29tOmFiYw=="}});
  EXPECT_EQ(body(short_key).at("msg"), "short key");

  // base64("eve@example.com:bot-secret"): a known secret under another login
  auto unknown = harness_.call(bhttp::verb::get, "/t/basic",
                               {{"Authorization", "Basic ZXZlQGV4YW1wbGUuY29tOmJvdC1zZWNyZXQ="}});
  EXPECT_EQ(unknown.result(), bhttp::status::unauthorized);
  EXPECT_EQ(body(unknown).at("code"), "INVALID_KEY");
  EXPECT_EQ(body(unknown).at("msg"), "who?");

  auto wrong_token = harness_.call(bhttp::verb::get, "/t/path/bot@example.com/nope");
  EXPECT_EQ(body(wrong_token).at("msg"), "unknown credentials");
}

TEST_F(Gateway, PollRendersTheOutcomeOrAnswersShutdownWithClose) {
  auto parked =
      harness_.start(bhttp::verb::get, "/t/poll", {{"Authorization", "Bearer app-token"}});
  EXPECT_EQ(feed_.waiters("s"), 1u);
  std::optional<core::result<std::vector<core::event_ptr>>> published;
  store_.append({{"s", "t", "{}"}}, [&](auto r) {
    feed_.waiter_hub().notify(*r);
    published.emplace(std::move(r));
  });
  ASSERT_TRUE(harness_.finish(parked));
  EXPECT_EQ(parked->answer->body(), "1");
  EXPECT_TRUE(parked->answer->keep_alive());

  auto second =
      harness_.start(bhttp::verb::get, "/t/poll", {{"Authorization", "Bearer app-token"}});
  feed_.shutdown();
  ASSERT_TRUE(harness_.finish(second));
  EXPECT_EQ(second->answer->body(), "0");
  EXPECT_FALSE(second->answer->keep_alive());
}

// A gateway with a budget of 2 requests a minute per credential, slots resolved with the ring.
class RateLimitedGateway : public ::testing::Test {
 protected:
  struct handlers {
    gateway g;
    net::awaitable<void> hello(http::request_context& ctx) {
      auto c = g.admit(ctx);
      if (!c) co_return;
      auto res = http::json_response(bhttp::status::ok, "\"hi\"");
      add_headers(res, rate_headers(*c->rate));
      co_return ctx.reply(std::move(res));
    }
  };

  RateLimitedGateway() {
    auto ring = std::make_shared<key_ring>();
    for (std::string name : {"a", "b"}) {
      core::principal p;
      p.name = name;
      ring->add("token-" + name, p, {}, &limiter_.slot("test:" + name));
    }
    keys_.replace(ring);
    admission_policy policy;
    policy.rate_limited.message = "slow down";
    auto h = std::make_shared<handlers>(
        handlers{gateway(feed_, keys_, error_table::base(), policy, &limiter_)});
    route_binder<handlers>(routes_, h).get("/hello", &handlers::hello);
  }

  http::response call(std::string_view who) {
    return harness_.call(bhttp::verb::get, "/hello",
                         {{"Authorization", "Bearer token-" + std::string(who)}});
  }

  core::manual_clock clock_{1'700'000'000'000};
  store::memory::memory_store store_{{}, &clock_};
  feed::engine feed_{store_, clock_, 4};
  feed::rate_limiter limiter_{clock_, feed::rate_limit{2, std::chrono::minutes(1)}};
  key_directory keys_;
  http::router routes_;
  testing::handler_harness harness_{routes_};
};

TEST_F(RateLimitedGateway, ABudgetPerCredentialWithHeadersAndRetryAfter) {
  auto first = call("a");
  EXPECT_EQ(first.result(), bhttp::status::ok);
  EXPECT_EQ(header(first, "X-RateLimit-Limit"), "2");
  EXPECT_EQ(header(first, "X-RateLimit-Remaining"), "1");
  EXPECT_EQ(header(first, "X-RateLimit-Reset"), "1700000060");
  EXPECT_EQ(header(first, "Retry-After"), "");
  clock_.advance(std::chrono::seconds(20));
  EXPECT_EQ(header(call("a"), "X-RateLimit-Remaining"), "0");
  auto refused = call("a");
  EXPECT_EQ(refused.result(), bhttp::status::too_many_requests);
  EXPECT_EQ(body_of(refused), "slow down");
  EXPECT_EQ(header(refused, "Retry-After"), "40");
  EXPECT_EQ(header(refused, "X-RateLimit-Remaining"), "0");
  EXPECT_EQ(header(refused, "X-RateLimit-Reset"), "1700000060");
  EXPECT_EQ(call("b").result(), bhttp::status::ok) << "another credential has its own budget";
  clock_.advance(std::chrono::seconds(40));
  auto refilled = call("a");
  EXPECT_EQ(refilled.result(), bhttp::status::ok) << "a new window opens";
  EXPECT_EQ(header(refilled, "X-RateLimit-Remaining"), "1");
  EXPECT_EQ(header(refilled, "X-RateLimit-Reset"), "1700000120");
}

TEST_F(RateLimitedGateway, UnknownCredentialsSpendNoBudget) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(call("nobody").result(), bhttp::status::unauthorized);
  EXPECT_EQ(limiter_.keys(), 2u) << "only configured credentials have slots";
  EXPECT_EQ(call("a").result(), bhttp::status::ok);
}

}  // namespace
}  // namespace eventfeed::api::common
