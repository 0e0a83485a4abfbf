// bench/loadgen/proc_stats.hpp: what /proc says about another process (the server under test)
// and percentiles of latency samples.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <sys/types.h>

namespace eventfeed::bench {

// VmRSS of `pid` in KiB (/proc/<pid>/status), or nullopt if the process is gone.
std::optional<std::int64_t> rss_kib(pid_t pid);

// utime + stime of `pid`, every thread included, in nanoseconds (/proc/<pid>/stat; the kernel
// counts in clock ticks, 10 ms at USER_HZ=100), or nullopt if the process is gone.
std::optional<std::int64_t> cpu_ns(pid_t pid);

// Bytes `pid` caused to be written to storage (/proc/<pid>/io write_bytes: counted when pages
// are dirtied, so a WAL append shows at once), or nullopt if unreadable.
std::optional<std::int64_t> write_bytes(pid_t pid);

// Sums over several processes (a server made of several); nullopt if any is gone.
std::optional<std::int64_t> total_rss_kib(const std::vector<pid_t>& pids);
std::optional<std::int64_t> total_cpu_ns(const std::vector<pid_t>& pids);
std::optional<std::int64_t> total_write_bytes(const std::vector<pid_t>& pids);

// CPU time (user + system) of this process and of its reaped children, in nanoseconds.
std::int64_t own_cpu_ns();

struct percentiles {
  std::size_t count = 0;
  std::int64_t p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
  double mean = 0;
};

// Nearest-rank percentiles of `samples` (reordered in place). All zero when empty.
percentiles summarize(std::vector<std::int64_t>& samples);

}  // namespace eventfeed::bench
