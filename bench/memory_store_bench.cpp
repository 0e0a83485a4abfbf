// bench/memory_store_bench.cpp: the in-memory store (store/memory/memory_store.hpp): append of
// one event at steady state (the stream at its retention cap, so every append also trims one),
// and the fast-path read a poll makes (try_read) of the newest 1 or 100 events.
#include "store/memory/memory_store.hpp"

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

namespace {

using eventfeed::store::memory::memory_store;

eventfeed::store::retention_policy capped(std::size_t max_events) {
  eventfeed::store::retention_policy p;
  p.fallback.max_events = max_events;
  return p;
}

void fill(memory_store& store, const std::string& stream, std::size_t n) {
  std::vector<eventfeed::core::new_event> batch;
  for (std::size_t i = 0; i < n; ++i)
    batch.push_back({stream, "message", R"({"seq":1,"ts":1700000000123456789})"});
  store.append(std::move(batch), [](auto) {});
}

void BM_MemoryStoreAppend(benchmark::State& state) {
  eventfeed::core::system_clock clock;
  memory_store store(capped(10'000), &clock);
  fill(store, "room:bench", 10'000);
  std::size_t appended = 0;
  for (auto _ : state) {
    std::vector<eventfeed::core::new_event> one;
    one.push_back({"room:bench", "message", R"({"seq":1,"ts":1700000000123456789})"});
    store.append(std::move(one), [&](auto r) { appended += r ? 1 : 0; });
  }
  if (appended != static_cast<std::size_t>(state.iterations()))
    state.SkipWithError("append failed");
}
BENCHMARK(BM_MemoryStoreAppend);

// try_read of the newest `range(0)` events of a 10,000-event stream, among 1,000 streams.
void BM_MemoryStoreTryRead(benchmark::State& state) {
  eventfeed::core::system_clock clock;
  memory_store store(capped(10'000), &clock);
  for (int s = 0; s < 1'000; ++s) fill(store, "room:" + std::to_string(s), 10);
  fill(store, "room:bench", 10'000);
  const auto head = store.try_info("room:bench")->value().head;
  const auto n = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    auto r = store.try_read("room:bench", head - n, 100);
    if (!r || !*r || (*r)->events.size() != n) state.SkipWithError("read failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_MemoryStoreTryRead)->ArgName("events")->Arg(0)->Arg(1)->Arg(100);

}  // namespace
