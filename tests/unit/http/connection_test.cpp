#include "http/connection.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>

namespace eventfeed::http {
namespace {

namespace test = boost::beast::test;

// Drives serve_connection over an in-memory stream: no sockets, no threads, no timeouts.
class ConnectionTest : public ::testing::Test {
 protected:
  ConnectionTest() {
    routes_.add(
        bhttp::verb::get, "/hello/{name}", [](request_context& ctx) -> net::awaitable<void> {
          co_return ctx.reply(
              json_response(bhttp::status::ok, R"({"hello":")" + ctx.param("name") + R"("})"));
        });
    routes_.add(bhttp::verb::post, "/echo", [](request_context& ctx) -> net::awaitable<void> {
      co_return ctx.reply(json_response(bhttp::status::ok, ctx.req().body()));
    });
    // A handler that parks until the client goes away (or a long timer fires).
    routes_.add(bhttp::verb::get, "/park", [this](request_context& ctx) -> net::awaitable<void> {
      auto wait = [this]() -> net::awaitable<int> {
        net::steady_timer t(ioc_, std::chrono::hours(1));
        // Like the hub's wait, a cancelled wait answers with a value.
        auto [ec] = co_await t.async_wait(net::as_tuple(net::use_awaitable));
        co_return ec ? 0 : 1;
      };
      parked_ = true;
      auto r = co_await ctx.until_disconnect(wait());
      saw_disconnect_ = !r.has_value();
      co_return ctx.reply(json_response(bhttp::status::ok, "{}"));
    });
    // The same through an on_gone hook, as the native poll does: no session cancellation.
    routes_.add(bhttp::verb::get, "/park-hook",
                [this](request_context& ctx) -> net::awaitable<void> {
                  net::steady_timer t(ioc_, std::chrono::hours(1));
                  ctx.begin_watch([&t] { t.cancel(); });
                  parked_timer_ = &t;
                  parked_ = true;
                  auto [ec] = co_await t.async_wait(net::as_tuple(net::use_awaitable));
                  saw_disconnect_ = co_await ctx.end_watch();
                  co_return ctx.reply(
                      json_response(bhttp::status::ok, ec ? R"({"cancelled":true})" : "{}"));
                });
    // A handler of an API with its own error shape that fails after releasing its request.
    routes_.set_error_renderer("/dialect/", [](const error_details& e) {
      return json_response(e.status,
                           R"({"result":"error","code":")" + std::string(e.code) + R"("})");
    });
    routes_.add(bhttp::verb::get, "/dialect/fails",
                [](request_context& ctx) -> net::awaitable<void> {
                  ctx.release_request();
                  throw std::runtime_error("boom");
                  co_return;
                });
    // A handler that starts watching its connection, then throws before ending the watch.
    routes_.add(bhttp::verb::get, "/watch-then-throw",
                [](request_context& ctx) -> net::awaitable<void> {
                  ctx.begin_watch([] {});
                  throw std::runtime_error("failed while watching");
                  co_return;
                });
    // A handler that forgets to answer.
    routes_.add(bhttp::verb::get, "/silent",
                [](request_context&) -> net::awaitable<void> { co_return; });
    options_.max_header_bytes = 1024;
    options_.max_body_bytes = 64;
  }

  // Runs one connection over `input` (closed after it) and returns everything written back.
  std::string exchange(std::string input) {
    test::stream server(ioc_), client(ioc_);
    server.connect(client);
    client.write_some(net::buffer(input));
    client.close();  // the peer sends nothing more: EOF after the input
    bool done = false;
    spawn_session(
        ioc_.get_executor(),
        [&](auto signal) { return serve_connection(server, shared_, std::move(signal)); },
        [&](std::exception_ptr e) {
          done = true;
          if (e) std::rethrow_exception(e);
        });
    ioc_.run();
    ioc_.restart();
    EXPECT_TRUE(done);
    return std::string(client.str());
  }

  // Starts a session (without a session signal, as the server runs them) whose first request
  // parks in /park-hook, and runs until it is parked.
  template <class ServerStream>
  void park_on_hook(ServerStream& server, test::stream& client, bool& done) {
    server.connect(client);
    std::string req = "GET /park-hook HTTP/1.1\r\nHost: x\r\n\r\n";
    client.write_some(net::buffer(req));
    net::co_spawn(ioc_, serve_connection(server, shared_),
                  [&done](std::exception_ptr) { done = true; });
    while (!parked_) ioc_.run_one();
    ioc_.poll();
    EXPECT_FALSE(done);
  }

  net::io_context ioc_;
  router routes_;
  server_options options_;
  connection_shared shared_{options_, routes_};
  bool parked_ = false;
  bool saw_disconnect_ = false;
  net::steady_timer* parked_timer_ = nullptr;  // the /park-hook handler's wait
};

TEST_F(ConnectionTest, AnswersARoutedRequestWithARequestId) {
  auto out = exchange("GET /hello/w%6Frld HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(out.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("X-Request-Id: "), std::string::npos);
  EXPECT_NE(out.find(R"({"hello":"world"})"), std::string::npos);
  EXPECT_EQ(shared_.connections.load(), 0u);
  EXPECT_EQ(shared_.in_flight.load(), 0u);
}

TEST_F(ConnectionTest, AHandlerThatGivesNoAnswerIsAnswered500AndTheConnectionGoesOn) {
  auto out = exchange(
      "GET /silent HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /hello/after HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(out.find("HTTP/1.1 500 "), std::string::npos) << out;
  EXPECT_NE(out.find(R"("code":"internal")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"({"hello":"after"})"), std::string::npos) << out;
}

TEST_F(ConnectionTest, AHandlerThatThrowsAfterReleasingItsRequestAnswersInItsApisShape) {
  auto out = exchange("GET /dialect/fails HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(out.find("HTTP/1.1 500 "), std::string::npos) << out;
  EXPECT_NE(out.find(R"({"result":"error","code":"internal"})"), std::string::npos) << out;
}

TEST_F(ConnectionTest, ServesPipelinedKeepAliveRequestsInOrder) {
  auto out = exchange(
      "GET /hello/a HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{\"b\":1}"
      "GET /hello/c HTTP/1.1\r\nHost: x\r\n\r\n");
  auto a = out.find(R"({"hello":"a"})");
  auto b = out.find(R"({"b":1})");
  auto c = out.find(R"({"hello":"c"})");
  ASSERT_NE(a, std::string::npos) << out;
  ASSERT_NE(b, std::string::npos) << out;
  ASSERT_NE(c, std::string::npos) << out;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
}

TEST_F(ConnectionTest, ConnectionCloseEndsAfterOneResponse) {
  auto out = exchange(
      "GET /hello/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
      "GET /hello/b HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(out.find("Connection: close"), std::string::npos) << out;
  EXPECT_EQ(out.find(R"({"hello":"b"})"), std::string::npos);
}

TEST_F(ConnectionTest, OversizedHeadersGet431WithAJsonBody) {
  auto out =
      exchange("GET /hello/a HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n");
  EXPECT_NE(out.find("HTTP/1.1 431 "), std::string::npos) << out;
  EXPECT_NE(out.find(R"("code":"headers_too_large")"), std::string::npos);
  EXPECT_NE(out.find("Connection: close"), std::string::npos);
}

TEST_F(ConnectionTest, OversizedBodyGets413BeforeTheHandlerRuns) {
  auto out = exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 65\r\n\r\n" +
                      std::string(65, 'x'));
  EXPECT_NE(out.find("HTTP/1.1 413 "), std::string::npos) << out;
  EXPECT_NE(out.find(R"("code":"payload_too_large")"), std::string::npos);
}

TEST_F(ConnectionTest, MalformedHttpGets400) {
  auto out = exchange("GARBAGE\r\n\r\n");
  EXPECT_NE(out.find("HTTP/1.1 400 "), std::string::npos) << out;
  EXPECT_NE(out.find(R"("code":"malformed_http")"), std::string::npos);
}

TEST_F(ConnectionTest, UnknownPathIs404AndWrongMethodIs405) {
  auto out = exchange(
      "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
      "DELETE /echo HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(out.find("HTTP/1.1 404 "), std::string::npos) << out;
  EXPECT_NE(out.find("HTTP/1.1 405 "), std::string::npos) << out;
}

TEST_F(ConnectionTest, APeerThatLeavesWhileParkedCancelsTheHandlersWork) {
  test::stream server(ioc_), client(ioc_);
  server.connect(client);
  std::string req = "GET /park HTTP/1.1\r\nHost: x\r\n\r\n";
  client.write_some(net::buffer(req));
  bool done = false;
  spawn_session(
      ioc_.get_executor(),
      [&](auto signal) { return serve_connection(server, shared_, std::move(signal)); },
      [&](std::exception_ptr) { done = true; });
  // Run until the handler is parked, then the client goes away.
  while (!parked_) ioc_.run_one();
  ioc_.poll();
  EXPECT_FALSE(done);
  client.close();
  ioc_.run();
  EXPECT_TRUE(done);
  EXPECT_TRUE(saw_disconnect_);
  EXPECT_EQ(shared_.in_flight.load(), 0u);
}

struct ParkedHook {
  test::stream server, client;
  bool done = false;
};

TEST_F(ConnectionTest, APeerThatLeavesWhileParkedCallsTheHandlersHookWithoutASessionSignal) {
  ParkedHook c{test::stream(ioc_), test::stream(ioc_)};
  park_on_hook(c.server, c.client, c.done);
  c.client.close();
  ioc_.run();
  EXPECT_TRUE(c.done);
  EXPECT_TRUE(saw_disconnect_);
  EXPECT_EQ(shared_.in_flight.load(), 0u);
}

TEST_F(ConnectionTest, APipelinedRequestEndsTheHookWatchAndIsServedNext) {
  ParkedHook c{test::stream(ioc_), test::stream(ioc_)};
  park_on_hook(c.server, c.client, c.done);
  // The next request arrives while the first is parked: the watch takes its first byte and
  // must hand it back; the peer is not gone, so the hook is not called.
  std::string next = "GET /hello/b HTTP/1.1\r\nHost: x\r\n\r\n";
  c.client.write_some(net::buffer(next));
  ioc_.poll();
  EXPECT_FALSE(c.done);
  parked_timer_->cancel();  // the parked request is answered (as by a publish)
  ioc_.poll();
  EXPECT_FALSE(saw_disconnect_);
  c.client.close();
  ioc_.run();
  EXPECT_TRUE(c.done);
  const std::string out(c.client.str());
  EXPECT_NE(out.find(R"({"cancelled":true})"), std::string::npos) << out;
  EXPECT_NE(out.find(R"({"hello":"b"})"), std::string::npos) << out;
}

TEST_F(ConnectionTest, FailingAtEveryStepNeverCrashesOrLeaks) {
  // Fail the n-th stream operation, for every n until an exchange completes untouched.
  const std::string input =
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
      "GET /hello/a HTTP/1.1\r\nHost: x\r\n\r\n";
  for (std::size_t n = 0; n < 100; ++n) {
    test::fail_count fc(n);
    test::stream server(ioc_, fc), client(ioc_);
    server.connect(client);
    client.write_some(net::buffer(input));
    client.close();
    bool done = false;
    spawn_session(
        ioc_.get_executor(),
        [&](auto signal) { return serve_connection(server, shared_, std::move(signal)); },
        [&](std::exception_ptr e) {
          done = true;
          EXPECT_FALSE(e);
        });
    ioc_.run();
    ioc_.restart();
    ASSERT_TRUE(done) << "step " << n;
    EXPECT_EQ(shared_.connections.load(), 0u);
    EXPECT_EQ(shared_.in_flight.load(), 0u);
    if (client.str().find(R"({"hello":"a"})") != std::string::npos) return;  // got through
  }
  FAIL() << "the exchange never completed";
}

// A test stream that can defer work the way timed_socket does, run by the test instead of a
// sweep: the connection then starts its disconnect watch only when the deferral runs.
class deferring_stream {
 public:
  using executor_type = test::stream::executor_type;
  explicit deferring_stream(net::io_context& ioc) : inner_(ioc) {}
  executor_type get_executor() noexcept { return inner_.get_executor(); }
  void connect(test::stream& peer) { inner_.connect(peer); }
  template <class Buffers, class Token>
  auto async_read_some(const Buffers& b, Token&& t) {
    ++reads_started;
    return inner_.async_read_some(b, std::forward<Token>(t));
  }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& b, Token&& t) {
    return inner_.async_write_some(b, std::forward<Token>(t));
  }
  void defer(std::chrono::steady_clock::time_point, void (*fn)(void*), void* arg) noexcept {
    fn_ = fn;
    arg_ = arg;
  }
  void cancel_defer() noexcept { fn_ = nullptr; }
  bool deferred() const noexcept { return fn_ != nullptr; }
  void run_deferred() { std::exchange(fn_, nullptr)(arg_); }

  int reads_started = 0;

 private:
  test::stream inner_;
  void (*fn_)(void*) = nullptr;
  void* arg_ = nullptr;
};

TEST_F(ConnectionTest, OnADeferringStreamTheWatchStartsOnlyWhenTheDeferralRuns) {
  deferring_stream server(ioc_);
  test::stream client(ioc_);
  bool done = false;
  park_on_hook(server, client, done);
  const int reads = server.reads_started;
  ASSERT_TRUE(server.deferred()) << "a parked poll should defer its watch";
  client.close();
  ioc_.poll();
  EXPECT_FALSE(done) << "nothing reads the socket before the deferral runs";
  EXPECT_EQ(server.reads_started, reads);
  server.run_deferred();  // as the sweep does once the poll has waited watch_delay
  EXPECT_EQ(server.reads_started, reads + 1) << "the deferral starts the watch's read";
  ioc_.run();
  EXPECT_TRUE(done);
  EXPECT_TRUE(saw_disconnect_);
  EXPECT_EQ(shared_.in_flight.load(), 0u);
}

TEST_F(ConnectionTest, APollAnsweredBeforeTheDeferralCancelsItAndCostsNoWatchRead) {
  deferring_stream server(ioc_);
  test::stream client(ioc_);
  bool done = false;
  park_on_hook(server, client, done);
  const int reads = server.reads_started;
  ASSERT_TRUE(server.deferred());
  parked_timer_->cancel();  // answered, as by a publish
  ioc_.poll();
  EXPECT_FALSE(server.deferred()) << "the answered poll left its deferral behind";
  EXPECT_FALSE(saw_disconnect_);
  // The next request is read by the request loop itself, not by a watch.
  std::string next = "GET /hello/b HTTP/1.1\r\nHost: x\r\n\r\n";
  client.write_some(net::buffer(next));
  client.close();
  ioc_.run();
  EXPECT_TRUE(done);
  EXPECT_GT(server.reads_started, reads);
  const std::string out(client.str());
  EXPECT_NE(out.find(R"({"cancelled":true})"), std::string::npos) << out;
  EXPECT_NE(out.find(R"({"hello":"b"})"), std::string::npos) << out;
}

// (A deferring stream: beast::test::stream does not cancel a pending read, so the watch of
// this test must be one that has not started yet.)
TEST_F(ConnectionTest, AWatchLeftOnByAHandlerThatThrewIsEndedBeforeTheNextRequestIsRead) {
  deferring_stream server(ioc_);
  test::stream client(ioc_);
  server.connect(client);
  std::string first = "GET /watch-then-throw HTTP/1.1\r\nHost: x\r\n\r\n";
  client.write_some(net::buffer(first));
  bool done = false;
  net::co_spawn(ioc_, serve_connection(server, shared_),
                [&done](std::exception_ptr) { done = true; });
  ioc_.poll();  // the handler throws and the 500 goes out; the loop waits for the next request
  EXPECT_FALSE(done);
  EXPECT_FALSE(server.deferred()) << "the thrown handler's watch is still set to start";
  std::string next = "GET /hello/b HTTP/1.1\r\nHost: x\r\n\r\n";
  client.write_some(net::buffer(next));
  client.close();
  ioc_.run();
  EXPECT_TRUE(done);
  const std::string out(client.str());
  EXPECT_NE(out.find("HTTP/1.1 500 "), std::string::npos) << out;
  EXPECT_NE(out.find(R"({"hello":"b"})"), std::string::npos) << out;
}

}  // namespace
}  // namespace eventfeed::http
