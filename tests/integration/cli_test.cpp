// The eventfeed command line against a real server: `tail` as a long-running child printing
// NDJSON, `publish` as one-shot children, and their exit codes (cli/main.cpp's output contract).
#include <signal.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <filesystem>

#include "server_fixture.hpp"

namespace eventfeed::integration {
namespace {

class Cli : public ServerTest {
 protected:
  std::vector<std::string> command(std::vector<std::string> args,
                                   std::string_view key = publisher_key) {
    args.insert(args.begin(), eventfeed_binary());
    args.insert(args.end(), {"--url", server_->url(), "--key", std::string(key)});
    return args;
  }

  // Runs `eventfeed publish ...` to completion; returns its exit status.
  exit_status run(std::vector<std::string> args, std::string* out, std::string* err,
                  const std::string& stdin_text = {}, std::string_view key = publisher_key) {
    child_process proc(command(std::move(args), key), stdin_text);
    auto status = proc.wait(20s);
    proc.wait_stdout_closed(5s);
    if (out) *out = proc.stdout_text();
    if (err) *err = proc.stderr_text();
    return status;
  }

  static std::string published(std::uint64_t first, std::uint64_t last) {
    return R"({"first":)" + std::to_string(first) + R"(,"last":)" + std::to_string(last) + "}\n";
  }

  // The line `tail` prints for an event: the server's rendering, with the time it reported.
  static std::string tail_line(const std::string& line, std::uint64_t pos, std::string_view type,
                               std::string_view data) {
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    if (ec || !v.is_object() || !v.as_object().contains("time")) return "<not an event: " + line;
    return event_json(pos, v.at("time").to_number<std::int64_t>(), type, data);
  }
};

TEST_F(Cli, TailPrintsWhatPublishSendsAndEndsWithExit0OnSigint) {
  child_process tail(command({"tail", "room:cli", "--after", "0", "--timeout", "30"}));
  ASSERT_TRUE(wait_stream_waiters("room:cli", 1)) << tail.stderr_text();

  std::string out, err;
  auto status = run({"publish", "room:cli", "tip", R"({"amount":5,"from":"al"})"}, &out, &err);
  ASSERT_TRUE(status.exited && status.code == 0) << status << "\n" << err;
  auto answer = boost::json::parse(out);
  const auto p1 = answer.at("first").to_number<std::uint64_t>();
  EXPECT_EQ(out, published(p1, p1));
  EXPECT_EQ(err, "");

  auto line = tail.read_line(10s);
  ASSERT_TRUE(line) << "tail printed nothing; stderr: " << tail.stderr_text();
  EXPECT_EQ(*line, tail_line(*line, p1, "tip", R"({"amount":5,"from":"al"})"));

  // NDJSON on stdin: both lines go out in one batch, one answer line.
  status = run({"publish", "room:cli", "count", "-"}, &out, &err, "{\"n\":1}\n\n{\"n\":2}\n");
  ASSERT_TRUE(status.exited && status.code == 0) << status << "\n" << err;
  answer = boost::json::parse(out);
  const auto p2 = answer.at("first").to_number<std::uint64_t>();
  const auto p3 = answer.at("last").to_number<std::uint64_t>();
  EXPECT_LT(p1, p2);
  EXPECT_LT(p2, p3);
  EXPECT_EQ(out, published(p2, p3));

  auto second = tail.read_line(10s);
  auto third = tail.read_line(10s);
  ASSERT_TRUE(second && third) << "stderr: " << tail.stderr_text();
  EXPECT_EQ(*second, tail_line(*second, p2, "count", R"({"n":1})"));
  EXPECT_EQ(*third, tail_line(*third, p3, "count", R"({"n":2})"));

  // tail is parked again; SIGINT ends it at once, cleanly, and frees its waiter.
  ASSERT_TRUE(wait_stream_waiters("room:cli", 1));
  auto tail_status = tail.stop(SIGINT, 10s);
  EXPECT_TRUE(tail_status.exited) << tail_status;
  EXPECT_EQ(tail_status.code, 0) << tail_status << "\n" << tail.stderr_text();
  EXPECT_LT(tail_status.elapsed, 2s) << tail_status;
  ASSERT_TRUE(tail.wait_stdout_closed(5s));
  EXPECT_EQ(tail.stdout_text(), *line + "\n" + *second + "\n" + *third + "\n")
      << "tail writes nothing but event lines to stdout";
  EXPECT_TRUE(wait_stream_waiters("room:cli", 0, 10s));
}

TEST_F(Cli, TailWithCountExitsByItselfAfterThatManyEvents) {
  const auto p1 = publish_one("room:count", "a", R"({"i":1})");
  const auto p2 = publish_one("room:count", "b", R"({"i":2})");
  publish_one("room:count", "c", R"({"i":3})");
  child_process tail(command({"tail", "room:count", "--after", "0", "--count", "2"}));
  auto status = tail.wait(20s);
  EXPECT_TRUE(status.exited && status.code == 0) << status << "\n" << tail.stderr_text();
  ASSERT_TRUE(tail.wait_stdout_closed(5s));
  auto l1 = tail.read_line(1s);
  auto l2 = tail.read_line(1s);
  ASSERT_TRUE(l1 && l2) << tail.stdout_text();
  EXPECT_EQ(*l1, tail_line(*l1, p1, "a", R"({"i":1})"));
  EXPECT_EQ(*l2, tail_line(*l2, p2, "b", R"({"i":2})"));
  EXPECT_FALSE(tail.read_line(100ms)) << "more than --count lines";
}

TEST_F(Cli, TailWithACursorFileResumesWhereItStoppedAndNeedsAStartForANewFile) {
  const auto p1 = publish_one("room:resume", "a", R"({"i":1})");
  const auto p2 = publish_one("room:resume", "b", R"({"i":2})");
  const auto p3 = publish_one("room:resume", "c", R"({"i":3})");
  temp_dir dir;
  const std::string cursor = (dir.path() / "tail.cursor").string();

  // No file and no --after: a usage error, never a silent start from "now".
  std::string out, err;
  auto status = run({"tail", "room:resume", "--cursor-file", cursor}, &out, &err);
  EXPECT_TRUE(status.exited && status.code == 2) << status << "\n" << err;
  EXPECT_EQ(out, "");
  EXPECT_NE(err.find("pass --after"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(cursor));

  status = run({"tail", "room:resume", "--cursor-file", cursor, "--after", "0", "--count", "2"},
               &out, &err);
  EXPECT_TRUE(status.exited && status.code == 0) << status << "\n" << err;
  auto lines = out;
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 2) << out;
  EXPECT_NE(out.find(R"("position":)" + std::to_string(p1)), std::string::npos) << out;
  EXPECT_NE(out.find(R"("position":)" + std::to_string(p2)), std::string::npos) << out;

  // The file wins over --after: the next run starts after p2, with the third event only.
  status = run({"tail", "room:resume", "--cursor-file", cursor, "--after", "0", "--count", "1"},
               &out, &err);
  EXPECT_TRUE(status.exited && status.code == 0) << status << "\n" << err;
  EXPECT_EQ(out, tail_line(out.substr(0, out.size() - 1), p3, "c", R"({"i":3})") + "\n");
}

TEST_F(Cli, TailFailsOverToTheNextUrl) {
  const auto p1 = publish_one("room:fo", "a", R"({"i":1})");
  // A port nothing listens on, first; command() adds the live server's --url after it.
  child_process tail(
      command({"tail", "room:fo", "--after", "0", "--count", "1", "--url", "http://127.0.0.1:1"}));
  auto status = tail.wait(20s);
  EXPECT_TRUE(status.exited && status.code == 0) << status << "\n" << tail.stderr_text();
  ASSERT_TRUE(tail.wait_stdout_closed(5s));
  auto line = tail.read_line(1s);
  ASSERT_TRUE(line) << tail.stderr_text();
  EXPECT_EQ(*line, tail_line(*line, p1, "a", R"({"i":1})"));
  EXPECT_NE(tail.stderr_text().find("retrying " + server_->url()), std::string::npos)
      << tail.stderr_text();
}

TEST_F(Cli, ServerRefusalsExit1AndUsageErrorsExit2WithNothingOnStdout) {
  std::string out, err;
  auto status = run({"publish", "room:x", "t"}, &out, &err, {}, "not-a-known-key");
  EXPECT_TRUE(status.exited && status.code == 1) << status << "\n" << err;
  EXPECT_EQ(out, "");
  EXPECT_TRUE(err.starts_with("eventfeed: publish: ")) << err;
  EXPECT_NE(err.find("unknown key"), std::string::npos) << err;

  status = run({"publish", "room:x", "t", "[1,2]"}, &out, &err);
  EXPECT_TRUE(status.exited && status.code == 2) << status << "\n" << err;
  EXPECT_EQ(out, "");
  EXPECT_TRUE(err.starts_with("eventfeed: ")) << err;

  status = run({"publish", "bad!stream", "t"}, &out, &err);
  EXPECT_TRUE(status.exited && status.code == 2) << status << "\n" << err;
  EXPECT_EQ(out, "");

  status = run({"tail", "user:1", "--timeout", "0"}, &out, &err, {}, reader_key);
  EXPECT_TRUE(status.exited && status.code == 1) << status << "\n" << err;
  EXPECT_EQ(out, "");
  EXPECT_NE(err.find("forbidden"), std::string::npos) << err;

  // Nothing of the refused publishes reached the stream.
  auto info = client_->get("/v1/streams/room:x", bearer());
  EXPECT_EQ(info.body, R"({"stream":"room:x","head":0,"oldest":0,"waiters":0})");
}

}  // namespace
}  // namespace eventfeed::integration

namespace eventfeed::integration {
namespace {

class CliDemo : public Cli {
 protected:
  void SetUp() override {
    start_server(test_config({}, R"(
[[chaturbate.rooms]]
username = "alice"
tokens = ["tok-demo"]
stream = "cb:alice"
)"));
  }
};

TEST_F(CliDemo, PlaysAShowThatTheRoomsFeedServes) {
  std::string out, err;
  auto status = run({"demo", "--count", "5", "--interval", "0.05", "--seed", "9"}, &out, &err);
  ASSERT_TRUE(status.exited && status.code == 0) << status << "\n" << err;
  std::vector<std::string> lines;
  for (std::size_t at = 0, nl; (nl = out.find('\n', at)) != std::string::npos; at = nl + 1)
    lines.push_back(out.substr(at, nl - at));
  ASSERT_EQ(lines.size(), 7u) << out;
  EXPECT_EQ(lines.front(), "[broadcastStart] alice started broadcasting");
  EXPECT_EQ(lines.back(), "[broadcastStop] alice stopped broadcasting");

  http_client c(server_->port());
  auto feed = c.get("/events/alice/tok-demo/?timeout=0");
  ASSERT_EQ(feed.status, 200u) << feed;
  const auto body = feed.json();
  const auto& events = body.at("events").as_array();
  ASSERT_EQ(events.size(), 7u);
  for (std::size_t i = 0; i < events.size(); ++i) {
    const std::string method(events[i].at("method").as_string());
    EXPECT_TRUE(lines[i].starts_with("[" + method + "] ")) << lines[i] << " vs " << method;
  }
}

TEST_F(CliDemo, EndsTheShowOnSigint) {
  child_process demo(command({"demo", "--interval", "0.05"}));
  ASSERT_TRUE(demo.read_line(10s).has_value()) << demo.stderr_text();
  ASSERT_TRUE(demo.read_line(10s).has_value());
  auto status = demo.stop(SIGINT, 10s);
  ASSERT_TRUE(status.exited) << status;
  EXPECT_EQ(status.code, 0);
  ASSERT_TRUE(demo.wait_stdout_closed(5s));
  EXPECT_TRUE(demo.stdout_text().ends_with("[broadcastStop] alice stopped broadcasting\n"))
      << demo.stdout_text();
}

}  // namespace
}  // namespace eventfeed::integration
