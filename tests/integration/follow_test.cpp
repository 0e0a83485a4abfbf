// tests/integration/follow_test.cpp: call_on_each_event (eventfeed/follow.hpp) and its async
// form against real server processes.
//
// - Exactly once through crashes: a consumer process (tools/follow_consumer.cpp) with a cursor
//   file follows 10,000 events on the SQLite store, published in turn to two streams of one
//   {tag} that it follows together, while the server is SIGKILLed and restarted
//   on the same port twice, each time right after a burst of publishes (so the consumer is in
//   the middle of reading it), and while the consumer itself is SIGKILLed and restarted once.
//   The consumer is killed once its cursor file has caught up with the events published so
//   far: a consumer killed between a handler's return and its cursor write hands that one event
//   over again (follow.hpp says so); that window is the library's documented limit, not what
//   this test measures. Every event must come out once, in order.
// - Retry-After (429 and 503) from a scripted HTTP peer: the next request comes no sooner than
//   the header said, on the same URL.
// - A server that is down: the backoff's bounds grow to the cap and no wait exceeds it; each
//   attempt comes no sooner than its wait.
// - Two URLs, the first dead: every event arrives, from the second.
// - Errors that cannot pass (401, 403, a bad stream name) end the call with that error; a stop
//   requested from another thread ends a parked poll; a throwing handler ends the loop with its
//   exception and the cursor file before its event; the async form delivers through co_await.
//
// Nothing sleeps for a fixed time: every wait is a bounded loop on an observable condition.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "eventfeed/follow.hpp"
#include "eventfeed/follow_async.hpp"
#include "server_fixture.hpp"
#include "server_process.hpp"

namespace eventfeed::integration {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

std::string sqlite_config(const fs::path& data_dir) {
  std::ostringstream cfg;
  cfg << "[server]\nthreads = 2\naccess_log = false\n\n"
      << "[store]\nbackend = \"sqlite\"\ndata_dir = '" << data_dir.string() << "'\n\n"
      << "[[keys]]\nname = \"publisher\"\nkey = \"" << publisher_key << "\"\n"
      << "publish = [\"*\"]\nread = [\"*\"]\n";
  return cfg.str();
}

// A TCP port on 127.0.0.1 with nothing listening (bound, then released).
unsigned short dead_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// The position in a cursor file ("eventfeed-cursor 1 <stream> <position> <check>\n"); 0 when
// it is missing or not whole.
position cursor_in(const fs::path& file) {
  std::ifstream in(file);
  std::string magic, version, stream, check;
  position pos = 0;
  if (!(in >> magic >> version >> stream >> pos >> check)) return 0;
  return pos;
}

// The stream of `streams` that publish_numbered puts event {"n":n} in: its hundreds in turn.
const std::string& stream_of(const stream_set& streams, int n) {
  return streams.names()[static_cast<std::size_t>(n / 100) % streams.names().size()];
}

// Publishes events {"n":first}..{"n":first+count-1}, 100 a request, the requests in turn to each
// of `streams` (`first` a multiple of 100); returns the last position.
position publish_numbered(client& c, const stream_set& streams, int first, int count) {
  position last = 0;
  for (int i = 0; i < count; i += 100) {
    std::vector<new_event> batch;
    for (int n = first + i; n < first + std::min(count, i + 100); ++n)
      batch.push_back({"n", R"({"n":)" + std::to_string(n) + "}"});
    auto done = c.publish_batch(stream_of(streams, first + i), batch);
    if (!done) throw std::runtime_error("publish: " + done.err().to_string());
    last = done->last;
  }
  return last;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

const stream_set crash_streams{"{crash}a", "{crash}b"};

std::unique_ptr<child_process> start_consumer(const std::string& url, const fs::path& cursor) {
  return std::make_unique<child_process>(std::vector<std::string>{
      EVENTFEED_FOLLOW_CONSUMER, "--url", url, "--key", std::string(publisher_key), "--stream",
      "{crash}a", "--stream", "{crash}b", "--cursor-file", cursor.string(), "--from", "0",
      "--start-if-missing"});
}

TEST(Follow, TenThousandEventsExactlyOnceThroughServerAndConsumerKills) {
  temp_dir dir;
  const auto cursor = dir.path() / "consumer.cursor";
  auto server = std::make_unique<server_process>(sqlite_config(dir.path() / "data"));
  const unsigned short port = server->port();
  client pub({.url = server->url(), .key = std::string(publisher_key)});
  auto consumer = start_consumer(server->url(), cursor);
  // SIGKILL the server, wait until the consumer has found it gone (one more failed attempt on
  // its stderr), start it again on the same port and data.
  auto restart_server = [&] {
    const auto retries = [&] {
      const std::string text = consumer->stderr_text();
      std::size_t n = 0;
      for (auto at = text.find("retrying"); at != std::string::npos;
           at = text.find("retrying", at + 1))
        ++n;
      return n;
    };
    const std::size_t before = retries();
    server->kill();
    ASSERT_TRUE(wait_until([&] { return retries() > before; }, std::chrono::seconds(60),
                           "the consumer retries"));
    server = std::make_unique<server_process>(sqlite_config(dir.path() / "data"),
                                              std::chrono::seconds(15), port);
  };
  std::string output;  // what every run of the consumer printed

  auto caught_up = [&](position last) {
    return wait_until([&] { return cursor_in(cursor) == last; }, std::chrono::seconds(90),
                      "the consumer's cursor file reaches " + std::to_string(last));
  };

  publish_numbered(pub, crash_streams, 0, 3000);
  restart_server();  // SIGKILL, while the consumer reads the burst
  publish_numbered(pub, crash_streams, 3000, 3000);
  restart_server();
  position last = publish_numbered(pub, crash_streams, 6000, 2000);
  ASSERT_TRUE(caught_up(last)) << consumer->stderr_text();
  consumer->kill();  // SIGKILL the consumer, then the same command again
  output += consumer->stdout_text();
  consumer = start_consumer(server->url(), cursor);
  last = publish_numbered(pub, crash_streams, 8000, 2000);
  ASSERT_TRUE(caught_up(last)) << consumer->stderr_text();
  ASSERT_TRUE(
      wait_until([&] { return lines_of(output + consumer->stdout_text()).size() >= 10'000; },
                 std::chrono::seconds(30), "10,000 lines printed"));
  output += consumer->stdout_text();

  const auto lines = lines_of(output);
  ASSERT_EQ(lines.size(), 10'000u) << consumer->stderr_text();
  position previous = 0;
  for (std::size_t n = 0; n < lines.size(); ++n) {
    std::istringstream in(lines[n]);
    position pos = 0;
    std::string data, stream;
    in >> pos >> data >> stream;
    ASSERT_EQ(data, R"({"n":)" + std::to_string(n) + "}") << "line " << n << ": " << lines[n];
    ASSERT_EQ(stream, stream_of(crash_streams, static_cast<int>(n))) << "line " << n;
    ASSERT_GT(pos, previous) << "line " << n;
    previous = pos;
  }
  EXPECT_EQ(previous, last);
}

// An HTTP peer that answers the first request with `status` and `Retry-After: 1`, the second
// with one event, and holds every later one unanswered; it records when each request came.
class scripted_peer {
 public:
  explicit scripted_peer(int status) : status_(status) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listener_, 8);
    socklen_t len = sizeof a;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~scripted_peer() {
    done_ = true;
    thread_.join();
    for (int fd : held_) ::close(fd);
    ::close(listener_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<steady::time_point> arrivals() {
    std::lock_guard lock(mutex_);
    return arrivals_;
  }

 private:
  void run() {
    std::string pending;
    int conn = -1;
    while (!done_) {
      pollfd fds[2] = {{listener_, POLLIN, 0}, {conn, POLLIN, 0}};
      if (::poll(fds, conn >= 0 ? 2 : 1, 20) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        if (conn >= 0) held_.push_back(conn);
        conn = ::accept(listener_, nullptr, nullptr);
        pending.clear();
        continue;
      }
      char buf[4096];
      const ssize_t n = ::read(conn, buf, sizeof buf);
      if (n <= 0) {
        ::close(conn);
        conn = -1;
        continue;
      }
      pending.append(buf, static_cast<std::size_t>(n));
      if (pending.find("\r\n\r\n") == std::string::npos) continue;
      pending.clear();
      std::size_t count = 0;
      {
        std::lock_guard lock(mutex_);
        arrivals_.push_back(steady::now());
        count = arrivals_.size();
      }
      std::string body, head;
      if (count == 1) {
        body = R"({"error":{"code":"busy","message":"come back later"}})";
        head = "HTTP/1.1 " + std::to_string(status_) + " Busy\r\nRetry-After: 1\r\n";
      } else if (count == 2) {
        body = R"({"events":[{"position":1,"time":1,"type":"t","data":{}}],"next":1,"gap":false})";
        head = "HTTP/1.1 200 OK\r\n";
      } else {
        continue;  // held: the follower parks on it until stopped
      }
      head += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
              "\r\n\r\n";
      const std::string all = head + body;
      (void)!::write(conn, all.data(), all.size());
    }
    if (conn >= 0) held_.push_back(conn);
  }

  int status_;
  int listener_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> done_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<steady::time_point> arrivals_;
  std::vector<int> held_;
};

class FollowRetryAfter : public ::testing::TestWithParam<int> {};

TEST_P(FollowRetryAfter, TheNextRequestWaitsAsLongAsTheServerSaid) {
  scripted_peer peer(GetParam());
  follow_options o;
  o.urls = {peer.url(), "http://127.0.0.1:" + std::to_string(dead_port())};
  o.from = "0";
  std::vector<retry_notice> notices;
  o.on_retry = [&](const retry_notice& n) { notices.push_back(n); };
  std::stop_source stop;
  std::vector<position> got;
  auto end = call_on_each_event(
      "room:a",
      [&](const delivery& d) {
        got.push_back(d.ev.pos);
        stop.request_stop();
      },
      o, stop.get_token());
  ASSERT_TRUE(end) << end.err().to_string();
  EXPECT_EQ(got, std::vector<position>{1});
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].err.status, GetParam());
  EXPECT_EQ(notices[0].delay, milliseconds(1000));
  EXPECT_EQ(notices[0].url, peer.url());  // the same server, not the other URL
  const auto arrivals = peer.arrivals();
  ASSERT_GE(arrivals.size(), 2u);
  EXPECT_GE(arrivals[1] - arrivals[0], milliseconds(1000));
}

INSTANTIATE_TEST_SUITE_P(Statuses, FollowRetryAfter, ::testing::Values(429, 503));

TEST(Follow, RetryWaitsGrowAndStayUnderTheCapWhileTheServerIsDown) {
  follow_options o;
  o.urls = {"http://127.0.0.1:" + std::to_string(dead_port())};
  o.retry = {.initial = milliseconds(20), .cap = milliseconds(320), .seed = 99};
  std::stop_source stop;
  std::vector<retry_notice> notices;
  std::vector<steady::time_point> when;
  o.on_retry = [&](const retry_notice& n) {
    notices.push_back(n);
    when.push_back(steady::now());
    if (notices.size() == 10) stop.request_stop();
  };
  auto end = call_on_each_event(
      "room:a", [](const delivery&) {}, o, stop.get_token());
  ASSERT_TRUE(end) << end.err().to_string();
  ASSERT_EQ(notices.size(), 10u);
  const std::vector<long> expected = {20, 40, 80, 160, 320, 320, 320, 320, 320, 320};
  for (std::size_t i = 0; i < notices.size(); ++i) {
    EXPECT_EQ(notices[i].err.kind, error_kind::transport);
    EXPECT_EQ(notices[i].ceiling.count(), expected[i]) << i;
    EXPECT_LE(notices[i].delay, o.retry.cap) << i;
    // The next attempt failed no sooner than this wait allowed.
    if (i + 1 < notices.size()) {
      EXPECT_GE(when[i + 1] - when[i], notices[i].delay) << i;
    }
  }
}

TEST(Follow, FailsOverFromADeadUrlAndLosesNothing) {
  server_process server(test_config());
  client pub({.url = server.url(), .key = std::string(publisher_key)});
  const position last = publish_numbered(pub, "room:f", 0, 500);
  follow_options o;
  o.urls = {"http://127.0.0.1:" + std::to_string(dead_port()), server.url()};
  o.key = std::string(publisher_key);
  o.from = "0";
  std::vector<int> seen;
  std::stop_source stop;
  auto end = call_on_each_event(
      "room:f",
      [&](const delivery& d) {
        ASSERT_FALSE(d.gap);
        seen.push_back(std::stoi(d.ev.data.substr(5)));
        if (d.ev.pos == last) stop.request_stop();
      },
      o, stop.get_token());
  ASSERT_TRUE(end) << end.err().to_string();
  ASSERT_EQ(seen.size(), 500u);
  for (int n = 0; n < 500; ++n) ASSERT_EQ(seen[static_cast<std::size_t>(n)], n);
  EXPECT_EQ(end->cursor, last);
  EXPECT_EQ(end->delivered, 500u);
}

class FollowServer : public ServerTest {};

TEST_F(FollowServer, ErrorsThatCannotPassAreReturned) {
  follow_options o;
  o.urls = {server_->url()};
  o.key = "no-such-key";
  auto end = call_on_each_event(
      "room:a", [](const delivery&) {}, o);
  ASSERT_FALSE(end);
  EXPECT_EQ(end.err().status, 401);
  o.key = std::string(reader_key);
  end = call_on_each_event(
      "secret:a", [](const delivery&) {}, o);
  ASSERT_FALSE(end);
  EXPECT_EQ(end.err().status, 403);
  end = call_on_each_event(
      "room a", [](const delivery&) {}, o);
  ASSERT_FALSE(end);
  EXPECT_EQ(end.err().code, "invalid_stream");
}

TEST_F(FollowServer, AStopFromAnotherThreadEndsAParkedPoll) {
  follow_options o;
  o.urls = {server_->url()};
  o.key = std::string(publisher_key);
  std::stop_source stop;
  std::thread stopper([&] {
    EXPECT_TRUE(wait_stream_waiters("room:idle", 1));
    stop.request_stop();
  });
  auto end = call_on_each_event(
      "room:idle", [](const delivery&) {}, o, stop.get_token());
  stopper.join();
  ASSERT_TRUE(end) << end.err().to_string();
  EXPECT_EQ(end->delivered, 0u);
  EXPECT_TRUE(wait_stream_waiters("room:idle", 0));
}

TEST_F(FollowServer, AThrowingHandlerEndsTheLoopBeforeItsEvent) {
  temp_dir dir;
  client pub({.url = server_->url(), .key = std::string(publisher_key)});
  publish_numbered(pub, "room:t", 0, 5);
  follow_options o;
  o.urls = {server_->url()};
  o.key = std::string(publisher_key);
  o.cursor_file = (dir.path() / "c").string();
  o.start_if_missing = true;
  o.from = "0";
  std::vector<position> seen;
  auto run = [&] {
    return call_on_each_event(
        "room:t",
        [&](const delivery& d) {
          if (d.ev.data == R"({"n":3})") throw std::runtime_error("cannot handle n=3");
          seen.push_back(d.ev.pos);
        },
        o);
  };
  EXPECT_THROW((void)run(), std::runtime_error);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(cursor_in(dir.path() / "c"), seen.back());
  EXPECT_THROW((void)run(), std::runtime_error);  // resumes at the same event, not past it
  EXPECT_EQ(seen.size(), 3u);
}

TEST_F(FollowServer, SeveralStreamsOfOneTagAreFollowedFromNowWithOneCursor) {
  temp_dir dir;
  client pub({.url = server_->url(), .key = std::string(publisher_key)});
  publish_numbered(pub, "{m}a", 0, 100);  // before "now": not delivered
  const stream_set both{"{m}a", "{m}b"};
  follow_options o;
  o.urls = {server_->url()};
  o.key = std::string(publisher_key);
  o.cursor_file = (dir.path() / "c").string();
  o.start_if_missing = true;
  std::vector<std::pair<std::string, int>> seen;
  std::stop_source stop;
  std::atomic<position> last{0};
  std::thread publisher([&] {
    EXPECT_TRUE(wait_stream_waiters("{m}b", 1));  // resolved "now", parked on both
    last = publish_numbered(pub, both, 0, 600);
  });
  auto end = call_on_each_event(
      both,
      [&](const delivery& d) {
        ASSERT_FALSE(d.gap);
        seen.emplace_back(d.ev.stream, std::stoi(d.ev.data.substr(5)));
        if (seen.size() == 600) stop.request_stop();
      },
      o, stop.get_token());
  publisher.join();
  ASSERT_TRUE(end) << end.err().to_string();
  ASSERT_EQ(seen.size(), 600u);
  for (int n = 0; n < 600; ++n)
    ASSERT_EQ(seen[static_cast<std::size_t>(n)], std::make_pair(stream_of(both, n), n));
  EXPECT_EQ(end->cursor, last.load());
  EXPECT_EQ(cursor_in(dir.path() / "c"), last.load());
}

TEST_F(FollowServer, TheAsyncFormDeliversThroughCoAwait) {
  namespace net = boost::asio;
  client pub({.url = server_->url(), .key = std::string(publisher_key)});
  const position last = publish_numbered(pub, "room:async", 0, 250);
  follow_options o;
  o.urls = {server_->url()};
  o.key = std::string(publisher_key);
  o.from = "";
  o.limit = 40;
  std::vector<position> seen;
  std::optional<result<follow_summary>> end;
  std::stop_source stop;
  net::io_context ioc;
  net::co_spawn(
      ioc,
      [&]() -> net::awaitable<void> {
        end = co_await async_call_on_each_event(
            co_await net::this_coro::executor, "room:async",
            [&](const delivery& d) {
              seen.push_back(d.ev.pos);
              if (d.ev.pos == last) stop.request_stop();
            },
            o, stop.get_token(), net::use_awaitable);
      },
      net::detached);
  ioc.run();
  ASSERT_TRUE(end);
  ASSERT_TRUE(*end) << end->err().to_string();
  EXPECT_EQ(seen.size(), 250u);
  EXPECT_EQ((*end)->cursor, last);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

}  // namespace
}  // namespace eventfeed::integration
