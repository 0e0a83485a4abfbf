#include "loadgen/worker.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>
#include <memory>
#include <random>

#include "loadgen/http_client.hpp"

namespace eventfeed::bench {

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void write_all(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // the coordinator is gone; nobody to tell
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

struct subscriber {
  std::string channel;
  std::string cursor;
  std::vector<bool> seen;  // one bit per expected message
  std::uint64_t got = 0;
  unsigned failures = 0;  // refused or failed polls in a row (sets the backoff)
  bool complete = false;
  std::unique_ptr<http_connection> conn;
};

class worker {
 public:
  worker(const worker_plan& plan, const protocol& proto)
      : plan_(plan), proto_(proto), control_(ioc_), rng_(static_cast<unsigned>(plan.index + 1)) {
    counts_.subscribers = plan.count;
    subs_.resize(plan.count);
    for (std::size_t i = 0; i < plan.count; ++i) {
      auto& s = subs_[i];
      s.channel = channel_name(plan.channel_prefix, (plan.first + i) % plan.channels);
      s.cursor = proto.initial_cursor();
      s.seen.assign(plan.messages, false);
      s.conn = std::make_unique<http_connection>(ioc_.get_executor());
    }
    remaining_ = plan.count;
    // Every expected delivery makes one sample; reserving up front keeps the hot path free of
    // reallocation (bounded by the coordinator's limits on subscribers x messages).
    latencies_.reserve(plan.count * plan.messages);
  }

  [[noreturn]] void run() {
    control_.assign(plan_.control_fd);
    net::co_spawn(ioc_, control(), net::detached);
    net::co_spawn(ioc_, watchdog(), net::detached);
    ioc_.run();
    finish();
  }

 private:
  net::awaitable<void> control() {
    char byte = 0;
    auto [ec, n] = co_await control_.async_read_some(net::buffer(&byte, 1), use_tuple);
    if (ec || n == 0) finish();  // the coordinator went away before "go"
    const std::size_t lanes = std::max<std::size_t>(1, std::min(plan_.connect_lanes, subs_.size()));
    for (std::size_t lane = 0; lane < lanes; ++lane)
      net::co_spawn(ioc_, connector(lane, lanes), net::detached);
    std::tie(ec, n) = co_await control_.async_read_some(net::buffer(&byte, 1), use_tuple);
    finish();  // a stop byte or EOF
  }

  net::awaitable<void> watchdog() {
    net::steady_timer timer(ioc_, plan_.deadline);
    co_await timer.async_wait(use_tuple);
    note_error("worker deadline reached");
    finish();
  }

  net::awaitable<void> connector(std::size_t lane, std::size_t lanes) {
    for (std::size_t i = lane; i < subs_.size(); i += lanes) {
      if (!co_await connect(subs_[i])) co_return;
      ++counts_.connected;
      net::co_spawn(ioc_, poll_loop(subs_[i]), net::detached);
    }
  }

  // Connects `s`, retrying with backoff until the deadline; false if it never did.
  net::awaitable<bool> connect(subscriber& s) {
    for (unsigned attempt = 1;; ++attempt) {
      auto ec = co_await s.conn->connect(plan_.endpoint, std::chrono::seconds(5));
      if (!ec) co_return true;
      ++counts_.connect_failures;
      note_error("connect: " + ec.message());
      if (std::chrono::steady_clock::now() >= plan_.deadline) co_return false;
      co_await backoff(std::min(attempt, 10u));
    }
  }

  // After the n-th refused or failed poll in a row: sleeps 10..60 ms times 2^(n-1), at most 32
  // times, jittered. A server that refuses a burst (Pushpin caps its internal queues) is not
  // kept busy refusing the same clients every few milliseconds.
  net::awaitable<void> poll_backoff(subscriber& s) {
    ++s.failures;
    co_await backoff(1u << std::min(s.failures - 1, 5u));
  }

  // Sleeps 10..60 ms times `scale`, jittered so that refused clients do not come back in step.
  net::awaitable<void> backoff(unsigned scale) {
    std::uniform_int_distribution<int> ms(10, 60);
    net::steady_timer timer(ioc_, std::chrono::milliseconds(ms(rng_) * static_cast<int>(scale)));
    co_await timer.async_wait(use_tuple);
  }

  net::awaitable<void> poll_loop(subscriber& s) {
    response res;
    for (;;) {
      if (!s.conn->is_open() && !co_await connect(s)) co_return;
      const request req = proto_.subscribe_request(s.channel, s.cursor);
      ++counts_.polls;
      const auto ec = co_await s.conn->exchange(req, res, plan_.exchange_timeout);
      const std::int64_t received = now_ns();
      if (ec) {
        ++counts_.errors;
        note_error("poll: " + ec.message());
        co_await poll_backoff(s);
        continue;
      }
      poll_answer answer = proto_.parse_subscribe(res, s.cursor);
      switch (answer.outcome) {
        case poll_outcome::refused:
          ++counts_.refused;
          co_await poll_backoff(s);
          continue;
        case poll_outcome::error:
          ++counts_.errors;
          note_error("poll answer: " + answer.detail);
          co_await poll_backoff(s);
          continue;
        case poll_outcome::rejected:
          ++counts_.rejected;
          note_error("poll rejected: " + answer.detail);
          s.conn->close();
          if (--remaining_ == 0) finish();
          co_return;
        case poll_outcome::empty:
          s.failures = 0;
          ++counts_.empty_polls;
          break;
        case poll_outcome::messages:
          s.failures = 0;
          for (const stamp& m : answer.messages) record(s, m, received);
          break;
      }
      if (answer.gap) ++counts_.gaps;
      s.cursor = std::move(answer.next);
      if (s.complete) {
        s.conn->close();
        if (--remaining_ == 0) finish();
        co_return;
      }
    }
  }

  void record(subscriber& s, const stamp& m, std::int64_t received) {
    if (m.seq >= plan_.messages) {
      ++counts_.unexpected;
      return;
    }
    if (s.seen[m.seq]) {
      ++counts_.duplicates;
      return;
    }
    s.seen[m.seq] = true;
    ++counts_.deliveries;
    latencies_.push_back(received - m.sent_ns);
    if (counts_.first_delivery_ns == 0) counts_.first_delivery_ns = received;
    counts_.last_delivery_ns = received;
    if (++s.got == plan_.messages) s.complete = true;
  }

  void note_error(const std::string& what) {
    if (counts_.first_error[0] != '\0') return;
    std::snprintf(counts_.first_error, sizeof counts_.first_error, "%s", what.c_str());
  }

  [[noreturn]] void finish() {
    if (plan_.messages > 0) {
      for (const auto& s : subs_) {
        counts_.lost += plan_.messages - s.got;
        if (!s.complete) ++counts_.incomplete;
      }
    }
    counts_.latency_samples = latencies_.size();
    write_all(plan_.report_fd, &counts_, sizeof counts_);
    write_all(plan_.report_fd, latencies_.data(), latencies_.size() * sizeof(std::int64_t));
    ::close(plan_.report_fd);
    std::fflush(nullptr);
    ::_exit(0);
  }

  const worker_plan& plan_;
  const protocol& proto_;
  net::io_context ioc_{1};
  net::posix::stream_descriptor control_;
  std::minstd_rand rng_;
  std::vector<subscriber> subs_;
  std::size_t remaining_ = 0;
  worker_counts counts_;
  std::vector<std::int64_t> latencies_;
};

}  // namespace

std::string channel_name(std::string_view prefix, std::size_t index) {
  std::string out(prefix);
  out += '_';
  out += std::to_string(index);
  return out;
}

void run_worker(const worker_plan& plan, const protocol& proto) {
  // Heap-allocated and never freed: the process ends inside run().
  auto* w = new worker(plan, proto);
  w->run();
}

std::optional<worker_report> decode_report(std::string_view bytes) {
  worker_report r;
  if (bytes.size() < sizeof r.counts) return std::nullopt;
  std::memcpy(&r.counts, bytes.data(), sizeof r.counts);
  r.counts.first_error[sizeof r.counts.first_error - 1] = '\0';
  const std::size_t n = r.counts.latency_samples;
  if (bytes.size() != sizeof r.counts + n * sizeof(std::int64_t)) return std::nullopt;
  r.latencies_ns.resize(n);
  std::memcpy(r.latencies_ns.data(), bytes.data() + sizeof r.counts, n * sizeof(std::int64_t));
  return r;
}

}  // namespace eventfeed::bench
