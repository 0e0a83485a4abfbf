// bench/loadgen/worker.hpp: one subscriber process of the load generator.
//
// Lifecycle. The coordinator forks a worker per slice of subscribers (one process holds at most
// a few thousand sockets: this machine caps a process at 20,000 open files). A worker waits for
// one byte on its control pipe ("go"), connects its subscribers (a few lanes in parallel, so the
// server's accept queue is never flooded), and each subscriber then long-polls its channel from
// the protocol's initial cursor, re-polling from the cursor each answer hands back, on the same
// keep-alive connection. A refused poll or a broken connection is counted, backed off with
// jitter (doubling with each failure in a row, up to 32 times) and retried from the same
// cursor; a rejected one (a 4xx: wrong key, wrong path) stops that subscriber, since asking
// again cannot help.
//
// Each message carries its run sequence number and send time (see protocol.hpp). A subscriber
// keeps one bit per expected message: the first copy records a latency sample, a second copy is
// a duplicate, a sequence number outside the run is unexpected. A subscriber that has every
// expected message closes its connection; when all of the worker's subscribers have, or when the
// control pipe says stop (a byte or EOF), or at the worker's deadline, the worker writes its
// report to its report pipe and exits with _exit (no destructors: the process is done).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loadgen/protocol.hpp"

namespace eventfeed::bench {

struct worker_plan {
  std::size_t index = 0;     // which worker (seeds its jitter)
  std::size_t first = 0;     // first subscriber id of this worker
  std::size_t count = 0;     // how many subscribers
  std::size_t channels = 1;  // subscriber i polls channel i % channels
  std::string channel_prefix;
  std::uint64_t messages = 0;               // expected per subscriber; 0: idle (never complete)
  boost::asio::ip::tcp::endpoint endpoint;  // where to subscribe
  std::chrono::milliseconds exchange_timeout{90'000};  // one poll, client side
  std::chrono::steady_clock::time_point deadline;      // report and exit by then at the latest
  std::size_t connect_lanes = 32;                      // connects in flight at once
  int control_fd = -1;                                 // read: "go", then stop (byte or EOF)
  int report_fd = -1;                                  // write: the report, then EOF
};

// A worker's counts; trivially copyable, sent as bytes over the report pipe (same binary).
struct worker_counts {
  std::uint64_t subscribers = 0;
  std::uint64_t connected = 0;         // subscribers whose first connect succeeded
  std::uint64_t polls = 0;             // subscribe requests sent
  std::uint64_t empty_polls = 0;       // holds that ended with nothing (server timeout)
  std::uint64_t deliveries = 0;        // first copies of expected messages
  std::uint64_t duplicates = 0;        // further copies
  std::uint64_t unexpected = 0;        // messages outside the run
  std::uint64_t lost = 0;              // expected messages never delivered
  std::uint64_t incomplete = 0;        // subscribers that lack at least one message
  std::uint64_t refused = 0;           // polls the server refused (503/429/...)
  std::uint64_t errors = 0;            // broken connections, timeouts, unreadable answers
  std::uint64_t rejected = 0;          // subscribers stopped by a 4xx answer (see protocol.hpp)
  std::uint64_t connect_failures = 0;  // failed connects (each retried)
  std::uint64_t gaps = 0;              // answers that said messages were lost to retention
  std::int64_t first_delivery_ns = 0;  // steady_clock; 0: none
  std::int64_t last_delivery_ns = 0;
  std::uint64_t latency_samples = 0;  // how many int64 latencies (ns) follow these counts
  char first_error[200] = {};
};

struct worker_report {
  worker_counts counts;
  std::vector<std::int64_t> latencies_ns;
};

// The name of channel `index` ("<prefix>_<index>": letters, digits and '_' only, which every
// peer accepts in a path).
std::string channel_name(std::string_view prefix, std::size_t index);

// Runs the worker in this (forked) process; never returns.
[[noreturn]] void run_worker(const worker_plan& plan, const protocol& proto);

// Reads what a worker wrote to its report pipe; nullopt if it is truncated.
std::optional<worker_report> decode_report(std::string_view bytes);

}  // namespace eventfeed::bench
