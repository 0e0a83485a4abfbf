// bench/loadgen/coordinator.hpp: one load-generator run, from fork to report.
//
// Modes.
//   fanout: N subscribers over M channels (subscriber i on channel i % M) in P worker
//     processes; K rounds; in each round the coordinator first waits until the server holds
//     all N polls parked (it asks the server, see protocol::parked_request; no fixed sleeps),
//     then publishes one stamped message to every channel (over C publisher connections) and
//     goes on to the next round. Every subscriber must receive each of the K messages of its
//     channel exactly once; latency is the subscriber's receive time minus the stamp.
//   idle: N polls parked over M channels and held for `hold`: the server's RSS before, with
//     them parked, and after they closed, for memory per parked poll.
// With `wait_parked` off, fanout publishes the rounds back to back (throughput, not latency).
//
// Bounds. Everything is loopback-only, bounded by `max_seconds` overall (workers carry the same
// deadline and report by it), and the coordinator reaps only the processes it forked.
//
// Server figures come from /proc of the pids given (`server_pids`): VmRSS (KiB) and
// utime+stime. The load generator shares the machine's cores with the server, so its own CPU
// time is reported too.
#pragma once

#include <sys/types.h>

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "loadgen/protocol.hpp"

namespace eventfeed::bench {

struct run_options {
  enum class run_mode { fanout, idle };
  run_mode mode = run_mode::fanout;
  std::size_t subscribers = 1000;
  std::size_t channels = 1;
  std::uint64_t messages = 100;  // rounds (fanout)
  std::size_t workers = 0;       // 0: as few as the per-process socket budget allows
  std::size_t publishers = 4;    // publisher connections (at most one per channel)
  std::size_t max_connections_per_worker = 5'000;
  std::size_t connect_lanes = 32;  // connects in flight per worker
  bool wait_parked = true;
  std::chrono::seconds poll_timeout{60};  // the server-side hold asked for
  std::chrono::milliseconds hold{0};      // idle: how long to hold the parked polls
  // idle: the longest wait, after the polls closed, for the server to count them gone.
  std::chrono::milliseconds settle{10'000};
  std::chrono::seconds drain{10};         // fanout: how long after the last publish to wait
  std::chrono::seconds max_seconds{180};  // the whole run
  std::vector<pid_t> server_pids;
  boost::asio::ip::tcp::endpoint subscribe_endpoint;
  boost::asio::ip::tcp::endpoint publish_endpoint;
  boost::asio::ip::tcp::endpoint parked_endpoint;
  std::string channel_prefix;
  bool quiet = false;  // only the JSON line
};

// Runs one load; prints a human summary (unless quiet) and one JSON line on stdout. Returns 0
// if every check passed (all parked, every message delivered exactly once), 1 otherwise.
int run_load(const run_options& opts, const protocol& proto);

}  // namespace eventfeed::bench
