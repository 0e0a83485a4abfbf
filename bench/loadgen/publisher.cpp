#include "loadgen/publisher.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <thread>

#include "loadgen/http_client.hpp"
#include "loadgen/proc_stats.hpp"
#include "loadgen/worker.hpp"

namespace eventfeed::bench {

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
using steady = std::chrono::steady_clock;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch())
      .count();
}

steady::time_point at_ns(std::int64_t ns) {
  return steady::time_point(std::chrono::nanoseconds(ns));
}

// One process's share of the load.
struct publish_plan {
  std::size_t first = 0;                  // first publisher id (global) of this process
  std::size_t count = 0;                  // publishers in this process
  double rate = 0;                        // requests/s of this process; 0: closed loop
  std::uint64_t requests = 0;             // request limit of this process; 0: none
  std::int64_t start_ns = 0, end_ns = 0;  // the window (end 0: until `requests`)
  std::int64_t deadline_ns = 0;           // report by then at the latest
  int report_fd = -1;
};

// A process's counts; trivially copyable, sent as bytes over the report pipe.
struct publish_counts {
  std::uint64_t connected = 0;
  std::uint64_t sent = 0;              // requests sent
  std::uint64_t acked = 0;             // correct acknowledgements
  std::uint64_t acked_in_window = 0;   // ... read before the window's end
  std::uint64_t transport_errors = 0;  // connect failures, resets, timeouts
  std::uint64_t malformed = 0;         // success statuses that do not acknowledge the batch
  std::uint64_t out_of_order = 0;      // positions not past the previous answer's
  std::uint64_t late_sends = 0;        // open loop: sent more than 1 ms after the due time
  std::int64_t max_send_lag_ns = 0;    // open loop: the latest send behind its due time
  std::int64_t last_ack_ns = 0;
  std::array<std::uint32_t, 16> status_codes{};  // other statuses, with counts
  std::array<std::uint64_t, 16> status_counts{};
  std::uint64_t latency_samples = 0;  // how many int64 latencies (ns) follow
  char first_error[200] = {};
};

void write_all(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

class publish_worker {
 public:
  publish_worker(const publish_options& o, const publish_plan& plan, const protocol& proto)
      : o_(o), plan_(plan), proto_(proto) {
    latencies_.reserve(1 << 16);
  }

  [[noreturn]] void run() {
    for (std::size_t j = 0; j < plan_.count; ++j)
      net::co_spawn(ioc_, publisher(j), [this](std::exception_ptr e) {
        if (e) note("publisher stopped by an exception");
        if (--running_ == 0) ioc_.stop();
      });
    running_ = plan_.count;
    net::co_spawn(ioc_, watchdog(), net::detached);
    ioc_.run();
    finish();
  }

 private:
  net::awaitable<void> watchdog() {
    net::steady_timer timer(ioc_, at_ns(plan_.deadline_ns));
    co_await timer.async_wait(use_tuple);
    note("deadline reached with requests in flight");
    finish();
  }

  net::awaitable<void> publisher(std::size_t j) {
    http_connection conn(ioc_.get_executor());
    const std::size_t id = plan_.first + j;
    const std::string channel =
        channel_name(o_.channel_prefix, id % (o_.channels ? o_.channels : o_.connections));
    if (auto ec = co_await conn.connect(o_.endpoint, std::chrono::seconds(5))) {
      ++counts_.transport_errors;
      note("connect: " + ec.message());
      co_return;
    }
    ++counts_.connected;
    net::steady_timer timer(ioc_, at_ns(plan_.start_ns));
    co_await timer.async_wait(use_tuple);

    const bool open = plan_.rate > 0;
    const double slot_ns = open ? 1e9 / plan_.rate : 0;
    std::uint64_t last_position = 0;
    std::uint64_t seq = static_cast<std::uint64_t>(id) << 40;  // unique per publisher
    response res;
    for (std::uint64_t k = 0;; ++k) {
      std::int64_t due = now_ns();
      if (open) {
        const double slot = static_cast<double>(k * plan_.count + j);
        due = plan_.start_ns + static_cast<std::int64_t>(slot * slot_ns);
      }
      if (plan_.end_ns && due >= plan_.end_ns) break;
      if (plan_.requests && sent_total_ >= plan_.requests) break;
      if (open && due > now_ns()) {
        timer.expires_at(at_ns(due));
        co_await timer.async_wait(use_tuple);
      }
      if (!conn.is_open()) {
        if (auto ec = co_await conn.connect(o_.endpoint, std::chrono::seconds(5))) {
          ++counts_.transport_errors;
          note("reconnect: " + ec.message());
          continue;
        }
      }
      const std::int64_t sent = now_ns();
      if (open) {
        counts_.max_send_lag_ns = std::max(counts_.max_send_lag_ns, sent - due);
        if (sent - due > 1'000'000) ++counts_.late_sends;
      }
      const request req = proto_.publish_batch_request(channel, seq, o_.batch, sent);
      seq += o_.batch;
      ++sent_total_;
      ++counts_.sent;
      const auto ec = co_await conn.exchange(req, res, o_.request_timeout);
      const std::int64_t done = now_ns();
      if (ec) {
        ++counts_.transport_errors;
        note("publish: " + ec.message());
        continue;
      }
      publish_ack ack = proto_.parse_publish_ack(res, o_.batch);
      if (!ack.ok) {
        if (ack.malformed)
          ++counts_.malformed;
        else
          count_status(ack.status);
        note(ack.detail);
        continue;
      }
      if (ack.first && *ack.first <= last_position) {
        ++counts_.out_of_order;
        note("positions " + std::to_string(*ack.first) + " not past " +
             std::to_string(last_position) + " on " + channel);
        continue;
      }
      if (ack.last) last_position = *ack.last;
      ++counts_.acked;
      if (!plan_.end_ns || done <= plan_.end_ns) ++counts_.acked_in_window;
      counts_.last_ack_ns = std::max(counts_.last_ack_ns, done);
      latencies_.push_back(done - (open ? due : sent));
    }
    conn.close();
  }

  void count_status(unsigned status) {
    for (std::size_t i = 0; i < counts_.status_codes.size(); ++i) {
      if (counts_.status_codes[i] == status || counts_.status_codes[i] == 0) {
        counts_.status_codes[i] = status;
        ++counts_.status_counts[i];
        return;
      }
    }
    ++counts_.malformed;  // more distinct statuses than slots: still an error
  }

  void note(const std::string& what) {
    if (counts_.first_error[0] != '\0') return;
    std::snprintf(counts_.first_error, sizeof counts_.first_error, "%s", what.c_str());
  }

  [[noreturn]] void finish() {
    counts_.latency_samples = latencies_.size();
    write_all(plan_.report_fd, &counts_, sizeof counts_);
    write_all(plan_.report_fd, latencies_.data(), latencies_.size() * sizeof(std::int64_t));
    ::close(plan_.report_fd);
    std::fflush(nullptr);
    ::_exit(0);
  }

  const publish_options& o_;
  const publish_plan& plan_;
  const protocol& proto_;
  net::io_context ioc_{1};
  std::size_t running_ = 0;
  std::uint64_t sent_total_ = 0;
  publish_counts counts_;
  std::vector<std::int64_t> latencies_;
};

std::string read_until_eof(int fd) {
  std::string bytes;
  char chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    bytes.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return bytes;
}

void sleep_until_ns(std::int64_t ns) {
  const auto t = at_ns(ns);
  if (steady::now() < t) std::this_thread::sleep_until(t);
}

double ms(std::int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

}  // namespace

int run_publish(const publish_options& o, const protocol& proto) {
  if (o.connections == 0 || o.batch == 0) throw std::invalid_argument("nothing to run");
  if (o.duration.count() == 0 && o.count == 0)
    throw std::invalid_argument("publish needs a duration or a count");
  const std::size_t procs = std::clamp<std::size_t>(o.processes, 1, o.connections);
  const std::int64_t started = now_ns();
  // Connecting C sockets takes milliseconds; the window opens after that for everyone at once.
  const std::int64_t start_ns = started + 500'000'000;
  const std::int64_t end_ns =
      o.duration.count() ? start_ns + std::chrono::nanoseconds(o.duration).count() : 0;
  const std::int64_t deadline_ns = started + std::chrono::nanoseconds(o.max_seconds).count();

  std::signal(SIGPIPE, SIG_IGN);
  std::fflush(nullptr);
  std::vector<publish_plan> plans(procs);
  std::vector<pid_t> pids(procs, -1);
  std::vector<int> report_fds(procs, -1);
  for (std::size_t i = 0; i < procs; ++i) {
    int report[2];
    if (::pipe(report) != 0) throw std::runtime_error("pipe failed");
    auto& plan = plans[i];
    plan.first = o.connections * i / procs;
    plan.count = o.connections * (i + 1) / procs - plan.first;
    const double share = static_cast<double>(plan.count) / static_cast<double>(o.connections);
    plan.rate = o.rate * share;
    plan.requests = o.count ? (o.count * (i + 1) / procs - o.count * i / procs) : 0;
    plan.start_ns = start_ns;
    plan.end_ns = end_ns;
    plan.deadline_ns =
        end_ns
            ? std::min(
                  deadline_ns,
                  end_ns +
                      std::chrono::nanoseconds(o.request_timeout + std::chrono::seconds(2)).count())
            : deadline_ns;
    plan.report_fd = report[1];
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      for (std::size_t j = 0; j < i; ++j) ::close(report_fds[j]);
      ::close(report[0]);
      auto* w = new publish_worker(o, plan, proto);  // the process ends inside run()
      w->run();
    }
    ::close(report[1]);
    pids[i] = pid;
    report_fds[i] = report[0];
  }

  // The server's figures over the window.
  sleep_until_ns(start_ns);
  const std::int64_t cpu_before = total_cpu_ns(o.server_pids).value_or(-1);
  const std::int64_t rss_before = total_rss_kib(o.server_pids).value_or(-1);
  const std::int64_t written_before = total_write_bytes(o.server_pids).value_or(-1);
  std::int64_t cpu_after = -1, rss_after = -1, written_after = -1;
  if (end_ns) {
    sleep_until_ns(end_ns);
    cpu_after = total_cpu_ns(o.server_pids).value_or(-1);
    rss_after = total_rss_kib(o.server_pids).value_or(-1);
    written_after = total_write_bytes(o.server_pids).value_or(-1);
  }

  std::vector<std::string> reports(procs);
  for (std::size_t i = 0; i < procs; ++i) reports[i] = read_until_eof(report_fds[i]);
  const std::int64_t collected = now_ns();
  if (!end_ns) {
    cpu_after = total_cpu_ns(o.server_pids).value_or(-1);
    rss_after = total_rss_kib(o.server_pids).value_or(-1);
    written_after = total_write_bytes(o.server_pids).value_or(-1);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
  }

  publish_counts sum;
  std::map<unsigned, std::uint64_t> by_status;
  std::vector<std::int64_t> latencies;
  std::size_t complete = 0;
  std::string first_error;
  for (const auto& bytes : reports) {
    publish_counts c;
    if (bytes.size() < sizeof c) continue;
    std::memcpy(&c, bytes.data(), sizeof c);
    c.first_error[sizeof c.first_error - 1] = '\0';
    if (bytes.size() != sizeof c + c.latency_samples * sizeof(std::int64_t)) continue;
    ++complete;
    const std::size_t at = latencies.size();
    latencies.resize(at + c.latency_samples);
    std::memcpy(latencies.data() + at, bytes.data() + sizeof c,
                c.latency_samples * sizeof(std::int64_t));
    sum.connected += c.connected;
    sum.sent += c.sent;
    sum.acked += c.acked;
    sum.acked_in_window += c.acked_in_window;
    sum.transport_errors += c.transport_errors;
    sum.malformed += c.malformed;
    sum.out_of_order += c.out_of_order;
    sum.late_sends += c.late_sends;
    sum.max_send_lag_ns = std::max(sum.max_send_lag_ns, c.max_send_lag_ns);
    sum.last_ack_ns = std::max(sum.last_ack_ns, c.last_ack_ns);
    for (std::size_t k = 0; k < c.status_codes.size(); ++k)
      if (c.status_codes[k]) by_status[c.status_codes[k]] += c.status_counts[k];
    if (first_error.empty() && c.first_error[0]) first_error = c.first_error;
  }
  const percentiles lat = summarize(latencies);
  std::uint64_t status_errors = 0;
  for (const auto& [status, n] : by_status) status_errors += n;
  const std::uint64_t errors =
      sum.transport_errors + sum.malformed + sum.out_of_order + status_errors;
  const double window_s =
      end_ns ? static_cast<double>(end_ns - start_ns) / 1e9
             : static_cast<double>(std::max<std::int64_t>(sum.last_ack_ns - start_ns, 1)) / 1e9;
  const std::uint64_t counted = end_ns ? sum.acked_in_window : sum.acked;
  const double acks_per_s = static_cast<double>(counted) / window_s;
  const double events_per_s = acks_per_s * static_cast<double>(o.batch);
  const std::int64_t server_cpu = cpu_before >= 0 && cpu_after >= 0 ? cpu_after - cpu_before : -1;
  const double server_cores =
      server_cpu >= 0 ? static_cast<double>(server_cpu) / 1e9 / window_s : -1;
  const double cpu_us_per_event =
      server_cpu >= 0 && counted
          ? static_cast<double>(server_cpu) / 1e3 / static_cast<double>(counted * o.batch)
          : -1;
  const double written_per_event = written_before >= 0 && written_after >= 0 && counted
                                       ? static_cast<double>(written_after - written_before) /
                                             static_cast<double>(counted * o.batch)
                                       : -1;
  const std::int64_t loadgen_cpu = own_cpu_ns();
  const bool ok = complete == procs && errors == 0 && sum.acked == sum.sent && sum.acked > 0 &&
                  sum.connected == o.connections;
  const bool open = o.rate > 0;

  if (!o.quiet) {
    std::printf(
        "eventfeed-loadgen publish: protocol %s, %zu publisher(s) in %zu process(es), batch %zu, "
        "%s, window %.3f s\n",
        std::string(proto.name()).c_str(), o.connections, procs, o.batch,
        open ? ("open loop at " + std::to_string(static_cast<long long>(o.rate)) + " requests/s")
                   .c_str()
             : "closed loop",
        window_s);
    std::printf("  acked:      %llu/%llu requests, %.0f requests/s, %.0f events/s\n",
                static_cast<unsigned long long>(sum.acked),
                static_cast<unsigned long long>(sum.sent), acks_per_s, events_per_s);
    std::printf(
        "  latency:    p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms  (%s -> "
        "ack read, %zu samples)\n",
        ms(lat.p50), ms(lat.p90), ms(lat.p99), ms(lat.p999), ms(lat.max),
        open ? "due time" : "send", lat.count);
    if (open)
      std::printf("  schedule:   %llu sends more than 1 ms late, latest %.3f ms behind\n",
                  static_cast<unsigned long long>(sum.late_sends), ms(sum.max_send_lag_ns));
    std::printf("  errors:     %llu (transport %llu, malformed %llu, out of order %llu",
                static_cast<unsigned long long>(errors),
                static_cast<unsigned long long>(sum.transport_errors),
                static_cast<unsigned long long>(sum.malformed),
                static_cast<unsigned long long>(sum.out_of_order));
    for (const auto& [status, n] : by_status)
      std::printf(", status %u: %llu", status, static_cast<unsigned long long>(n));
    std::printf(")\n");
    if (!o.server_pids.empty())
      std::printf(
          "  server:     CPU %.3f s in the window (%.2f cores, %.2f us per event), RSS %lld -> "
          "%lld KiB, %.0f bytes written to storage per event\n",
          ms(server_cpu) / 1e3, server_cores, cpu_us_per_event, static_cast<long long>(rss_before),
          static_cast<long long>(rss_after), written_per_event);
    std::printf("  loadgen:    CPU %.3f s, %.3f s total\n", ms(loadgen_cpu) / 1e3,
                ms(collected - started) / 1e3);
    if (!first_error.empty()) std::printf("  first error: %s\n", first_error.c_str());
    std::printf("  result:     %s\n", ok ? "OK" : "FAILED");
  }

  boost::json::object by_status_json;
  for (const auto& [status, n] : by_status) by_status_json[std::to_string(status)] = n;
  boost::json::object j{
      {"tool", "eventfeed-loadgen"},
      {"mode", "publish"},
      {"protocol", std::string(proto.name())},
      {"ok", ok},
      {"connections", o.connections},
      {"processes", procs},
      {"batch", o.batch},
      {"loop", open ? "open" : "closed"},
      {"rate_target", o.rate},
      {"window_s", window_s},
      {"sent", sum.sent},
      {"acked", sum.acked},
      {"acked_in_window", counted},
      {"acks_per_s", acks_per_s},
      {"events_per_s", events_per_s},
      {"latency",
       {{"count", lat.count},
        {"p50_us", static_cast<double>(lat.p50) / 1e3},
        {"p90_us", static_cast<double>(lat.p90) / 1e3},
        {"p99_us", static_cast<double>(lat.p99) / 1e3},
        {"p999_us", static_cast<double>(lat.p999) / 1e3},
        {"max_us", static_cast<double>(lat.max) / 1e3},
        {"mean_us", lat.mean / 1e3}}},
      {"late_sends", sum.late_sends},
      {"max_send_lag_us", static_cast<double>(sum.max_send_lag_ns) / 1e3},
      {"errors",
       {{"total", errors},
        {"transport", sum.transport_errors},
        {"malformed", sum.malformed},
        {"out_of_order", sum.out_of_order},
        {"by_status", std::move(by_status_json)}}},
      {"loadgen_cpu_s", ms(loadgen_cpu) / 1e3},
      {"first_error", first_error},
  };
  if (!o.server_pids.empty()) {
    j["server"] = {
        {"cpu_s", ms(server_cpu) / 1e3},        {"cores", server_cores},
        {"cpu_us_per_event", cpu_us_per_event}, {"rss_before_kib", rss_before},
        {"rss_after_kib", rss_after},           {"write_bytes_per_event", written_per_event}};
  }
  std::printf("%s\n", boost::json::serialize(j).c_str());
  std::fflush(stdout);
  return ok ? 0 : 1;
}

}  // namespace eventfeed::bench
