// tests/unit/store/store_contract_test.cpp: the promises of store/store.hpp, run against every
// backend.
//
// Each TYPED_TEST below is one promise, run once per backend as
// StoreContract/<Backend>.<Behaviour>. A backend joins the suite with a small traits struct and an
// entry in `backends` at the end of the traits:
//
//   static constexpr std::string_view name;  // its backend_name(), and its name in test names
//   static constexpr bool durable;           // keeps events and records across a reopen; when
//                                            // false the reopen tests are skipped
//   static constexpr bool one_sequence;      // numbers every stream from one dense sequence
//                                            // 1, 2, 3, ... (both backends do; store.hpp only
//                                            // promises a sequence per `{tag}`, with holes)
//   std::unique_ptr<store> open(const retention_policy&, const core::clock&);
//       // a store on this struct's data; called again after the previous store was destroyed,
//       // it opens the same data again (a reopen)
//
// Each test gets a fresh traits object, so fresh data. What only one backend promises (sqlite's
// in-memory tails, its refusals at open and its directory lock; memory's inline answers) stays in
// that backend's own suite.
//
// Answers may come inline or on a store thread: every call goes through store_calls.hpp, which
// waits on a future. Time is the fixture's manual_clock. Retention by age is applied by
// trim_expired, which a backend may do in bounded steps and not at every call (sqlite runs at most
// one step per second of its clock), so the tests call it, advance the clock and call it again
// until what they expect holds, a bounded number of times (trim_until). To know that a step has
// taken effect they rely on writes being ordered: a write issued after trim_expired completes
// after the step it queued (settle).
#include "store/store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "store/memory/memory_store.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store_calls.hpp"

namespace eventfeed::store {
namespace {

using namespace std::chrono_literals;
using calls::positions;
using position_list = std::vector<core::position>;
using record_list = std::vector<std::pair<std::string, std::string>>;

// ---- The backends ----

struct memory_backend {
  static constexpr std::string_view name = "memory";
  static constexpr bool durable = false;
  static constexpr bool one_sequence = true;
  std::unique_ptr<store> open(const retention_policy& retention, const core::clock& clock) {
    return std::make_unique<memory::memory_store>(retention, &clock);
  }
};

struct sqlite_backend {
  static constexpr std::string_view name = "sqlite";
  static constexpr bool durable = true;
  static constexpr bool one_sequence = true;
  std::unique_ptr<store> open(const retention_policy& retention, const core::clock& clock) {
    sqlite::options o;
    o.data_dir = dir.path();
    o.retention = retention;
    return std::make_unique<sqlite::sqlite_store>(std::move(o), &clock);
  }
  calls::scratch_directory dir;
};

using backends = ::testing::Types<memory_backend, sqlite_backend>;

struct backend_names {
  template <class Backend>
  static std::string GetName(int) {
    return std::string(Backend::name);
  }
};

// ---- Helpers ----

// One line per event and the read's head and gap, so that two answers compare in one EXPECT_EQ
// and a difference shows where it is.
std::string describe(const std::vector<core::event_ptr>& events) {
  std::ostringstream out;
  for (const auto& e : events)
    out << e->pos << ' ' << e->stream << ' ' << e->type << ' ' << e->data << " @" << e->time_ms
        << '\n';
  return out.str();
}

std::string describe(const read_result& r) {
  return "head " + std::to_string(r.head) + (r.gap ? " gap\n" : "\n") + describe(r.events);
}

std::string describe(const stream_info& i) {
  return "head " + std::to_string(i.head) + " oldest " + std::to_string(i.oldest) + " retained " +
         std::to_string(i.retained);
}

// The answer of a callback form (read, info), which must come and succeed, checked against the
// fast path's (try_read, try_info), which may decline but otherwise must answer the same.
template <class T>
T agreed(std::optional<core::result<T>> fast, core::result<T> answer) {
  EXPECT_TRUE(answer) << (answer ? "" : answer.err().message);
  if (!answer) return {};
  if (fast) {
    EXPECT_TRUE(*fast) << "the fast path failed where the callback form answered";
    if (*fast) {
      EXPECT_EQ(describe(fast->value()), describe(*answer)) << "the fast path answers otherwise";
    }
  }
  return std::move(answer).value();
}

retention_policy keep_last(std::size_t n) {
  retention_policy p;
  p.fallback.max_events = n;
  return p;
}

retention_policy keep_for(std::chrono::milliseconds age) {
  retention_policy p;
  p.fallback.max_age = age;
  return p;
}

retention_rule rule(std::string glob) {
  retention_rule r;
  r.pattern = core::stream_pattern(std::move(glob));
  return r;
}

template <class Backend>
class StoreContract : public ::testing::Test {
 protected:
  // Opens a store with `retention` on this test's data (closing the open one first).
  store& open(retention_policy retention = {}) {
    retention_ = std::move(retention);
    return reopen();
  }

  // Destroys the store and opens the same data again, with the same retention.
  store& reopen() {
    store_.reset();
    store_ = backend_.open(retention_, clock_);
    return *store_;
  }

  store& s() { return *store_; }

  std::vector<core::event_ptr> append(std::vector<core::new_event> events) {
    return calls::append_ok(s(), std::move(events));
  }

  position_list append_n(const std::string& stream, int n) {
    return positions(append(calls::numbered(stream, n)));
  }

  core::position append_one(const std::string& stream) {
    auto stored = append({{stream, "t", "{}"}});
    return stored.empty() ? 0 : stored.front()->pos;
  }

  // Reads with the callback form and with the fast path, and checks they agree.
  read_result read(const std::string& stream, core::position after, std::size_t limit = 1000) {
    auto fast = s().try_read(stream, after, limit);
    return agreed(std::move(fast), calls::read(s(), stream, after, limit));
  }

  // The newest `limit` events, with the callback form and the fast path, which must agree.
  read_result read_last(const std::string& stream, std::size_t limit) {
    auto fast = s().try_read_last(stream, limit);
    return agreed(std::move(fast), calls::read_last(s(), stream, limit));
  }

  stream_info info(const std::string& stream) {
    auto fast = s().try_info(stream);
    return agreed(std::move(fast), calls::info(s(), stream));
  }

  std::size_t retained(const std::string& stream) { return info(stream).retained; }

  // Returns once the writes issued before it, and the trim step a trim_expired call queued, have
  // taken effect. The write is the erase of a record that does not exist: it changes nothing.
  void settle() { EXPECT_FALSE(calls::erase_record(s(), "store-contract", "settle")); }

  // One trim_expired call, and its effect. A backend may skip a call (sqlite does within a second
  // of its last step): a test that must know a step ran checks that an event just past its age
  // is gone.
  void trim_now() {
    s().trim_expired();
    settle();
  }

  // Applies retention by age until `expected()` holds; between tries the clock moves a second.
  // At most five tries, so the clock moves at most 4 s: ages in the tests keep more margin.
  template <class Expected>
  [[nodiscard]] bool trim_until(Expected expected) {
    for (int i = 0; i < 5; ++i) {
      if (i > 0) clock_.advance(1s);
      trim_now();
      if (expected()) return true;
    }
    return false;
  }

  // `pos`, newly assigned to a stream whose head was `head` while `last` was the highest position
  // assigned anywhere: above the head (never reused), and with one sequence the very next one.
  static void expect_next_position(core::position pos, core::position head, core::position last) {
    EXPECT_GT(pos, head);
    if (Backend::one_sequence) {
      EXPECT_EQ(pos, last + 1);
    }
  }

  // Destroyed in reverse: the store first, then the clock it reads and the data it lives in.
  Backend backend_;
  core::manual_clock clock_;
  retention_policy retention_;
  std::unique_ptr<store> store_;
};

TYPED_TEST_SUITE(StoreContract, backends, backend_names);

// Why the reopen tests skip a backend that is not durable.
constexpr const char* keeps_nothing = " keeps nothing across a reopen";

// ---- Appends and positions ----

TYPED_TEST(StoreContract, NamesItsBackend) {
  EXPECT_EQ(this->open().backend_name(), TypeParam::name);
}

TYPED_TEST(StoreContract, AppendStampsEventsInTheOrderGivenWithTheClock) {
  this->open();
  auto first = this->append({{"a", "x", R"({"k":1})"}, {"a", "y", "{}"}});
  ASSERT_EQ(first.size(), 2u);
  EXPECT_LT(first[0]->pos, first[1]->pos);
  EXPECT_EQ(first[0]->stream, "a");
  EXPECT_EQ(first[0]->type, "x");
  EXPECT_EQ(first[0]->data, R"({"k":1})");
  EXPECT_EQ(first[1]->type, "y");
  for (const auto& e : first) EXPECT_EQ(e->time_ms, this->clock_.wall_ms());

  this->clock_.advance(1500ms);
  auto second = this->append({{"a", "z", "{}"}});
  ASSERT_EQ(second.size(), 1u);
  EXPECT_GT(second[0]->pos, first[1]->pos);
  EXPECT_EQ(second[0]->time_ms, this->clock_.wall_ms());

  // Reads give back exactly what the appends answered.
  first.push_back(second[0]);
  EXPECT_EQ(describe(this->read("a", 0).events), describe(first));
}

TYPED_TEST(StoreContract, OneAppendMayHoldEventsOfSeveralStreams) {
  this->open();
  auto stored = this->append(
      {{"{g}a", "x", "{}"}, {"{g}b", "y", R"({"k":1})"}, {"{g}a", "z", "{}"}, {"c", "w", "{}"}});
  ASSERT_EQ(stored.size(), 4u);
  const std::vector<std::string> streams = {"{g}a", "{g}b", "{g}a", "c"};
  for (std::size_t i = 0; i < stored.size(); ++i) EXPECT_EQ(stored[i]->stream, streams[i]);
  EXPECT_EQ(stored[1]->data, R"({"k":1})");
  // Streams of one {tag} share a sequence, numbered in the order given.
  EXPECT_LT(stored[0]->pos, stored[1]->pos);
  EXPECT_LT(stored[1]->pos, stored[2]->pos);

  auto a = this->read("{g}a", 0);
  EXPECT_EQ(describe(a.events), describe({stored[0], stored[2]}));
  EXPECT_EQ(a.head, stored[2]->pos);
  EXPECT_FALSE(a.gap);
  auto b = this->read("{g}b", 0);
  EXPECT_EQ(describe(b.events), describe({stored[1]}));
  EXPECT_EQ(b.head, stored[1]->pos);
  EXPECT_EQ(describe(this->read("c", 0).events), describe({stored[3]}));
}

TYPED_TEST(StoreContract, OneSequenceNumbersEveryStreamFromOne) {
  if (!TypeParam::one_sequence) {
    GTEST_SKIP() << TypeParam::name << " has several sequences";
  }
  this->open();
  EXPECT_EQ(positions(this->append(
                {{"a", "t", "{}"}, {"{g}b", "t", "{}"}, {"a", "t", "{}"}, {"c", "t", "{}"}})),
            (position_list{1, 2, 3, 4}));
  EXPECT_EQ(this->append_one("{g}b"), 5u);
  EXPECT_EQ(positions(this->read("a", 0)), (position_list{1, 3}));
  EXPECT_EQ(positions(this->read("{g}b", 0)), (position_list{2, 5}));
  EXPECT_EQ(positions(this->read("c", 0)), (position_list{4}));
}

TYPED_TEST(StoreContract, ConcurrentAppendsLoseNothingAndNeverShareAPosition) {
  this->open();
  constexpr int threads = 8, per_thread = 200;
  std::atomic<int> acknowledged{0};
  std::vector<std::thread> publishers;
  for (int t = 0; t < threads; ++t)
    publishers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i)
        if (calls::append_ok(this->s(), {{"s" + std::to_string(t % 3), "t", "{}"}}).size() == 1)
          ++acknowledged;
    });
  for (auto& p : publishers) p.join();
  EXPECT_EQ(acknowledged.load(), threads * per_thread);

  std::set<core::position> seen;
  for (int k = 0; k < 3; ++k) {
    auto got = positions(this->read("s" + std::to_string(k), 0, 10'000));
    EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
    for (auto p : got) EXPECT_TRUE(seen.insert(p).second) << "position " << p << " twice";
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(threads * per_thread));
  if (TypeParam::one_sequence) {
    EXPECT_EQ(*seen.rbegin(), static_cast<core::position>(threads * per_thread));
  }
}

// ---- Reads and info ----

TYPED_TEST(StoreContract, ReadsEventsAfterTheCursorInOrderUpToTheLimit) {
  this->open();
  const auto p = this->append_n("a", 10);
  auto all = this->read("a", 0);
  EXPECT_EQ(positions(all), p);
  EXPECT_EQ(all.head, p[9]);
  EXPECT_FALSE(all.gap);
  EXPECT_EQ(positions(this->read("a", p[6])), (position_list{p[7], p[8], p[9]}));
  EXPECT_EQ(positions(this->read("a", p[1], 3)), (position_list{p[2], p[3], p[4]}));
  EXPECT_TRUE(this->read("a", p[9]).events.empty());
  EXPECT_TRUE(this->read("a", p[9] + 1'000).events.empty());
  EXPECT_TRUE(this->read("a", 0, 0).events.empty());
}

TYPED_TEST(StoreContract, ReadsFromACursorBetweenTheStreamsOwnPositions) {
  this->open();
  // {g}a: p0 p2 p4, {g}b: p1 p3; the cursors are positions of the other stream.
  const auto p = positions(this->append({{"{g}a", "t", "{}"},
                                         {"{g}b", "t", "{}"},
                                         {"{g}a", "t", "{}"},
                                         {"{g}b", "t", "{}"},
                                         {"{g}a", "t", "{}"}}));
  ASSERT_EQ(p.size(), 5u);
  EXPECT_EQ(positions(this->read("{g}a", p[1])), (position_list{p[2], p[4]}));
  EXPECT_EQ(positions(this->read("{g}a", p[3], 1)), (position_list{p[4]}));
}

TYPED_TEST(StoreContract, UnknownStreamsAreEmptyNotErrors) {
  this->open();
  this->append_one("known");
  for (core::position after : {core::position{0}, core::position{5}}) {
    auto r = this->read("nope", after);
    EXPECT_TRUE(r.events.empty());
    EXPECT_EQ(r.head, 0u);
    EXPECT_FALSE(r.gap);
  }
  EXPECT_EQ(describe(this->info("nope")), describe(stream_info{}));
}

TYPED_TEST(StoreContract, InfoReportsHeadOldestAndRetained) {
  this->open();
  const auto p = positions(this->append({{"a", "t", "{}"}, {"b", "t", "{}"}, {"a", "t", "{}"}}));
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(describe(this->info("a")), describe(stream_info{p[2], p[0], 2}));
  EXPECT_EQ(describe(this->info("b")), describe(stream_info{p[1], p[1], 1}));
}

TYPED_TEST(StoreContract, TryFormsAnswerOrDeclineAndCallbackFormsAlwaysAnswer) {
  this->open();
  const auto p = this->append_n("a", 2);
  for (int round = 0; round < 2; ++round) {  // the second after a reopen, from disk if durable
    auto fast = this->s().try_read("a", p[0], 10);
    if (fast) {
      ASSERT_TRUE(*fast);
      EXPECT_EQ(positions(fast->value()), (position_list{p[1]}));
    }
    EXPECT_EQ(positions(this->read("a", p[0], 10)), (position_list{p[1]}));
    auto fast_info = this->s().try_info("a");
    if (fast_info) {
      ASSERT_TRUE(*fast_info);
      EXPECT_EQ(fast_info->value().head, p[1]);
    }
    EXPECT_EQ(this->info("a").head, p[1]);
    if (!TypeParam::durable) break;
    this->reopen();
  }
}

TYPED_TEST(StoreContract, ReadsTheNewestEventsInPositionOrder) {
  this->open();
  const auto p = positions(this->append({{"{g}a", "t", "{}"},
                                         {"{g}b", "t", "{}"},
                                         {"{g}a", "t", "{}"},
                                         {"{g}a", "t", "{}"},
                                         {"{g}b", "t", "{}"},
                                         {"{g}a", "t", "{}"}}));
  ASSERT_EQ(p.size(), 6u);
  for (int round = 0; round < 2; ++round) {  // the second after a reopen, from disk if durable
    auto last = this->read_last("{g}a", 2);
    EXPECT_EQ(positions(last), (position_list{p[3], p[5]}));
    EXPECT_EQ(last.head, p[5]);
    EXPECT_FALSE(last.gap);
    EXPECT_EQ(positions(this->read_last("{g}a", 100)), (position_list{p[0], p[2], p[3], p[5]}));
    EXPECT_EQ(positions(this->read_last("{g}b", 1)), (position_list{p[4]}));
    EXPECT_TRUE(this->read_last("{g}a", 0).events.empty());
    auto none = this->read_last("nope", 10);
    EXPECT_TRUE(none.events.empty());
    EXPECT_EQ(none.head, 0u);
    if (!TypeParam::durable) break;
    this->reopen();
  }
}

TYPED_TEST(StoreContract, ReadsTheNewestOfWhatRetentionKept) {
  this->open(keep_last(3));
  const auto p = this->append_n("a", 5);
  auto last = this->read_last("a", 10);
  EXPECT_EQ(positions(last), (position_list{p[2], p[3], p[4]}));
  EXPECT_FALSE(last.gap) << "nothing before the newest events was asked for";
}

// ---- Retention by count ----

TYPED_TEST(StoreContract, RetentionByCountKeepsTheNewest) {
  this->open(keep_last(3));
  const auto p = this->append_n("a", 5);
  EXPECT_EQ(positions(this->read("a", p[1])), (position_list{p[2], p[3], p[4]}));
  EXPECT_EQ(describe(this->info("a")), describe(stream_info{p[4], p[2], 3}));
}

TYPED_TEST(StoreContract, RetentionByCountAppliesWithinOneAppend) {
  this->open(keep_last(2));
  const auto p = this->append_n("a", 4);
  EXPECT_EQ(p.size(), 4u);  // the publisher still learns every position
  EXPECT_EQ(positions(this->read("a", 0)), (position_list{p[2], p[3]}));
}

TYPED_TEST(StoreContract, RetentionByCountFollowsTheRules) {
  retention_policy policy;
  policy.rules = {rule("room:vip*"), rule("room:*")};
  policy.rules[0].max_events = 3;
  policy.rules[1].max_events = 1;
  policy.fallback.max_events = 2;
  this->open(policy);
  for (int i = 0; i < 5; ++i)
    this->append({{"room:vip1", "t", "{}"}, {"room:plain", "t", "{}"}, {"user:1", "t", "{}"}});
  EXPECT_EQ(this->retained("room:vip1"), 3u);
  EXPECT_EQ(this->retained("room:plain"), 1u);
  EXPECT_EQ(this->retained("user:1"), 2u);
}

// ---- Gaps ----

TYPED_TEST(StoreContract, GapOnlyWhenEventsAfterTheCursorWereTrimmed) {
  this->open(keep_last(2));
  const auto p = this->append_n("a", 5);  // keeps p3 p4, trimmed through p2
  const position_list kept{p[3], p[4]};
  for (core::position cursor : {core::position{0}, p[0], p[1]}) {
    auto r = this->read("a", cursor);
    EXPECT_TRUE(r.gap) << "cursor " << cursor;
    EXPECT_EQ(positions(r), kept) << "an old cursor reads from the oldest retained event";
  }
  // A cursor at the last trimmed event has missed nothing.
  auto at_edge = this->read("a", p[2]);
  EXPECT_FALSE(at_edge.gap);
  EXPECT_EQ(positions(at_edge), kept);
  EXPECT_FALSE(this->read("a", p[3]).gap);
  EXPECT_FALSE(this->read("a", p[4]).gap);
}

TYPED_TEST(StoreContract, GapIgnoresPositionsOfOtherStreams) {
  // {g}a: p0 p2 p4 p6; {g}b: p1 p3 p5. Keeping 2 trims a's p0 and p2, b's p1. A cursor at p3 is
  // older than a's oldest retained event (p4) but has missed nothing of a: no gap. A cursor at
  // p1 missed p2: gap.
  this->open(keep_last(2));
  std::vector<core::new_event> events;
  for (int i = 0; i < 7; ++i) events.push_back({i % 2 ? "{g}b" : "{g}a", "t", "{}"});
  const auto p = positions(this->append(std::move(events)));
  ASSERT_EQ(p.size(), 7u);
  EXPECT_EQ(this->info("{g}a").oldest, p[4]);
  EXPECT_FALSE(this->read("{g}a", p[3]).gap);
  EXPECT_TRUE(this->read("{g}a", p[1]).gap);
  EXPECT_TRUE(this->read("{g}b", 0).gap);
  auto b = this->read("{g}b", p[2]);
  EXPECT_FALSE(b.gap);
  EXPECT_EQ(positions(b), (position_list{p[3], p[5]}));
}

// ---- Retention by age ----

TYPED_TEST(StoreContract, RetentionByAgeTrimsOnlyOlderEvents) {
  this->open(keep_for(10s));
  this->append_one("probe");  // 1 ms older than a1: its trimming shows that a step ran
  this->clock_.advance(1ms);
  const auto a1 = this->append_one("a");
  this->clock_.advance(5s);
  const auto a2 = this->append_one("a");
  this->append_one("b");

  this->clock_.advance(5s);  // a1 is exactly 10 s old: kept
  this->trim_now();
  ASSERT_EQ(this->retained("probe"), 0u) << "no trim step ran; the test shows nothing";
  EXPECT_EQ(this->retained("a"), 2u);

  this->clock_.advance(1ms);  // a1 is older than 10 s, a2 is not
  ASSERT_TRUE(this->trim_until([&] { return this->retained("a") == 1; }));
  auto a = this->read("a", 0);
  EXPECT_EQ(positions(a), (position_list{a2}));
  EXPECT_TRUE(a.gap);
  EXPECT_FALSE(this->read("a", a1).gap);
  EXPECT_EQ(this->retained("b"), 1u);
}

TYPED_TEST(StoreContract, RetentionByAgeFollowsTheRules) {
  retention_policy policy;
  policy.rules = {rule("tmp:*")};
  policy.rules[0].max_age = 60s;
  policy.fallback.max_age = 1h;
  this->open(policy);
  this->append_n("tmp:x", 3);
  this->append_n("keep:y", 3);
  this->clock_.advance(30s);
  const auto young = this->append_n("tmp:x", 2);
  this->clock_.advance(31s);
  ASSERT_TRUE(this->trim_until([&] { return this->retained("tmp:x") == 2; }));
  EXPECT_EQ(this->info("tmp:x").oldest, young[0]);
  EXPECT_EQ(this->retained("keep:y"), 3u);
  auto r = this->read("tmp:x", 0);
  EXPECT_TRUE(r.gap);
  EXPECT_EQ(positions(r), young);

  this->clock_.advance(30s);  // now the young ones are past 60 s too; keep:y is far from 1 h
  ASSERT_TRUE(this->trim_until([&] { return this->retained("tmp:x") == 0; }));
  EXPECT_EQ(this->retained("keep:y"), 3u);
}

TYPED_TEST(StoreContract, PositionsAreNeverReusedAfterRetentionEmptiesAStream) {
  this->open(keep_for(10s));
  const auto a = this->append_n("a", 2);
  const auto last = this->append_one("b");
  this->clock_.advance(11s);
  ASSERT_TRUE(this->trim_until([&] { return this->retained("a") == 0; }));
  EXPECT_EQ(describe(this->info("a")), describe(stream_info{a[1], 0, 0}));  // the head outlives
  auto r = this->read("a", 0);
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(r.head, a[1]);
  EXPECT_TRUE(r.gap);
  EXPECT_TRUE(this->read("a", a[0]).gap);
  EXPECT_FALSE(this->read("a", a[1]).gap);
  this->expect_next_position(this->append_one("a"), a[1], last);
}

// ---- Reopen (durable backends) ----

TYPED_TEST(StoreContract, EventsSurviveAReopenAndPositionsContinue) {
  if (!TypeParam::durable) {
    GTEST_SKIP() << TypeParam::name << keeps_nothing;
  }
  this->open();
  auto a = this->append(calls::numbered("room:a", 5));
  this->clock_.advance(2s);
  auto b = this->append(calls::numbered("room:b", 2));
  ASSERT_EQ(a.size(), 5u);
  ASSERT_EQ(b.size(), 2u);
  this->reopen();

  auto r = this->read("room:a", 0);
  EXPECT_EQ(describe(r.events), describe(a));  // positions, times, types and data
  EXPECT_EQ(r.head, a[4]->pos);
  EXPECT_FALSE(r.gap);
  EXPECT_EQ(describe(this->read("room:a", a[1]->pos, 2).events), describe({a[2], a[3]}));
  EXPECT_EQ(describe(this->info("room:b")), describe(stream_info{b[1]->pos, b[0]->pos, 2}));
  this->expect_next_position(this->append_one("room:a"), a[4]->pos, b[1]->pos);
}

TYPED_TEST(StoreContract, PositionsContinueAcrossAReopenAfterRetentionEmptiedAStream) {
  if (!TypeParam::durable) {
    GTEST_SKIP() << TypeParam::name << keeps_nothing;
  }
  this->open(keep_for(10s));
  const auto a = this->append_n("a", 3);
  this->clock_.advance(11s);
  ASSERT_TRUE(this->trim_until([&] { return this->retained("a") == 0; }));
  const auto last = this->append_one("other");
  this->reopen();

  EXPECT_EQ(describe(this->info("a")), describe(stream_info{a[2], 0, 0}));
  this->expect_next_position(this->append_one("a"), a[2], last);
  EXPECT_TRUE(this->read("a", 0).gap);
}

// ---- Records ----

TYPED_TEST(StoreContract, RecordsArePutReplacedListedAndErasedByKindAndKey) {
  auto& s = this->open();
  EXPECT_EQ(s.get_record("queue", "q1"), std::nullopt);
  EXPECT_FALSE(calls::put_record(s, "queue", "q2", "two"));
  EXPECT_FALSE(calls::put_record(s, "queue", "q1", "one"));
  EXPECT_FALSE(calls::put_record(s, "queuex", "q1", "other kind"));
  EXPECT_FALSE(calls::put_record(s, "queu", "q1", "prefix kind"));
  EXPECT_EQ(s.get_record("queue", "q1"), "one");
  EXPECT_FALSE(calls::put_record(s, "queue", "q1", "uno"));  // replaces
  EXPECT_EQ(s.get_record("queue", "q1"), "uno");
  EXPECT_EQ(s.list_records("queue"), (record_list{{"q1", "uno"}, {"q2", "two"}}));  // by key
  EXPECT_EQ(s.list_records("queuex"), (record_list{{"q1", "other kind"}}));
  EXPECT_TRUE(s.list_records("nothing").empty());

  EXPECT_FALSE(calls::erase_record(s, "queue", "q1"));
  EXPECT_FALSE(calls::erase_record(s, "queue", "never-there"));
  EXPECT_EQ(s.get_record("queue", "q1"), std::nullopt);
  EXPECT_EQ(s.list_records("queue"), (record_list{{"q2", "two"}}));
  EXPECT_EQ(s.get_record("queuex", "q1"), "other kind");
}

TYPED_TEST(StoreContract, RecordsSurviveAReopen) {
  if (!TypeParam::durable) {
    GTEST_SKIP() << TypeParam::name << keeps_nothing;
  }
  auto& s = this->open();
  EXPECT_FALSE(calls::put_record(s, "queue", "q1", R"({"stream":"room:a"})"));
  EXPECT_FALSE(calls::put_record(s, "queue", "q2", "two"));
  EXPECT_FALSE(calls::put_record(s, "other", "q1", "x"));
  EXPECT_FALSE(calls::put_record(s, "queue", "q1", R"({"stream":"room:b"})"));
  EXPECT_FALSE(calls::erase_record(s, "queue", "q2"));

  auto& again = this->reopen();
  EXPECT_EQ(again.get_record("queue", "q1"), R"({"stream":"room:b"})");
  EXPECT_EQ(again.get_record("queue", "q2"), std::nullopt);
  EXPECT_EQ(again.list_records("queue"), (record_list{{"q1", R"({"stream":"room:b"})"}}));
  EXPECT_EQ(again.list_records("other"), (record_list{{"q1", "x"}}));
}

TYPED_TEST(StoreContract, SwapCreatesARecordOnlyWhenThereIsNone) {
  auto& s = this->open();
  EXPECT_EQ(calls::swap_record(s, "queue", "q1", std::nullopt, "a").value(), true);
  EXPECT_EQ(calls::swap_record(s, "queue", "q1", std::nullopt, "b").value(), false);
  EXPECT_EQ(s.get_record("queue", "q1"), "a");
}

TYPED_TEST(StoreContract, SwapWritesOnlyOverTheValueItExpects) {
  auto& s = this->open();
  ASSERT_TRUE(calls::swap_record(s, "queue", "q1", std::nullopt, "a").value());
  EXPECT_TRUE(calls::swap_record(s, "queue", "q1", "a", "b").value());
  EXPECT_FALSE(calls::swap_record(s, "queue", "q1", "a", "c").value()) << "the value moved on";
  EXPECT_EQ(s.get_record("queue", "q1"), "b");
  EXPECT_FALSE(calls::swap_record(s, "queue", "q1", "a", std::nullopt).value());
  EXPECT_TRUE(calls::swap_record(s, "queue", "q1", "b", std::nullopt).value()) << "an erase";
  EXPECT_EQ(s.get_record("queue", "q1"), std::nullopt);
  EXPECT_FALSE(calls::swap_record(s, "queue", "q2", "x", "y").value()) << "nothing to match";
  EXPECT_EQ(s.get_record("queue", "q2"), std::nullopt);
}

TYPED_TEST(StoreContract, SwapsIssuedTogetherSeeEachOtherInOrder) {
  auto& s = this->open();
  // Issued without waiting, so a backend that commits in groups takes them in one: each
  // compares with what the ones before it wrote.
  std::vector<std::future<core::result<bool>>> answers;
  auto issue = [&](std::optional<std::string> expected, std::optional<std::string> value) {
    auto p = std::make_shared<std::promise<core::result<bool>>>();
    answers.push_back(p->get_future());
    s.swap_record("queue", "q", std::move(expected), std::move(value), 0,
                  [p](core::result<bool> r) { p->set_value(std::move(r)); });
  };
  issue(std::nullopt, "1");
  issue(std::nullopt, "x");  // refused: "1" is there
  issue("1", "2");
  issue("1", "y");  // refused: "2" is there
  issue("2", std::nullopt);
  issue(std::nullopt, "3");
  std::vector<bool> wrote;
  for (auto& a : answers) wrote.push_back(a.get().value());
  EXPECT_EQ(wrote, (std::vector<bool>{true, false, true, false, true, true}));
  EXPECT_EQ(s.get_record("queue", "q"), "3");
}

TYPED_TEST(StoreContract, ConcurrentSwapsOfOneValueLetExactlyOneWin) {
  auto& s = this->open();
  ASSERT_TRUE(calls::swap_record(s, "queue", "q", std::nullopt, "start").value());
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      if (calls::swap_record(s, "queue", "q", "start", "thread " + std::to_string(t)).value())
        ++winners;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners, 1);
  EXPECT_NE(s.get_record("queue", "q"), "start");
}

TYPED_TEST(StoreContract, RecordsExpireAtTheirTimeAndTrimmingRemovesThem) {
  auto& s = this->open();
  const auto now = this->clock_.wall_ms();
  ASSERT_TRUE(calls::swap_record(s, "queue", "short", std::nullopt, "a", now + 1'000).value());
  ASSERT_TRUE(calls::swap_record(s, "queue", "long", std::nullopt, "b", now + 60'000).value());
  ASSERT_FALSE(calls::put_record(s, "queue", "never", "c"));
  this->clock_.advance(999ms);
  EXPECT_EQ(s.get_record("queue", "short"), "a");
  this->clock_.advance(1ms);
  EXPECT_EQ(s.get_record("queue", "short"), std::nullopt) << "gone at its expiry time";
  EXPECT_EQ(s.list_records("queue"), (record_list{{"long", "b"}, {"never", "c"}}));
  EXPECT_FALSE(calls::swap_record(s, "queue", "short", "a", "z").value())
      << "an expired record is not there to compare with";
  ASSERT_TRUE(this->trim_until([&] { return s.get_record("queue", "short") == std::nullopt; }));
  EXPECT_TRUE(calls::swap_record(s, "queue", "short", std::nullopt, "new", 0).value())
      << "its key is free again";
  this->clock_.advance(std::chrono::hours(24 * 365));
  EXPECT_EQ(s.get_record("queue", "never"), "c") << "put_record never expires";
  EXPECT_EQ(s.get_record("queue", "short"), "new");
  EXPECT_EQ(s.get_record("queue", "long"), std::nullopt);
}

TYPED_TEST(StoreContract, ExpiryTimesSurviveAReopen) {
  if (!TypeParam::durable) GTEST_SKIP() << TypeParam::name << keeps_nothing;
  auto& s = this->open();
  const auto now = this->clock_.wall_ms();
  ASSERT_TRUE(calls::swap_record(s, "queue", "q", std::nullopt, "a", now + 5'000).value());
  auto& again = this->reopen();
  EXPECT_EQ(again.get_record("queue", "q"), "a");
  this->clock_.advance(5s);
  EXPECT_EQ(again.get_record("queue", "q"), std::nullopt);
}

// ---- Close ----

TYPED_TEST(StoreContract, CloseRefusesLaterAppendsWithShuttingDown) {
  auto& s = this->open();
  const auto p = this->append_one("a");
  s.close();
  s.close();  // idempotent
  auto r = calls::append(s, {{"a", "t", "{}"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, core::errc::shutting_down);
  // What was stored can still be read.
  EXPECT_EQ(positions(this->read("a", 0)), (position_list{p}));
}

TYPED_TEST(StoreContract, ReadsAfterCloseAreAnsweredNeverDropped) {
  auto& s = this->open();
  const auto p = this->append_n("a", 3);
  s.close();
  // Each answers, with the events (from memory) or with shutting_down; none hangs.
  for (auto r : {calls::read(s, "a", 0, 10), calls::read_last(s, "a", 10)}) {
    if (r) {
      EXPECT_EQ(positions(*r), p);
    } else {
      EXPECT_EQ(r.err().code, core::errc::shutting_down);
    }
  }
}

TYPED_TEST(StoreContract, CloseCompletesTheAppendsAlreadyAccepted) {
  auto& s = this->open();
  std::promise<core::result<std::vector<core::event_ptr>>> answer;
  auto answered = answer.get_future();
  s.append(calls::numbered("a", 3), [&](auto r) { answer.set_value(std::move(r)); });
  s.close();
  ASSERT_EQ(answered.wait_for(0s), std::future_status::ready) << "close returned before it";
  auto r = answered.get();
  ASSERT_TRUE(r) << r.err().message;
  EXPECT_EQ(positions(this->read("a", 0)), positions(*r));
}

// ---- Visibility ----

// Once a position is readable, every lower position of its sequence that exists is readable.
// Publishers append to two streams of one {tag} while a reader reads one stream and then the
// other. Each read must be a prefix of its stream's final content (no holes), and the second read
// must hold every position of its stream below the highest one the first read showed. A correct
// store passes every time; a store that shows positions out of order fails when the reader falls
// between.
TYPED_TEST(StoreContract, AReadablePositionImpliesEveryLowerOneOfItsSequenceIsReadable) {
  this->open();
  const std::string streams[2] = {"{v}a", "{v}b"};
  // A read is kept as its size and last position: a sorted subset of the stream's positions is a
  // prefix exactly when its last one is the stream's n-th.
  struct snapshot {
    int first;  // the stream read first
    std::size_t size[2];
    core::position last[2];
  };
  std::vector<snapshot> snapshots;
  std::atomic<bool> publishing{true};
  std::thread reader([&] {
    for (int n = 0; publishing.load(); ++n) {
      snapshot shot{n % 2, {0, 0}, {0, 0}};
      for (int k : {shot.first, 1 - shot.first}) {
        auto r = calls::read(this->s(), streams[k], 0, 100'000);
        if (!r) return;  // the failure is reported
        shot.size[k] = r->events.size();
        shot.last[k] = r->events.empty() ? 0 : r->events.back()->pos;
      }
      snapshots.push_back(shot);
    }
  });
  std::vector<std::thread> publishers;
  for (int t = 0; t < 4; ++t)
    publishers.emplace_back([&, t] {
      for (int i = 0; i < 150; ++i)
        calls::append_ok(this->s(), {{streams[(t + i) % 2], "t", "{}"}});
    });
  for (auto& p : publishers) p.join();
  publishing = false;
  reader.join();

  const position_list final[2] = {positions(this->read(streams[0], 0, 100'000)),
                                  positions(this->read(streams[1], 0, 100'000))};
  ASSERT_EQ(final[0].size() + final[1].size(), 600u);
  for (const auto& shot : snapshots) {
    for (int k : {0, 1}) {
      if (shot.size[k] == 0) continue;
      ASSERT_LE(shot.size[k], final[k].size());
      ASSERT_EQ(shot.last[k], final[k][shot.size[k] - 1]) << streams[k] << " was read with a hole";
    }
    const int second = 1 - shot.first;
    const auto& later = final[second];
    const auto below = static_cast<std::size_t>(
        std::lower_bound(later.begin(), later.end(), shot.last[shot.first]) - later.begin());
    ASSERT_GE(shot.size[second], below)
        << streams[shot.first] << " showed " << shot.last[shot.first] << " before "
        << streams[second] << " showed the lower positions of its sequence";
  }
}

}  // namespace
}  // namespace eventfeed::store
