// bench/native_api_bench.cpp: the native API's response path (api/native/native_api.cpp).
//
// render_event: the first render of an event (builds and caches the JSON) against a cached
// one (what the 2nd..Nth woken waiter pays). Poll: the whole GET /v1/streams/{s}/events handler
// (auth, query parsing, store read, body assembly, response object) for an answer of 1 and of
// 100 events already in the store, through the real router, without a socket. The body
// assembly itself (render_poll) is private to native_api.cpp, so the handler is the smallest
// unit that can be timed; BM_RenderEvents100 shows the rendering share.
#include "api/native/native_api.hpp"

#include <benchmark/benchmark.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "http/request_context.hpp"
#include "http/router.hpp"
#include "store/memory/memory_store.hpp"

namespace {

namespace net = boost::asio;
using eventfeed::core::event;
using eventfeed::core::event_ptr;

const std::string bench_data = R"({"seq":12345,"ts":1700000000123456789,"room":"lobby"})";

event_ptr make_event(std::uint64_t pos) {
  auto ev = std::make_shared<event>();
  ev->stream = "room:bench";
  ev->pos = pos;
  ev->time_ms = 1'700'000'000'000;
  ev->type = "message";
  ev->data = bench_data;
  return ev;
}

void BM_RenderEventFirst(benchmark::State& state) {
  constexpr std::size_t batch = 4096;
  std::vector<event_ptr> events;
  std::size_t next = batch;
  for (auto _ : state) {
    if (next == batch) {
      state.PauseTiming();
      events.clear();
      for (std::size_t i = 0; i < batch; ++i) events.push_back(make_event(1'000'000 + i));
      next = 0;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(eventfeed::api::native::render_event(*events[next++]).size());
  }
}
BENCHMARK(BM_RenderEventFirst);

void BM_RenderEventCached(benchmark::State& state) {
  auto ev = make_event(1'000'000);
  eventfeed::api::native::render_event(*ev);
  for (auto _ : state) benchmark::DoNotOptimize(eventfeed::api::native::render_event(*ev).size());
}
BENCHMARK(BM_RenderEventCached);

// What rendering 100 cached events and concatenating them costs (the loop of render_poll).
void BM_RenderEvents100Cached(benchmark::State& state) {
  std::vector<event_ptr> events;
  for (std::uint64_t i = 1; i <= 100; ++i) events.push_back(make_event(i));
  for (const auto& ev : events) eventfeed::api::native::render_event(*ev);
  for (auto _ : state) {
    std::size_t size = 48;
    for (const auto& ev : events) size += eventfeed::api::native::render_event(*ev).size() + 1;
    std::string body;
    body.reserve(size);
    for (const auto& ev : events) body += eventfeed::api::native::render_event(*ev);
    benchmark::DoNotOptimize(body.data());
  }
}
BENCHMARK(BM_RenderEvents100Cached);

// The poll handler answering at once with `range(0)` events that are in the store.
void BM_PollHandler(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  eventfeed::core::system_clock clock;
  eventfeed::store::memory::memory_store store({}, &clock);
  eventfeed::feed::engine feed(store, clock);
  auto ring = std::make_shared<eventfeed::api::common::key_ring>();
  eventfeed::core::principal bench_key;
  bench_key.name = "bench";
  bench_key.publish.emplace_back("*");
  bench_key.read.emplace_back("*");
  ring->add("bench-key-0001", std::move(bench_key));
  eventfeed::api::common::key_directory keys(ring);
  eventfeed::http::router routes;
  eventfeed::api::native::register_routes(routes, feed, keys);

  std::vector<eventfeed::core::new_event> batch;
  for (std::size_t i = 0; i < 200; ++i) batch.push_back({"room:bench", "message", bench_data});
  store.append(std::move(batch), [](auto) {});
  const std::uint64_t after = 200 - n;

  eventfeed::http::request req{eventfeed::http::bhttp::verb::get,
                               "/v1/streams/room:bench/events?after=" + std::to_string(after) +
                                   "&timeout=0&limit=" + std::to_string(n),
                               11};
  req.set(eventfeed::http::bhttp::field::authorization, "Bearer bench-key-0001");
  net::io_context ioc(1);
  std::size_t body_bytes = 0;
  for (auto _ : state) {
    std::string_view path = "/v1/streams/room:bench/events";
    auto match = routes.find(req.method(), path);
    auto owned = std::make_unique<eventfeed::http::request>(req);
    std::unique_ptr<eventfeed::http::response> res;
    eventfeed::http::request_context ctx(owned, std::move(match.params), "bench-1", routes, nullptr,
                                         res);
    net::co_spawn(ioc, (*match.h)(ctx),
                  [&](std::exception_ptr) { body_bytes = res ? res->body().size() : 0; });
    ioc.run();
    ioc.restart();
  }
  state.counters["body_bytes"] = static_cast<double>(body_bytes);
  if (body_bytes < n * bench_data.size()) state.SkipWithError("the poll did not answer its events");
}
BENCHMARK(BM_PollHandler)->ArgName("events")->Arg(1)->Arg(100);

}  // namespace
