// core/clock.hpp: the one source of time for the feed and the stores, so that tests can drive
// deadlines and retention with a fake clock instead of sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace eventfeed::core {

class clock {
 public:
  virtual ~clock() = default;
  // Monotonic time, for deadlines.
  virtual std::chrono::steady_clock::time_point steady_now() const = 0;
  // Wall-clock time in milliseconds since the Unix epoch, for event timestamps and retention.
  virtual std::int64_t wall_ms() const = 0;
};

class system_clock final : public clock {
 public:
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::now();
  }
  std::int64_t wall_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that moves only when told to. Thread-safe.
class manual_clock final : public clock {
 public:
  explicit manual_clock(std::int64_t wall_ms_start = 1'700'000'000'000) : wall_(wall_ms_start) {}
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(steady_.load()));
  }
  std::int64_t wall_ms() const override { return wall_.load(); }
  void advance(std::chrono::nanoseconds d) {
    steady_ += d.count();
    wall_ += std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  }

 private:
  std::atomic<std::int64_t> steady_{1'000'000'000};
  std::atomic<std::int64_t> wall_;
};

}  // namespace eventfeed::core
