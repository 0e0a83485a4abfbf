// bench/hub_bench.cpp: the cost of waking parked waiters (feed/hub.hpp).
//
// notify() on one stream should cost O(waiters of that stream) and nothing for waiters parked
// on other streams. Each iteration parks the waiters (not timed), times notify() alone (manual
// timing, so parking and the paused set-up never count), then runs the posted wake-ups.
// BM_HubNotifyAndWake also times running the posted completions, i.e. what an I/O thread
// spends to resume every woken poll up to the point where it would read the store.
#include "feed/hub.hpp"

#include <benchmark/benchmark.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace net = boost::asio;
using eventfeed::feed::hub;
using eventfeed::feed::waiter;
using eventfeed::feed::wake_reason;
using clock_type = std::chrono::steady_clock;

std::vector<eventfeed::core::event_ptr> one_event(const std::string& stream) {
  auto ev = std::make_shared<eventfeed::core::event>();
  ev->stream = stream;
  ev->pos = 1;
  ev->type = "bench";
  ev->data = R"({"seq":1})";
  return {std::move(ev)};
}

// Parks one waiter on `stream` whose completion only counts.
void park_one(hub& h, net::io_context& ioc, const std::string& stream, std::size_t& woken) {
  auto w =
      std::make_shared<waiter>(std::vector<std::string>{stream}, eventfeed::core::event_filter{},
                               clock_type::now() + std::chrono::hours(1));
  h.park(w);
  h.async_wait(w, net::bind_executor(ioc, [&woken](wake_reason) { ++woken; }));
}

// Args: {waiters on the notified stream, waiters on other streams (one stream each)}.
void notify_case(benchmark::State& state, bool time_wake) {
  const auto on_stream = static_cast<std::size_t>(state.range(0));
  const auto elsewhere = static_cast<std::size_t>(state.range(1));
  net::io_context ioc(1);
  hub h;
  std::size_t woken = 0;
  for (std::size_t i = 0; i < elsewhere; ++i) park_one(h, ioc, "other:" + std::to_string(i), woken);
  const auto events = one_event("room:bench");
  for (auto _ : state) {
    for (std::size_t i = 0; i < on_stream; ++i) park_one(h, ioc, "room:bench", woken);
    ioc.poll();  // nothing runs yet: no waiter is woken
    const auto t0 = clock_type::now();
    const std::size_t n = h.notify(events);
    if (time_wake) {
      ioc.restart();
      ioc.poll();
    }
    const auto t1 = clock_type::now();
    if (!time_wake) {
      ioc.restart();
      ioc.poll();
    }
    ioc.restart();
    if (n != on_stream) state.SkipWithError("notify woke the wrong number of waiters");
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * on_stream));
  state.counters["waiters_elsewhere"] = static_cast<double>(elsewhere);
  h.shutdown();
  ioc.restart();
  ioc.poll();
}

void BM_HubNotify(benchmark::State& state) {
  notify_case(state, false);
}
void BM_HubNotifyAndWake(benchmark::State& state) {
  notify_case(state, true);
}

BENCHMARK(BM_HubNotify)
    ->ArgNames({"waiters", "elsewhere"})
    ->Args({1, 0})
    ->Args({1'000, 0})
    ->Args({10'000, 0})
    ->Args({1, 10'000})
    ->Args({1'000, 10'000})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_HubNotifyAndWake)
    ->ArgNames({"waiters", "elsewhere"})
    ->Args({1, 0})
    ->Args({1'000, 0})
    ->Args({10'000, 0})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// Parking itself, the cost every long-poll pays once per hold: park + claim (cancel) of one
// waiter on a stream that already has `range(0)` waiters.
void BM_HubParkAndCancel(benchmark::State& state) {
  net::io_context ioc(1);
  hub h;
  std::size_t woken = 0;
  for (std::int64_t i = 0; i < state.range(0); ++i) park_one(h, ioc, "room:bench", woken);
  for (auto _ : state) {
    auto w = std::make_shared<waiter>(std::vector<std::string>{"room:bench"},
                                      eventfeed::core::event_filter{},
                                      clock_type::now() + std::chrono::hours(1));
    h.park(w);
    h.claim(w, wake_reason::cancelled);
  }
  h.shutdown();
  ioc.poll();
}
BENCHMARK(BM_HubParkAndCancel)->ArgName("waiters")->Arg(0)->Arg(10'000);

}  // namespace
