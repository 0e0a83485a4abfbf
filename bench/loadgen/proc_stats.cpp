#include "loadgen/proc_stats.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <string>

namespace eventfeed::bench {

namespace {

// The whole of a small /proc file, or nullopt if it cannot be read (the process is gone).
std::optional<std::string> read_proc(pid_t pid, const char* name) {
  const std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (text.empty()) return std::nullopt;
  return text;
}

}  // namespace

std::optional<std::int64_t> rss_kib(pid_t pid) {
  auto text = read_proc(pid, "status");
  if (!text) return std::nullopt;
  const auto at = text->find("\nVmRSS:");
  if (at == std::string::npos) return std::nullopt;
  return std::strtoll(text->c_str() + at + 7, nullptr, 10);
}

std::optional<std::int64_t> cpu_ns(pid_t pid) {
  auto text = read_proc(pid, "stat");
  if (!text) return std::nullopt;
  // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
  const auto close = text->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  // After ')': field 3 (state) comes first, so utime (14) and stime (15) are the 12th and 13th.
  const char* p = text->c_str() + close + 1;
  std::int64_t utime = 0, stime = 0;
  for (int field = 3; field <= 15; ++field) {
    while (*p == ' ') ++p;
    const long long v = std::strtoll(p, nullptr, 10);
    if (field == 14) utime = v;
    if (field == 15) stime = v;
    while (*p != ' ' && *p != '\0') ++p;
    if (*p == '\0') return std::nullopt;
  }
  const long hz = ::sysconf(_SC_CLK_TCK);
  return (utime + stime) * (1'000'000'000 / hz);
}

std::optional<std::int64_t> write_bytes(pid_t pid) {
  auto text = read_proc(pid, "io");
  if (!text) return std::nullopt;
  const auto at = text->find("\nwrite_bytes:");
  if (at == std::string::npos) return std::nullopt;
  return std::strtoll(text->c_str() + at + 13, nullptr, 10);
}

std::optional<std::int64_t> total_write_bytes(const std::vector<pid_t>& pids) {
  std::int64_t sum = 0;
  for (pid_t p : pids) {
    auto v = write_bytes(p);
    if (!v) return std::nullopt;
    sum += *v;
  }
  return sum;
}

std::optional<std::int64_t> total_rss_kib(const std::vector<pid_t>& pids) {
  std::int64_t sum = 0;
  for (pid_t p : pids) {
    auto v = rss_kib(p);
    if (!v) return std::nullopt;
    sum += *v;
  }
  return sum;
}

std::optional<std::int64_t> total_cpu_ns(const std::vector<pid_t>& pids) {
  std::int64_t sum = 0;
  for (pid_t p : pids) {
    auto v = cpu_ns(p);
    if (!v) return std::nullopt;
    sum += *v;
  }
  return sum;
}

std::int64_t own_cpu_ns() {
  auto ns = [](const rusage& r) {
    return (static_cast<std::int64_t>(r.ru_utime.tv_sec) + r.ru_stime.tv_sec) * 1'000'000'000 +
           (static_cast<std::int64_t>(r.ru_utime.tv_usec) + r.ru_stime.tv_usec) * 1'000;
  };
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  return ns(self) + ns(children);
}

percentiles summarize(std::vector<std::int64_t>& samples) {
  percentiles out;
  out.count = samples.size();
  if (samples.empty()) return out;
  std::sort(samples.begin(), samples.end());
  auto rank = [&](double q) {
    const auto k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(samples.size())));
    return samples[std::min(samples.size() - 1, k == 0 ? 0 : k - 1)];
  };
  out.p50 = rank(0.50);
  out.p90 = rank(0.90);
  out.p99 = rank(0.99);
  out.p999 = rank(0.999);
  out.max = samples.back();
  out.mean =
      std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(samples.size());
  return out;
}

}  // namespace eventfeed::bench
