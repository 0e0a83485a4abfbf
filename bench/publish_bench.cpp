// bench/publish_bench.cpp: parsing publish bodies (core/publish.hpp), which every
// POST /v1/streams/{s}/events pays before the store sees the events: JSON parse, validation,
// and re-serialising `data` to compact text.
#include "api/native/publish_body.hpp"

#include <benchmark/benchmark.h>

#include <string>

namespace {

std::string one_event_body(std::size_t data_bytes) {
  std::string filler(data_bytes, 'x');
  return R"({"type":"message","data":{"seq":12345,"ts":1700000000123456789,"text":")" + filler +
         R"("}})";
}

std::string batch_body(std::size_t events) {
  std::string body = R"({"events":[)";
  for (std::size_t i = 0; i < events; ++i) {
    if (i) body += ',';
    body += R"({"type":"message","data":{"seq":)" + std::to_string(i) +
            R"(,"ts":1700000000123456789,"text":"hello"}})";
  }
  return body + "]}";
}

void BM_ParsePublishOne(benchmark::State& state) {
  const std::string body = one_event_body(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto r = eventfeed::api::native::parse_stream_publish("room:bench", body);
    if (!r) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ParsePublishOne)->ArgName("text_bytes")->Arg(16)->Arg(1024);

void BM_ParsePublishBatch(benchmark::State& state) {
  const std::string body = batch_body(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto r = eventfeed::api::native::parse_stream_publish("room:bench", body);
    if (!r) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ParsePublishBatch)->ArgName("events")->Arg(100);

}  // namespace
