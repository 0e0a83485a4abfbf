// The server as a process: start-up output, config errors, and graceful shutdown on SIGTERM.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>

#include "server_fixture.hpp"

namespace eventfeed::integration {
namespace {

using Shutdown = ServerTest;
using Startup = ServerTest;

TEST_F(Startup, PrintsTheListeningLineWithThePortItChose) {
  EXPECT_EQ(server_->listening_line(),
            "eventfeed listening on 127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_EQ(client_->get("/healthz").body, R"({"status":"ok","store":"memory","waiters":0})");
}

TEST_F(Startup, StdoutIsOnlyTheListeningLine) {
  // Scripts read stdout for the port: logs belong on stderr.
  ASSERT_EQ(client_->get("/healthz").status, 200u);
  auto status = server_->terminate();
  ASSERT_TRUE(status.exited) << status;
  ASSERT_TRUE(server_->process().wait_stdout_closed(5s));
  EXPECT_EQ(server_->process().stdout_text(), server_->listening_line() + "\n");
}

TEST(StartupErrors, BadConfigExitsWithStatus2AndNamesTheKey) {
  temp_dir dir;
  const auto path = dir.path() / "bad.toml";
  std::ofstream(path) << "[server]\nthreads = 1000\n";
  child_process proc(
      {eventfeed_binary(), "serve", "--config", path.string(), "--listen", "127.0.0.1:0"});
  auto status = proc.wait(10s);
  ASSERT_TRUE(status.exited) << status;
  EXPECT_EQ(status.code, 2);
  EXPECT_NE(proc.stderr_text().find("server.threads: must be between 0 and 256"), std::string::npos)
      << proc.stderr_text();
  ASSERT_TRUE(proc.wait_stdout_closed(5s));
  EXPECT_EQ(proc.stdout_text(), "") << "nothing may claim to listen when start-up failed";
}

TEST_F(Shutdown, SigtermAnswersEveryParkedPollAndExitsZeroWithinTwoSeconds) {
  const auto head = publish_one("room:s0", "before");
  request_swarm swarm(server_->port());
  constexpr int polls = 40;
  for (int i = 0; i < polls; ++i) {
    const auto stream = "room:s" + std::to_string(i % 4);
    const auto after = i % 4 == 0 ? std::to_string(head) : std::string("0");
    swarm.start("/v1/streams/" + stream + "/events?after=" + after + "&timeout=60", bearer());
  }
  ASSERT_TRUE(wait_total_waiters(polls));
  // An idle keep-alive connection must not hold the shutdown up either.
  ASSERT_EQ(client_->get("/healthz").status, 200u);

  auto status = server_->terminate(10s);
  EXPECT_TRUE(status.exited) << status;
  EXPECT_EQ(status.code, 0) << status;
  EXPECT_LT(status.elapsed, 2s) << status;

  ASSERT_TRUE(swarm.wait_all(10s)) << swarm.completed() << " of " << polls << " polls answered";
  for (int i = 0; i < polls; ++i) {
    auto out = swarm.result(static_cast<std::size_t>(i));
    ASSERT_FALSE(out.ec) << "poll " << i << ": " << out.ec.message();
    EXPECT_EQ(out.reply.status, 200u) << out.reply;
    const auto next = i % 4 == 0 ? head : 0;
    EXPECT_EQ(out.reply.body, R"({"events":[],"next":)" + std::to_string(next) + R"(,"gap":false})")
        << "poll " << i;
    EXPECT_FALSE(out.reply.keep_alive) << "poll " << i << " is told to reconnect: " << out.reply;
  }
}

TEST_F(Shutdown, SigtermWithNothingParkedExitsZeroAtOnce) {
  auto status = server_->terminate(10s);
  EXPECT_TRUE(status.exited) << status;
  EXPECT_EQ(status.code, 0) << status;
  EXPECT_LT(status.elapsed, 2s) << status;
}

TEST_F(Shutdown, SigintAlsoStopsGracefully) {
  auto status = server_->process().stop(SIGINT, 10s);
  EXPECT_TRUE(status.exited) << status;
  EXPECT_EQ(status.code, 0) << status;
  EXPECT_LT(status.elapsed, 2s) << status;
}

}  // namespace
}  // namespace eventfeed::integration
