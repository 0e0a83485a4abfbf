#include "core/event.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/value.hpp>
#include <thread>
#include <vector>

namespace eventfeed::core {
namespace {

TEST(RenderCache, BuildsOncePerForm) {
  render_cache cache;
  int builds = 0;
  const std::string& first = cache.get_or_build(render_form::native, [&] {
    ++builds;
    return std::string("native");
  });
  const std::string& again = cache.get_or_build(render_form::native, [&] {
    ++builds;
    return std::string("other");
  });
  EXPECT_EQ(builds, 1);
  EXPECT_EQ(first, "native");
  EXPECT_EQ(&first, &again);
}

TEST(RenderCache, FormsHaveSeparateSlots) {
  render_cache cache;
  EXPECT_EQ(cache.get_or_build(render_form::native, [] { return std::string("n"); }), "n");
  EXPECT_EQ(cache.get_or_build(render_form::zulip, [] { return std::string("z"); }), "z");
  EXPECT_EQ(cache.get_or_build(render_form::box, [] { return std::string("b"); }), "b");
  EXPECT_EQ(cache.get_or_build(render_form::chaturbate, [] { return std::string("c"); }), "c");
  EXPECT_EQ(cache.get_or_build(render_form::native, [] { return std::string("x"); }), "n");
}

TEST(RenderCache, ConcurrentBuildersAgreeOnOneValue) {
  // Several threads race for an empty slot, each offering a different string; all of them must
  // come back with the same object, the one that won.
  constexpr int threads = 3;
  for (int round = 0; round < 20; ++round) {
    event ev;
    std::atomic<int> ready{0};
    std::vector<const std::string*> seen(threads, nullptr);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        ready.fetch_add(1);
        while (ready.load() < threads) std::this_thread::yield();
        seen[t] = &ev.cache.get_or_build(render_form::zulip,
                                         [t] { return "built-by-" + std::to_string(t); });
      });
    }
    for (auto& th : pool) th.join();
    for (int t = 1; t < threads; ++t) EXPECT_EQ(seen[t], seen[0]);
    EXPECT_EQ(ev.cache.get_or_build(render_form::zulip, [] { return std::string("late"); }),
              *seen[0]);
    EXPECT_EQ(seen[0]->rfind("built-by-", 0), 0u);
  }
}

TEST(DataCache, ParsesOnFirstUseAndKeepsOneTree) {
  event ev;
  ev.data = R"({"amount":5,"who":{"name":"ann"}})";
  const boost::json::value& first = parsed_data(ev);
  ASSERT_TRUE(first.is_object());
  EXPECT_EQ(first.at("who").at("name").as_string(), "ann");
  ev.data = R"({"changed":true})";  // events are immutable; this shows the tree is not rebuilt
  EXPECT_EQ(&parsed_data(ev), &first);
  EXPECT_FALSE(parsed_data(ev).as_object().contains("changed"));
}

TEST(DataCache, TextThatDoesNotParseIsKeptAsNull) {
  for (const char* text : {"", "{", "{\"a\":}", "nope"}) {
    event ev;
    ev.data = text;
    const boost::json::value& v = parsed_data(ev);
    EXPECT_TRUE(v.is_null()) << text;
    EXPECT_EQ(&parsed_data(ev), &v) << text;  // kept: parsed once, like a good one
  }
}

}  // namespace
}  // namespace eventfeed::core
