#include "loadgen/coordinator.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <csignal>
#include <cstdio>
#include <functional>
#include <stdexcept>

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

struct worker_proc {
  pid_t pid = -1;
  int control_fd = -1;  // our end: write "go"; close to stop
  int report_fd = -1;   // our end: read the report until EOF
  std::string bytes;
  bool eof = false;
};

// What the coordinator saw; turned into the summary and the JSON line.
struct observations {
  std::size_t baseline_parked = 0;  // server waiters before our subscribers
  std::size_t last_parked = 0;      // the last count the server gave
  std::size_t parked_peak = 0;      // the count when the run's polls were (or were to be) parked
  bool all_parked = false;
  bool probe_supported = true;
  std::int64_t park_ns = 0;  // "go" to all parked
  std::int64_t rss_idle_kib = -1, rss_parked_kib = -1, rss_after_kib = -1;
  std::int64_t cpu_before_ns = -1, cpu_after_ns = -1;
  std::int64_t first_publish_ns = 0, last_publish_ns = 0;
  std::uint64_t rounds = 0, publishes = 0, publish_errors = 0, probes = 0;
  std::uint64_t publishes_acked = 0;  // what parked_query::published tells the server
  std::vector<std::int64_t> publish_rtt_ns;
  bool reports_complete = false;
  std::string first_error;
};

class coordinator {
 public:
  coordinator(const run_options& o, const protocol& p, std::vector<worker_proc>& workers)
      : o_(o),
        proto_(p),
        workers_(workers),
        probe_conn_(ioc_.get_executor()),
        reports_timer_(ioc_) {
    deadline_ = steady::now() + o.max_seconds;
  }

  observations run() {
    std::exception_ptr failure;
    net::co_spawn(ioc_, main(), [&](std::exception_ptr e) {
      failure = e;
      ioc_.stop();
    });
    ioc_.run();
    if (failure) std::rethrow_exception(failure);
    return std::move(obs_);
  }

 private:
  net::awaitable<void> main() {
    for (auto& w : workers_) net::co_spawn(ioc_, read_report(w), net::detached);
    const std::size_t n = o_.subscribers;

    auto base = co_await probe();
    if (!base) {
      obs_.probe_supported = proto_.parked_request(query()).has_value();
      note("cannot read the server's parked count before the run");
    }
    obs_.baseline_parked = base.value_or(0);
    obs_.rss_idle_kib = total_rss_kib(o_.server_pids).value_or(-1);

    for (auto& w : workers_) send_byte(w, 'g');
    const std::int64_t go = now_ns();
    obs_.all_parked = co_await wait_count(
        [&](std::size_t parked) { return parked >= obs_.baseline_parked + n; }, deadline_);
    obs_.park_ns = now_ns() - go;
    obs_.parked_peak = obs_.last_parked;
    obs_.rss_parked_kib = total_rss_kib(o_.server_pids).value_or(-1);

    if (o_.mode == run_options::run_mode::idle) {
      if (obs_.all_parked && o_.hold.count() > 0) {
        net::steady_timer hold(ioc_, std::min(deadline_, steady::now() + o_.hold));
        co_await hold.async_wait(use_tuple);
        // Memory is read again at the end of the hold: what a poll costs once it has been
        // parked a while (eventfeed, for one, starts its disconnect watch ~0.2-0.45 s in).
        if (auto kib = total_rss_kib(o_.server_pids)) obs_.rss_parked_kib = *kib;
      }
      stop_workers();
      obs_.reports_complete = co_await wait_reports(steady::now() + std::chrono::seconds(10));
      // Wait until the server has let go of every poll, then see what memory it kept.
      co_await wait_count([&](std::size_t parked) { return parked <= obs_.baseline_parked; },
                          std::min(deadline_, steady::now() + o_.settle), false);
      obs_.rss_after_kib = total_rss_kib(o_.server_pids).value_or(-1);
      co_return;
    }

    if (obs_.all_parked) co_await publish_rounds();
    obs_.reports_complete =
        co_await wait_reports(std::min(deadline_, steady::now() + std::chrono::seconds(o_.drain)));
    obs_.cpu_after_ns = total_cpu_ns(o_.server_pids).value_or(-1);
    if (!obs_.reports_complete) {
      stop_workers();
      obs_.reports_complete = co_await wait_reports(steady::now() + std::chrono::seconds(10));
    }
  }

  net::awaitable<void> publish_rounds() {
    const std::size_t lanes = std::max<std::size_t>(1, std::min(o_.publishers, o_.channels));
    for (std::size_t i = 0; i < lanes; ++i) {
      publishers_.push_back(std::make_unique<http_connection>(ioc_.get_executor()));
      if (auto ec =
              co_await publishers_.back()->connect(o_.publish_endpoint, std::chrono::seconds(5))) {
        note("publisher connect: " + ec.message());
        co_return;
      }
    }
    obs_.cpu_before_ns = total_cpu_ns(o_.server_pids).value_or(-1);
    for (std::uint64_t k = 0; k < o_.messages; ++k) {
      if (k > 0 && o_.wait_parked) {
        const bool parked = co_await wait_count(
            [&](std::size_t p) { return p >= obs_.baseline_parked + o_.subscribers; },
            std::min(deadline_, steady::now() + std::chrono::seconds(30)));
        if (!parked) {
          note("round " + std::to_string(k) + ": subscribers did not all park again");
          co_return;
        }
      }
      if (obs_.first_publish_ns == 0) obs_.first_publish_ns = now_ns();
      co_await publish_round(k);
      ++obs_.rounds;
    }
    obs_.last_publish_ns = now_ns();
  }

  // One message to every channel, spread over the publisher connections.
  net::awaitable<void> publish_round(std::uint64_t k) {
    std::size_t running = publishers_.size();
    net::steady_timer done(ioc_, steady::time_point::max());
    for (std::size_t lane = 0; lane < publishers_.size(); ++lane) {
      net::co_spawn(ioc_, publish_lane(lane, k), [&](std::exception_ptr) {
        if (--running == 0) done.cancel();
      });
    }
    co_await done.async_wait(use_tuple);
  }

  net::awaitable<void> publish_lane(std::size_t lane, std::uint64_t k) {
    http_connection& conn = *publishers_[lane];
    response res;
    for (std::size_t ch = lane; ch < o_.channels; ch += publishers_.size()) {
      if (!conn.is_open()) {
        if (auto ec = co_await conn.connect(o_.publish_endpoint, std::chrono::seconds(5))) {
          ++obs_.publish_errors;
          note("publisher reconnect: " + ec.message());
          continue;
        }
      }
      const stamp s{k, now_ns()};
      const request req = proto_.publish_request(channel_name(o_.channel_prefix, ch), s);
      const auto ec = co_await conn.exchange(req, res, std::chrono::seconds(10));
      ++obs_.publishes;
      std::string detail;
      if (ec) {
        ++obs_.publish_errors;
        note("publish: " + ec.message());
      } else if (!proto_.publish_accepted(res, detail)) {
        ++obs_.publish_errors;
        note("publish refused: " + detail);
      } else {
        ++obs_.publishes_acked;
        obs_.publish_rtt_ns.push_back(now_ns() - s.sent_ns);
      }
    }
  }

  parked_query query() const { return {o_.channel_prefix, obs_.publishes_acked}; }

  // Asks the server how many polls it holds parked; nullopt if it cannot tell.
  net::awaitable<std::optional<std::size_t>> probe() {
    auto req = proto_.parked_request(query());
    if (!req) co_return std::nullopt;
    ++obs_.probes;
    if (!probe_conn_.is_open()) {
      if (auto ec = co_await probe_conn_.connect(o_.parked_endpoint, std::chrono::seconds(5))) {
        note("probe connect: " + ec.message());
        co_return std::nullopt;
      }
    }
    response res;
    if (auto ec = co_await probe_conn_.exchange(*req, res, std::chrono::seconds(5))) {
      note("probe: " + ec.message());
      co_return std::nullopt;
    }
    co_return proto_.parse_parked(res);
  }

  // Probes until `done(parked)` holds, backing off from 100 us to 2 ms between probes, or
  // until `until`. Returns whether it held.
  // `workers_matter`: give up as soon as every worker has reported (nobody left to park).
  net::awaitable<bool> wait_count(std::function<bool(std::size_t)> done, steady::time_point until,
                                  bool workers_matter = true) {
    auto delay = std::chrono::microseconds(100);
    net::steady_timer timer(ioc_);
    for (;;) {
      if (auto parked = co_await probe()) {
        obs_.last_parked = *parked;
        if (done(*parked)) co_return true;
      } else if (!obs_.probe_supported) {
        co_return false;
      }
      if (steady::now() >= until || (workers_matter && all_reported())) co_return false;
      timer.expires_after(delay);
      co_await timer.async_wait(use_tuple);
      delay = std::min<std::chrono::microseconds>(delay * 2, std::chrono::milliseconds(2));
    }
  }

  net::awaitable<void> read_report(worker_proc& w) {
    net::posix::stream_descriptor pipe(ioc_, w.report_fd);
    std::vector<char> chunk(1 << 16);
    for (;;) {
      auto [ec, n] = co_await pipe.async_read_some(net::buffer(chunk), use_tuple);
      w.bytes.append(chunk.data(), n);
      if (ec) break;
    }
    w.eof = true;
    w.report_fd = -1;  // closed with `pipe`
    if (all_reported()) reports_timer_.cancel();
  }

  bool all_reported() const {
    return std::all_of(workers_.begin(), workers_.end(),
                       [](const worker_proc& x) { return x.eof; });
  }

  net::awaitable<bool> wait_reports(steady::time_point until) {
    if (all_reported()) co_return true;
    reports_timer_.expires_at(until);
    co_await reports_timer_.async_wait(use_tuple);
    co_return all_reported();
  }

  void send_byte(worker_proc& w, char byte) {
    if (w.control_fd < 0) return;
    if (::write(w.control_fd, &byte, 1) != 1) note("cannot signal a worker");
  }

  void stop_workers() {
    for (auto& w : workers_) {
      if (w.control_fd >= 0) ::close(w.control_fd);
      w.control_fd = -1;
    }
  }

  void note(const std::string& what) {
    if (obs_.first_error.empty()) obs_.first_error = what;
  }

  const run_options& o_;
  const protocol& proto_;
  std::vector<worker_proc>& workers_;
  net::io_context ioc_{1};
  http_connection probe_conn_;
  net::steady_timer reports_timer_;
  std::vector<std::unique_ptr<http_connection>> publishers_;
  steady::time_point deadline_;
  observations obs_;
};

double ms(std::int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

boost::json::object percentiles_json(const percentiles& p) {
  auto us = [](std::int64_t ns) { return static_cast<double>(ns) / 1e3; };
  return {{"count", p.count},       {"p50_us", us(p.p50)},   {"p90_us", us(p.p90)},
          {"p99_us", us(p.p99)},    {"p999_us", us(p.p999)}, {"max_us", us(p.max)},
          {"mean_us", p.mean / 1e3}};
}

}  // namespace

int run_load(const run_options& o, const protocol& proto) {
  if (o.subscribers == 0 || o.channels == 0) throw std::invalid_argument("nothing to run");
  const std::size_t per = std::max<std::size_t>(1, o.max_connections_per_worker);
  const std::size_t workers =
      std::min(o.subscribers, std::max(o.workers, (o.subscribers + per - 1) / per));
  const bool fanout = o.mode == run_options::run_mode::fanout;
  const auto started = steady::now();
  const auto deadline = started + o.max_seconds;

  // Fork the workers first, while this process has no thread and no io_context yet.
  std::signal(SIGPIPE, SIG_IGN);
  std::fflush(nullptr);
  std::vector<worker_proc> procs(workers);
  for (std::size_t i = 0; i < workers; ++i) {
    int control[2], report[2];
    if (::pipe(control) != 0 || ::pipe(report) != 0) throw std::runtime_error("pipe failed");
    worker_plan plan;
    plan.index = i;
    plan.first = o.subscribers * i / workers;
    plan.count = o.subscribers * (i + 1) / workers - plan.first;
    plan.channels = o.channels;
    plan.channel_prefix = o.channel_prefix;
    plan.messages = fanout ? o.messages : 0;
    plan.endpoint = o.subscribe_endpoint;
    plan.exchange_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
        o.poll_timeout + std::chrono::seconds(15));
    plan.deadline = deadline;
    plan.connect_lanes = o.connect_lanes;
    plan.control_fd = control[0];
    plan.report_fd = report[1];
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      // Keep no other worker's pipe ends open, or their EOFs would never arrive.
      for (std::size_t j = 0; j < i; ++j) {
        ::close(procs[j].control_fd);
        ::close(procs[j].report_fd);
      }
      ::close(control[1]);
      ::close(report[0]);
      run_worker(plan, proto);
    }
    ::close(control[0]);
    ::close(report[1]);
    procs[i] = {pid, control[1], report[0], {}, false};
  }

  coordinator c(o, proto, procs);
  observations obs = c.run();

  // Reap what we forked; a worker that never reported is killed (by its pid, ours alone).
  for (auto& w : procs) {
    if (!w.eof) ::kill(w.pid, SIGKILL);
    if (w.control_fd >= 0) ::close(w.control_fd);
    int status = 0;
    ::waitpid(w.pid, &status, 0);
  }
  const double elapsed_s = std::chrono::duration<double>(steady::now() - started).count();

  worker_counts sum;
  std::vector<std::int64_t> latencies;
  std::size_t reports = 0;
  std::string worker_error;
  for (auto& w : procs) {
    auto r = decode_report(w.bytes);
    if (!r) continue;
    ++reports;
    const auto& c2 = r->counts;
    sum.subscribers += c2.subscribers;
    sum.connected += c2.connected;
    sum.polls += c2.polls;
    sum.empty_polls += c2.empty_polls;
    sum.deliveries += c2.deliveries;
    sum.duplicates += c2.duplicates;
    sum.unexpected += c2.unexpected;
    sum.lost += c2.lost;
    sum.incomplete += c2.incomplete;
    sum.refused += c2.refused;
    sum.errors += c2.errors;
    sum.rejected += c2.rejected;
    sum.connect_failures += c2.connect_failures;
    sum.gaps += c2.gaps;
    if (c2.first_delivery_ns &&
        (sum.first_delivery_ns == 0 || c2.first_delivery_ns < sum.first_delivery_ns))
      sum.first_delivery_ns = c2.first_delivery_ns;
    sum.last_delivery_ns = std::max(sum.last_delivery_ns, c2.last_delivery_ns);
    if (worker_error.empty() && c2.first_error[0]) worker_error = c2.first_error;
    latencies.insert(latencies.end(), r->latencies_ns.begin(), r->latencies_ns.end());
  }
  const percentiles lat = summarize(latencies);
  const percentiles rtt = summarize(obs.publish_rtt_ns);
  const std::uint64_t expected = fanout ? o.subscribers * o.messages : 0;
  const double deliver_s =
      sum.last_delivery_ns > obs.first_publish_ns && obs.first_publish_ns > 0
          ? static_cast<double>(sum.last_delivery_ns - obs.first_publish_ns) / 1e9
          : 0.0;
  const double per_s = deliver_s > 0 ? static_cast<double>(sum.deliveries) / deliver_s : 0.0;
  const std::int64_t server_cpu_ns =
      obs.cpu_before_ns >= 0 && obs.cpu_after_ns >= 0 ? obs.cpu_after_ns - obs.cpu_before_ns : -1;
  const double cpu_us_per_delivery =
      server_cpu_ns >= 0 && sum.deliveries > 0
          ? static_cast<double>(server_cpu_ns) / 1e3 / static_cast<double>(sum.deliveries)
          : -1.0;
  // Per poll the server really held: when not all parked, the count it gave at the time.
  const std::size_t parked = obs.all_parked
                                 ? o.subscribers
                                 : obs.parked_peak - std::min(obs.parked_peak, obs.baseline_parked);
  const bool rss_known = obs.rss_idle_kib >= 0 && obs.rss_parked_kib >= 0 && parked > 0;
  const double rss_per_poll_bytes =
      rss_known ? static_cast<double>(obs.rss_parked_kib - obs.rss_idle_kib) * 1024.0 /
                      static_cast<double>(parked)
                : -1.0;
  const std::int64_t loadgen_cpu_ns = own_cpu_ns();

  bool ok =
      obs.all_parked && reports == workers && sum.connected == o.subscribers && sum.rejected == 0;
  if (fanout) {
    ok = ok && obs.rounds == o.messages && obs.publish_errors == 0 && sum.deliveries == expected &&
         sum.lost == 0 && sum.duplicates == 0 && sum.unexpected == 0 && sum.incomplete == 0;
  }
  const std::string first_error = !obs.first_error.empty() ? obs.first_error : worker_error;

  if (!o.quiet) {
    std::printf(
        "eventfeed-loadgen %s: protocol %s, %zu subscribers on %zu channel(s), %zu worker "
        "process(es)",
        fanout ? "fanout" : "idle", std::string(proto.name()).c_str(), o.subscribers, o.channels,
        workers);
    if (fanout)
      std::printf(", %llu message(s) per channel, %zu publisher connection(s)%s",
                  static_cast<unsigned long long>(o.messages),
                  std::max<std::size_t>(1, std::min(o.publishers, o.channels)),
                  o.wait_parked ? "" : ", no wait for parked");
    std::printf("\n  parked:     %zu/%zu %s in %.3f s (server waiters before the run: %zu)\n",
                obs.parked_peak - std::min(obs.parked_peak, obs.baseline_parked), o.subscribers,
                obs.all_parked ? "reached" : "NOT reached", ms(obs.park_ns) / 1e3,
                obs.baseline_parked);
    if (fanout) {
      std::printf(
          "  delivered:  %llu/%llu, lost %llu, duplicates %llu, unexpected %llu, "
          "incomplete subscribers %llu, gaps %llu\n",
          static_cast<unsigned long long>(sum.deliveries),
          static_cast<unsigned long long>(expected), static_cast<unsigned long long>(sum.lost),
          static_cast<unsigned long long>(sum.duplicates),
          static_cast<unsigned long long>(sum.unexpected),
          static_cast<unsigned long long>(sum.incomplete),
          static_cast<unsigned long long>(sum.gaps));
      std::printf(
          "  latency:    p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f "
          "ms  (publish sent -> subscriber read, %zu samples)\n",
          ms(lat.p50), ms(lat.p90), ms(lat.p99), ms(lat.p999), ms(lat.max), lat.count);
      std::printf("  throughput: %.0f deliveries/s over %.3f s (%s)\n", per_s, deliver_s,
                  o.wait_parked ? "lockstep: each round waits for every subscriber to park"
                                : "rounds back to back");
      std::printf(
          "  publish:    %llu requests, %llu errors, round trip p50 %.3f ms p99 %.3f ms "
          "max %.3f ms\n",
          static_cast<unsigned long long>(obs.publishes),
          static_cast<unsigned long long>(obs.publish_errors), ms(rtt.p50), ms(rtt.p99),
          ms(rtt.max));
    }
    if (!o.server_pids.empty()) {
      std::printf(
          "  server:     RSS idle %lld KiB, with polls parked %lld KiB (%+.0f bytes per "
          "parked poll)",
          static_cast<long long>(obs.rss_idle_kib), static_cast<long long>(obs.rss_parked_kib),
          rss_per_poll_bytes);
      if (obs.rss_after_kib >= 0)
        std::printf(", after they closed %lld KiB", static_cast<long long>(obs.rss_after_kib));
      if (server_cpu_ns >= 0)
        std::printf("; CPU %.3f s during publishing = %.2f us per delivery",
                    ms(server_cpu_ns) / 1e3, cpu_us_per_delivery);
      std::printf("\n");
    }
    std::printf(
        "  loadgen:    CPU %.3f s (coordinator + workers), polls %llu, empty %llu, "
        "refused %llu, errors %llu, rejected %llu, connect failures %llu, probes %llu, %.3f s "
        "total\n",
        ms(loadgen_cpu_ns) / 1e3, static_cast<unsigned long long>(sum.polls),
        static_cast<unsigned long long>(sum.empty_polls),
        static_cast<unsigned long long>(sum.refused), static_cast<unsigned long long>(sum.errors),
        static_cast<unsigned long long>(sum.rejected),
        static_cast<unsigned long long>(sum.connect_failures),
        static_cast<unsigned long long>(obs.probes), elapsed_s);
    if (!first_error.empty()) std::printf("  first error: %s\n", first_error.c_str());
    std::printf("  result:     %s\n", ok ? "OK" : "FAILED");
  }

  boost::json::object j{
      {"tool", "eventfeed-loadgen"},
      {"mode", fanout ? "fanout" : "idle"},
      {"protocol", std::string(proto.name())},
      {"ok", ok},
      {"subscribers", o.subscribers},
      {"channels", o.channels},
      {"workers", workers},
      {"all_parked", obs.all_parked},
      {"parked", parked},
      {"park_s", ms(obs.park_ns) / 1e3},
      {"baseline_parked", obs.baseline_parked},
      {"connected", sum.connected},
      {"polls", sum.polls},
      {"empty_polls", sum.empty_polls},
      {"refused", sum.refused},
      {"errors", sum.errors},
      {"rejected", sum.rejected},
      {"connect_failures", sum.connect_failures},
      {"probes", obs.probes},
      {"elapsed_s", elapsed_s},
      {"loadgen_cpu_s", ms(loadgen_cpu_ns) / 1e3},
      {"first_error", first_error},
  };
  if (fanout) {
    j["messages"] = o.messages;
    j["wait_parked"] = o.wait_parked;
    j["rounds"] = obs.rounds;
    j["expected"] = expected;
    j["deliveries"] = sum.deliveries;
    j["lost"] = sum.lost;
    j["duplicates"] = sum.duplicates;
    j["unexpected"] = sum.unexpected;
    j["incomplete_subscribers"] = sum.incomplete;
    j["gaps"] = sum.gaps;
    j["latency"] = percentiles_json(lat);
    j["deliveries_per_s"] = per_s;
    j["publishes"] = obs.publishes;
    j["publish_errors"] = obs.publish_errors;
    j["publish_rtt"] = percentiles_json(rtt);
  }
  if (!o.server_pids.empty()) {
    boost::json::object s{{"rss_idle_kib", obs.rss_idle_kib},
                          {"rss_parked_kib", obs.rss_parked_kib},
                          {"rss_per_parked_poll_bytes", rss_per_poll_bytes}};
    if (obs.rss_after_kib >= 0) s["rss_after_close_kib"] = obs.rss_after_kib;
    if (server_cpu_ns >= 0) {
      s["cpu_s"] = ms(server_cpu_ns) / 1e3;
      s["cpu_us_per_delivery"] = cpu_us_per_delivery;
    }
    j["server"] = std::move(s);
  }
  std::printf("%s\n", boost::json::serialize(j).c_str());
  std::fflush(stdout);
  return ok ? 0 : 1;
}

}  // namespace eventfeed::bench
