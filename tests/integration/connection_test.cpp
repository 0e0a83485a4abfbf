// HTTP/1.1 connection handling of a real server: keep-alive, Connection: close, pipelining,
// request ids, and timeouts that free what a slow or idle client holds.
#include <gtest/gtest.h>

#include <set>

#include "server_fixture.hpp"

namespace eventfeed::integration {
namespace {

using Connections = ServerTest;
using clock_type = std::chrono::steady_clock;

TEST_F(Connections, KeepAliveServesSeveralRequestsOnOneConnection) {
  std::set<std::string> ids;
  auto check = [&](const http_reply& reply, unsigned status) {
    EXPECT_EQ(reply.status, status) << reply;
    EXPECT_TRUE(reply.keep_alive) << reply;
    const auto id = reply.header("X-Request-Id");
    EXPECT_FALSE(id.empty()) << reply;
    EXPECT_TRUE(ids.insert(id).second) << "request id " << id << " used twice";
  };
  check(client_->get("/healthz"), 200);
  check(client_->post("/v1/streams/room:ka/events", R"({"type":"t"})", bearer()), 200);
  check(poll("room:ka", "after=0&timeout=0"), 200);
  check(client_->get("/v1/streams/room:ka", bearer()), 200);
  check(client_->get("/nowhere"), 404);  // an error answer keeps the connection too
  check(client_->post("/v1/streams/room:ka/events", "{", bearer()), 400);
  check(client_->get("/healthz"), 200);
  EXPECT_EQ(client_->connections_opened(), 1u);

  auto last = client_->get("/healthz", {{"Connection", "close"}});
  EXPECT_EQ(last.status, 200u) << last;
  EXPECT_FALSE(last.keep_alive) << last;
  EXPECT_EQ(last.header("Connection"), "close") << last;
  EXPECT_FALSE(last.header("X-Request-Id").empty()) << last;
  EXPECT_TRUE(client_->wait_closed(5s)) << "the server did not close after Connection: close";

  // The next request needs, and gets, a new connection.
  EXPECT_EQ(client_->get("/healthz").status, 200u);
  EXPECT_EQ(client_->connections_opened(), 2u);
}

TEST_F(Connections, PipelinedRequestsAreAnsweredInOrder) {
  raw_connection conn(server_->port());
  const std::string auth = "Authorization: Bearer " + std::string(publisher_key) + "\r\n";
  const std::string body = R"({"type":"piped"})";
  ASSERT_TRUE(
      conn.send("POST /v1/streams/room:pipe/events HTTP/1.1\r\nHost: t\r\n" + auth +
                "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                "\r\n\r\n" + body + "GET /v1/streams/room:pipe HTTP/1.1\r\nHost: t\r\n" + auth +
                "\r\n" + "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  auto got = conn.read_until_closed(10s);
  EXPECT_TRUE(got.closed);
  auto replies = parse_replies(got.data);
  ASSERT_EQ(replies.size(), 3u) << got.data;
  EXPECT_EQ(replies[0].status, 200u) << replies[0];
  const auto pos = replies[0].json().at("first").to_number<std::uint64_t>();
  EXPECT_EQ(replies[1].body, R"({"stream":"room:pipe","head":)" + std::to_string(pos) +
                                 R"(,"oldest":)" + std::to_string(pos) + R"(,"waiters":0})");
  EXPECT_EQ(replies[2].body, R"({"status":"ok","store":"memory","waiters":0})");
  EXPECT_FALSE(replies[2].keep_alive);
  std::set<std::string> ids;
  for (const auto& r : replies) ids.insert(r.header("X-Request-Id"));
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids.count(""), 0u);
}

class SlowClients : public ServerTest {
 protected:
  void SetUp() override {
    start_server(test_config("idle_timeout = 1\nread_timeout = 1\n"));
    baseline_ = server_->open_sockets();  // the listener
    ASSERT_GE(baseline_, 1u);
  }

  // Waits until the server holds exactly `n` sockets more than at start.
  ::testing::AssertionResult wait_sockets(std::size_t n) {
    std::size_t last = 0;
    auto r = wait_until([&] { return (last = server_->open_sockets()) == baseline_ + n; }, 10s,
                        "the server holds " + std::to_string(n) + " connection(s)");
    if (!r) r << " (it holds " << last - baseline_ << ")";
    return r;
  }

  std::size_t baseline_ = 0;
};

TEST_F(SlowClients, HalfAHeaderIsClosedAfterTheIdleTimeoutAndHoldsNothing) {
  const auto start = clock_type::now();
  raw_connection conn(server_->port());
  ASSERT_TRUE(conn.send("GET /healthz HTTP/1.1\r\nHo"));
  ASSERT_TRUE(wait_sockets(1));
  auto got = conn.read_until_closed(10s);
  const auto elapsed = clock_type::now() - start;
  EXPECT_TRUE(got.closed) << "the server kept a stalled connection for 10 s";
  EXPECT_EQ(got.data, "") << "a client that never finished its request gets no answer";
  EXPECT_GE(elapsed, 900ms);
  EXPECT_LT(elapsed, 5s);
  EXPECT_TRUE(wait_sockets(0));
}

TEST_F(SlowClients, StalledBodyIsClosedAfterTheReadTimeoutAndPublishesNothing) {
  const auto start = clock_type::now();
  raw_connection conn(server_->port());
  ASSERT_TRUE(
      conn.send("POST /v1/streams/room:slow/events HTTP/1.1\r\nHost: t\r\n"
                "Authorization: Bearer " +
                std::string(publisher_key) +
                "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                R"({"type":)"));
  auto got = conn.read_until_closed(10s);
  const auto elapsed = clock_type::now() - start;
  EXPECT_TRUE(got.closed) << "the server kept a connection with a stalled body for 10 s";
  EXPECT_EQ(got.data, "");
  EXPECT_GE(elapsed, 900ms);
  EXPECT_LT(elapsed, 5s);
  EXPECT_TRUE(wait_sockets(0));
  auto info = client_->get("/v1/streams/room:slow", bearer());
  EXPECT_EQ(info.body, R"({"stream":"room:slow","head":0,"oldest":0,"waiters":0})");
}

// Answers far larger than the socket buffers: the first write takes what the kernel accepts at
// once and the rest goes out asynchronously, within write_timeout.
class LargeAnswers : public SlowClients {
 protected:
  // Short, so that the test of a client that stops reading ends soon.
  virtual int write_timeout_s() const { return 1; }

  void SetUp() override {
    start_server(test_config("write_timeout = " + std::to_string(write_timeout_s()) + "\n"));
    // 1,000 events of about 8 KB: an 8 MB answer to one poll, twice what the kernel lets a
    // socket buffer on this machine (net.ipv4.tcp_wmem's maximum is 4 MiB).
    const std::string pad(8000, 'x');
    for (int batch = 0; batch < 10; ++batch) {
      std::string body = R"({"events":[)";
      for (int i = 0; i < 100; ++i) {
        if (i) body += ',';
        body += R"({"type":"big","data":{"n":)" + std::to_string(batch * 100 + i) + R"(,"pad":")" +
                pad + R"("}})";
      }
      body += "]}";
      ASSERT_EQ(client_->post("/v1/streams/room:big/events", body, bearer()).status, 200u);
    }
    baseline_ = server_->open_sockets();  // the listener and client_'s keep-alive connection
  }

  std::string request() const {
    return "GET /v1/streams/room:big/events?after=0&limit=1000&timeout=0 HTTP/1.1\r\nHost: t\r\n"
           "Authorization: Bearer " +
           std::string(publisher_key) + "\r\nConnection: close\r\n\r\n";
  }
};

// A reader that keeps reading must get the whole answer however slow the machine is (under a
// sanitizer on busy cores, 8 MB through a 4 KB window can take more than a second).
class LargeAnswersPatient : public LargeAnswers {
 protected:
  int write_timeout_s() const override { return 15; }
};

TEST_F(LargeAnswersPatient, ArriveWholeAndInOrderOverASmallReceiveWindow) {
  raw_connection conn(server_->port(), 4096);
  ASSERT_TRUE(conn.send(request()));
  auto got = conn.read_until_closed(20s);
  EXPECT_TRUE(got.closed);
  auto replies = parse_replies(got.data);
  ASSERT_EQ(replies.size(), 1u) << got.data.substr(0, 300);
  ASSERT_EQ(replies[0].status, 200u) << replies[0];
  const auto answer = replies[0].json();
  const auto& events = answer.at("events").as_array();
  ASSERT_EQ(events.size(), 1000u);
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& data = events[i].at("data");
    ASSERT_EQ(data.at("n").to_number<std::size_t>(), i);
    ASSERT_EQ(data.at("pad").as_string().size(), 8000u);
  }
}

TEST_F(LargeAnswers, AClientThatStopsReadingIsClosedAfterTheWriteTimeout) {
  raw_connection conn(server_->port(), 4096);
  ASSERT_TRUE(conn.send(request()));
  ASSERT_TRUE(wait_sockets(1));
  // Nothing is read: the answer cannot be written, and the connection goes after write_timeout
  // (1 s) plus a sweep.
  EXPECT_TRUE(wait_sockets(0)) << "a client that never reads kept its connection";
}

TEST_F(SlowClients, IdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  ASSERT_EQ(client_->get("/healthz").status, 200u);
  const auto start = clock_type::now();
  EXPECT_TRUE(client_->wait_closed(10s)) << "an idle keep-alive connection was kept for 10 s";
  const auto elapsed = clock_type::now() - start;
  EXPECT_GE(elapsed, 800ms);
  EXPECT_LT(elapsed, 5s);
  EXPECT_TRUE(wait_sockets(0));
}

TEST_F(SlowClients, ParkedPollIsNotCutByTheIdleTimeout) {
  // idle_timeout bounds the wait for a request, not the time a handler takes to answer.
  request_swarm swarm(server_->port());
  const auto i = swarm.start("/v1/streams/room:long/events?after=0&timeout=2", bearer());
  ASSERT_TRUE(swarm.wait(i, 10s));
  auto out = swarm.result(i);
  ASSERT_FALSE(out.ec) << out.ec.message();
  EXPECT_EQ(out.reply.status, 200u) << out.reply;
  EXPECT_EQ(out.reply.body, R"({"events":[],"next":0,"gap":false})");
  EXPECT_GE(out.elapsed, 1900ms);
}

}  // namespace
}  // namespace eventfeed::integration
