#include "store/memory/memory_store.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace eventfeed::store::memory {
namespace {

using namespace std::chrono_literals;

core::new_event ev(std::string stream, std::string type = "t", std::string data = "{}") {
  return {std::move(stream), std::move(type), std::move(data)};
}

// The memory store answers inline; these helpers make that a plain return value.
core::result<std::vector<core::event_ptr>> append(memory_store& s,
                                                  std::vector<core::new_event> events) {
  std::optional<core::result<std::vector<core::event_ptr>>> out;
  s.append(std::move(events),
           [&](core::result<std::vector<core::event_ptr>> r) { out.emplace(std::move(r)); });
  EXPECT_TRUE(out.has_value()) << "memory_store::append must call back inline";
  return std::move(*out);
}

// Appends and expects success, for setting up a scenario.
void put(memory_store& s, std::vector<core::new_event> events) {
  EXPECT_TRUE(append(s, std::move(events)));
}

core::position append_one(memory_store& s, std::string stream, std::string type = "t") {
  auto r = append(s, {ev(std::move(stream), std::move(type))});
  EXPECT_TRUE(r);
  return r ? (*r)[0]->pos : 0;
}

read_result read(memory_store& s, std::string_view stream, core::position after,
                 std::size_t limit = 1000) {
  auto r = s.try_read(stream, after, limit);
  EXPECT_TRUE(r.has_value()) << "the memory store always answers the fast path";
  EXPECT_TRUE(*r);
  return r->value();
}

stream_info info(memory_store& s, std::string_view stream) {
  auto r = s.try_info(stream);
  EXPECT_TRUE(r.has_value());
  EXPECT_TRUE(*r);
  return r->value();
}

std::vector<core::position> positions(const read_result& r) {
  std::vector<core::position> out;
  for (const auto& e : r.events) out.push_back(e->pos);
  return out;
}

retention_policy keep_last(std::size_t n) {
  retention_policy p;
  p.fallback.max_events = n;
  return p;
}

TEST(MemoryStore, AppendAssignsIncreasingPositionsAndTime) {
  core::manual_clock clock(5'000);
  memory_store s({}, &clock);
  auto r = append(s, {ev("a", "x", R"({"k":1})"), ev("a", "y")});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0]->pos, 1u);
  EXPECT_EQ((*r)[1]->pos, 2u);
  EXPECT_EQ((*r)[0]->stream, "a");
  EXPECT_EQ((*r)[0]->type, "x");
  EXPECT_EQ((*r)[0]->data, R"({"k":1})");
  EXPECT_EQ((*r)[0]->time_ms, 5'000);
  EXPECT_EQ((*r)[1]->type, "y");
  EXPECT_EQ(s.backend_name(), "memory");
}

TEST(MemoryStore, OneSequenceIsSharedAcrossStreams) {
  memory_store s;
  auto r = append(s, {ev("a"), ev("{g}b"), ev("a"), ev("c")});
  ASSERT_TRUE(r);
  std::vector<core::position> got;
  for (const auto& e : *r) got.push_back(e->pos);
  EXPECT_EQ(got, (std::vector<core::position>{1, 2, 3, 4}));
  EXPECT_EQ(append_one(s, "{g}b"), 5u);
  EXPECT_EQ(positions(read(s, "a", 0)), (std::vector<core::position>{1, 3}));
  EXPECT_EQ(positions(read(s, "{g}b", 0)), (std::vector<core::position>{2, 5}));
  EXPECT_EQ(positions(read(s, "c", 0)), (std::vector<core::position>{4}));
}

TEST(MemoryStore, ReadReturnsEventsAfterTheCursorUpToLimit) {
  memory_store s;
  for (int i = 0; i < 10; ++i) append_one(s, "a");
  auto all = read(s, "a", 0);
  EXPECT_EQ(all.events.size(), 10u);
  EXPECT_EQ(all.head, 10u);
  EXPECT_FALSE(all.gap);
  EXPECT_EQ(positions(read(s, "a", 7)), (std::vector<core::position>{8, 9, 10}));
  EXPECT_EQ(positions(read(s, "a", 2, 3)), (std::vector<core::position>{3, 4, 5}));
  EXPECT_TRUE(read(s, "a", 10).events.empty());
  EXPECT_TRUE(read(s, "a", 1'000).events.empty());
  EXPECT_TRUE(read(s, "a", 0, 0).events.empty());
}

TEST(MemoryStore, ReadWithACursorBetweenOwnPositionsSkipsOtherStreams) {
  memory_store s;
  put(s, {ev("a"), ev("b"), ev("a"), ev("b"), ev("a")});  // a: 1 3 5, b: 2 4
  EXPECT_EQ(positions(read(s, "a", 2)), (std::vector<core::position>{3, 5}));
  EXPECT_EQ(positions(read(s, "a", 4, 1)), (std::vector<core::position>{5}));
}

TEST(MemoryStore, ReadsShareTheEventObject) {
  memory_store s;
  auto r = append(s, {ev("a")});
  ASSERT_TRUE(r);
  EXPECT_EQ(read(s, "a", 0).events.at(0).get(), (*r)[0].get());
}

TEST(MemoryStore, UnknownStreamIsEmptyNotAnError) {
  memory_store s;
  auto r = read(s, "nope", 0);
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(r.head, 0u);
  EXPECT_FALSE(r.gap);
  auto i = info(s, "nope");
  EXPECT_EQ(i.head, 0u);
  EXPECT_EQ(i.oldest, 0u);
  EXPECT_EQ(i.retained, 0u);
}

TEST(MemoryStore, InfoReportsHeadOldestAndCount) {
  memory_store s;
  put(s, {ev("a"), ev("b"), ev("a")});
  auto a = info(s, "a");
  EXPECT_EQ(a.head, 3u);
  EXPECT_EQ(a.oldest, 1u);
  EXPECT_EQ(a.retained, 2u);
  auto b = info(s, "b");
  EXPECT_EQ(b.head, 2u);
  EXPECT_EQ(b.oldest, 2u);
  EXPECT_EQ(b.retained, 1u);
}

TEST(MemoryStore, CallbackFormsAnswerLikeTheFastPath) {
  memory_store s;
  put(s, {ev("a"), ev("a")});
  std::optional<core::result<read_result>> r;
  s.read("a", 1, 10, [&](core::result<read_result> x) { r.emplace(std::move(x)); });
  ASSERT_TRUE(r && *r);
  EXPECT_EQ(positions(r->value()), (std::vector<core::position>{2}));
  std::optional<core::result<stream_info>> i;
  s.info("a", [&](core::result<stream_info> x) { i.emplace(std::move(x)); });
  ASSERT_TRUE(i && *i);
  EXPECT_EQ(i->value().head, 2u);
}

TEST(MemoryStore, RetentionByCountKeepsTheNewest) {
  memory_store s(keep_last(3));
  for (int i = 0; i < 5; ++i) append_one(s, "a");
  EXPECT_EQ(positions(read(s, "a", 0)), (std::vector<core::position>{3, 4, 5}));
  auto i = info(s, "a");
  EXPECT_EQ(i.head, 5u);
  EXPECT_EQ(i.oldest, 3u);
  EXPECT_EQ(i.retained, 3u);
}

TEST(MemoryStore, RetentionByCountAppliesWithinOneBatch) {
  memory_store s(keep_last(2));
  auto r = append(s, {ev("a"), ev("a"), ev("a"), ev("a")});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 4u);  // the publisher still learns every position
  EXPECT_EQ(positions(read(s, "a", 0)), (std::vector<core::position>{3, 4}));
}

TEST(MemoryStore, GapOnlyForCursorsBeforeTrimmedEvents) {
  memory_store s(keep_last(2));
  for (int i = 0; i < 5; ++i) append_one(s, "a");  // 1..5, keeps 4 5, trimmed through 3
  auto from_start = read(s, "a", 0);
  EXPECT_TRUE(from_start.gap);
  EXPECT_EQ(positions(from_start), (std::vector<core::position>{4, 5}));
  EXPECT_TRUE(read(s, "a", 2).gap);
  // A cursor at the last trimmed event has missed nothing.
  auto at_edge = read(s, "a", 3);
  EXPECT_FALSE(at_edge.gap);
  EXPECT_EQ(positions(at_edge), (std::vector<core::position>{4, 5}));
  EXPECT_FALSE(read(s, "a", 4).gap);
  EXPECT_FALSE(read(s, "a", 5).gap);
}

TEST(MemoryStore, GapIgnoresPositionsThatBelongToOtherStreams) {
  // a: 1 3 5 7; b: 2 4 6. Keeping 2 trims a's 1 and 3, b's 2. A cursor at 4 is older than a's
  // oldest retained event (5) but has missed nothing of a: no gap. A cursor at 2 missed 3: gap.
  memory_store s(keep_last(2));
  put(s, {ev("a"), ev("b"), ev("a"), ev("b"), ev("a"), ev("b"), ev("a")});
  EXPECT_EQ(info(s, "a").oldest, 5u);
  EXPECT_FALSE(read(s, "a", 4).gap);
  EXPECT_TRUE(read(s, "a", 2).gap);
  EXPECT_TRUE(read(s, "b", 0).gap);
  EXPECT_FALSE(read(s, "b", 3).gap);
  EXPECT_EQ(positions(read(s, "b", 3)), (std::vector<core::position>{4, 6}));
}

TEST(MemoryStore, RetentionRulesByPatternFirstMatchWinsThenFallback) {
  retention_policy p;
  retention_rule vip;
  vip.pattern = core::stream_pattern("room:vip*");
  vip.max_events = 3;
  retention_rule rooms;
  rooms.pattern = core::stream_pattern("room:*");
  rooms.max_events = 1;
  p.rules = {vip, rooms};
  p.fallback.max_events = 2;
  memory_store s(p);
  for (int i = 0; i < 5; ++i) {
    put(s, {ev("room:vip1"), ev("room:plain"), ev("user:1")});
  }
  EXPECT_EQ(info(s, "room:vip1").retained, 3u);
  EXPECT_EQ(info(s, "room:plain").retained, 1u);
  EXPECT_EQ(info(s, "user:1").retained, 2u);
}

TEST(MemoryStore, RetentionByAgeTrimsOnlyOlderEvents) {
  core::manual_clock clock;
  retention_policy p;
  p.fallback.max_age = 10s;
  memory_store s(p, &clock);
  append_one(s, "a");  // t = 0
  clock.advance(5s);
  append_one(s, "a");  // t = 5 s
  append_one(s, "b");  // t = 5 s

  clock.advance(5s);  // the first is exactly 10 s old: kept
  s.trim_expired();
  EXPECT_EQ(info(s, "a").retained, 2u);

  clock.advance(1ms);
  s.trim_expired();
  auto a = read(s, "a", 0);
  EXPECT_EQ(positions(a), (std::vector<core::position>{2}));
  EXPECT_TRUE(a.gap);
  EXPECT_FALSE(read(s, "a", 1).gap);
  EXPECT_EQ(info(s, "b").retained, 1u);

  clock.advance(1h);
  s.trim_expired();
  auto gone = info(s, "a");
  EXPECT_EQ(gone.retained, 0u);
  EXPECT_EQ(gone.oldest, 0u);
  EXPECT_EQ(gone.head, 2u);  // the head outlives the events
  EXPECT_TRUE(read(s, "a", 1).gap);
  EXPECT_FALSE(read(s, "a", 2).gap);
  EXPECT_EQ(append_one(s, "a"), 4u);  // positions are never reused
}

TEST(MemoryStore, RetentionByAgeFollowsTheRules) {
  core::manual_clock clock;
  retention_policy p;
  retention_rule brief;
  brief.pattern = core::stream_pattern("tmp:*");
  brief.max_age = 1s;
  p.rules = {brief};
  p.fallback.max_age = 1h;
  memory_store s(p, &clock);
  put(s, {ev("tmp:x"), ev("keep")});
  clock.advance(2s);
  s.trim_expired();
  EXPECT_EQ(info(s, "tmp:x").retained, 0u);
  EXPECT_EQ(info(s, "keep").retained, 1u);
}

TEST(MemoryStore, CloseRefusesAppendsWithShuttingDown) {
  memory_store s;
  append_one(s, "a");
  s.close();
  s.close();  // idempotent
  auto r = append(s, {ev("a")});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, core::errc::shutting_down);
  // What was stored can still be read.
  EXPECT_EQ(read(s, "a", 0).events.size(), 1u);
}

std::optional<core::error> put_record(memory_store& s, std::string kind, std::string key,
                                      std::string value) {
  std::optional<std::optional<core::error>> out;
  s.put_record(std::move(kind), std::move(key), std::move(value),
               [&](std::optional<core::error> e) { out.emplace(std::move(e)); });
  EXPECT_TRUE(out.has_value()) << "memory_store::put_record must call back inline";
  return out ? *out : std::nullopt;
}

TEST(MemoryStore, RecordsArePutReadListedAndErasedByKindAndKey) {
  memory_store s;
  EXPECT_EQ(s.get_record("queue", "q1"), std::nullopt);
  EXPECT_FALSE(put_record(s, "queue", "q2", "two"));
  EXPECT_FALSE(put_record(s, "queue", "q1", "one"));
  EXPECT_FALSE(put_record(s, "queuex", "q1", "other kind"));
  EXPECT_FALSE(put_record(s, "queu", "q1", "prefix kind"));
  EXPECT_EQ(s.get_record("queue", "q1"), "one");
  EXPECT_FALSE(put_record(s, "queue", "q1", "uno"));  // overwrites
  EXPECT_EQ(s.get_record("queue", "q1"), "uno");
  using list = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(s.list_records("queue"), (list{{"q1", "uno"}, {"q2", "two"}}));
  EXPECT_EQ(s.list_records("queuex"), (list{{"q1", "other kind"}}));
  EXPECT_TRUE(s.list_records("nothing").empty());

  std::optional<std::optional<core::error>> erased;
  s.erase_record("queue", "q1", [&](std::optional<core::error> e) { erased.emplace(e); });
  ASSERT_TRUE(erased.has_value());
  EXPECT_FALSE(*erased);
  EXPECT_EQ(s.get_record("queue", "q1"), std::nullopt);
  EXPECT_EQ(s.list_records("queue"), (list{{"q2", "two"}}));
  EXPECT_EQ(s.get_record("queuex", "q1"), "other kind");
}

}  // namespace
}  // namespace eventfeed::store::memory
