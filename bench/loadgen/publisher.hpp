// bench/loadgen/publisher.hpp: the load generator's publish mode (durable publish throughput and
// acknowledgement latency, docs/benchmarks.md "Store").
//
// Shape. C publishers, each one keep-alive connection with one request in flight, spread over P
// forked processes (publisher i publishes on channel i % channels). Every request carries B
// stamped messages (one event, or the server's batch form). Two loops:
//   closed: each publisher sends its next request as soon as the previous one is acknowledged,
//     for `duration` (or until `count` requests): the server's saturated throughput at C;
//   open: requests are due at fixed times, `rate` per second over all publishers (publisher j of
//     a process with c publishers takes due slots j, j + c, j + 2c, ... of the process's share);
//     a publisher still waiting for its previous answer sends late, and the latency is measured
//     from the due time, not the send time, so a server stall shows up in every request it
//     delayed (no coordinated omission).
// Latency is due (open) or send (closed) time to the time the whole answer was read.
//
// Checks. An acknowledgement counts only if the protocol says it acknowledges exactly the B
// messages sent (eventfeed: 200 with last - first + 1 == B) and its positions are past the
// previous answer's on that connection; anything else is an error, counted by HTTP status
// (transport failures and timeouts apart, malformed 200s apart).
//
// Timing. The coordinator fixes a common start time before forking (processes connect first,
// then wait for it), reads the server's CPU time and RSS from /proc at the start and at the end
// of the window, then collects each process's report through a pipe. Throughput counts the
// acknowledgements read inside the window. Loopback only; bounded by `max_seconds`.
#pragma once

#include <sys/types.h>

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "loadgen/protocol.hpp"

namespace eventfeed::bench {

struct publish_options {
  std::size_t connections = 64;                // C: concurrent publishers
  std::size_t processes = 2;                   // P: load-generator processes (at most C)
  std::size_t batch = 1;                       // B: messages per request
  std::size_t channels = 0;                    // 0: one channel per publisher
  double rate = 0;                             // requests/s over all publishers; 0: closed loop
  std::chrono::milliseconds duration{10'000};  // the measured window (0: until `count`)
  std::uint64_t count = 0;                     // requests over all publishers; 0: no limit
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::seconds max_seconds{180};
  std::vector<pid_t> server_pids;
  boost::asio::ip::tcp::endpoint endpoint;
  std::string channel_prefix;
  bool quiet = false;
};

// Runs the publish load; prints a summary (unless quiet) and one JSON line. Returns 0 if every
// request was acknowledged correctly, 1 otherwise.
int run_publish(const publish_options& opts, const protocol& proto);

}  // namespace eventfeed::bench
