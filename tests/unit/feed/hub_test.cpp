#include "feed/hub.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"

namespace eventfeed::feed {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

core::event_ptr make_event(std::string stream, core::position pos, std::string type = "t") {
  auto e = std::make_shared<core::event>();
  e->stream = std::move(stream);
  e->pos = pos;
  e->type = std::move(type);
  e->data = "{}";
  return e;
}

// What the awaiting side of one waiter saw.
struct outcome {
  int calls = 0;
  std::optional<wake_reason> reason;
};

void rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

// Starts all threads of a race at (nearly) the same instant, without sleeping.
class start_line {
 public:
  explicit start_line(int parties) : parties_(parties) {}
  void arrive_and_wait() {
    arrived_.fetch_add(1);
    while (arrived_.load() < parties_) std::this_thread::yield();
  }

 private:
  const int parties_;
  std::atomic<int> arrived_{0};
};

class Hub : public ::testing::Test {
 protected:
  std::shared_ptr<waiter> make(std::vector<std::string> streams, core::event_filter filter = {},
                               std::chrono::milliseconds timeout = 30s,
                               std::optional<std::string> key = {}) {
    return std::make_shared<waiter>(std::move(streams), std::move(filter),
                                    clock_.steady_now() + timeout, std::move(key));
  }
  std::shared_ptr<waiter> park(std::vector<std::string> streams, core::event_filter filter = {},
                               std::chrono::milliseconds timeout = 30s,
                               std::optional<std::string> key = {}) {
    auto w = make(std::move(streams), std::move(filter), timeout, std::move(key));
    hub_.park(w);
    return w;
  }
  std::shared_ptr<outcome> wait(hub& h, const std::shared_ptr<waiter>& w) {
    auto o = std::make_shared<outcome>();
    h.async_wait(w, net::bind_executor(io_, [o](wake_reason r) {
                   ++o->calls;
                   o->reason = r;
                 }));
    return o;
  }
  std::shared_ptr<outcome> wait(const std::shared_ptr<waiter>& w) { return wait(hub_, w); }
  std::size_t publish(const std::string& stream, std::string type = "t") {
    return hub_.notify({make_event(stream, ++position_, std::move(type))});
  }
  // Runs the handlers that are ready; never blocks.
  void drain() {
    io_.restart();
    io_.poll();
  }
  // Runs until nothing is left to do; bounded, so a bug hangs no test run.
  void run_all() {
    io_.restart();
    io_.run_for(10s);
    EXPECT_TRUE(io_.stopped()) << "work left after 10 s";
  }

  core::manual_clock clock_;
  net::io_context io_;  // declared before the hub: the hub's destructor still posts to it
  hub hub_{8};
  core::position position_ = 0;
};

TEST_F(Hub, NotifyWakesTheWaitersOfThatStreamOnly) {
  auto a1 = park({"a"});
  auto a2 = park({"a"});
  auto b = park({"b"});
  auto oa1 = wait(a1), oa2 = wait(a2), ob = wait(b);
  EXPECT_EQ(hub_.waiters("a"), 2u);
  EXPECT_EQ(hub_.waiters("b"), 1u);
  EXPECT_EQ(hub_.total_waiters(), 3u);

  EXPECT_EQ(publish("a"), 2u);
  EXPECT_EQ(oa1->calls, 0) << "wakes are posted, never run inline";
  EXPECT_EQ(hub_.waiters("a"), 0u);
  EXPECT_EQ(hub_.waiters("b"), 1u);
  EXPECT_EQ(hub_.total_waiters(), 1u);

  drain();
  EXPECT_EQ(oa1->calls, 1);
  EXPECT_EQ(oa1->reason, wake_reason::events);
  EXPECT_EQ(oa2->calls, 1);
  EXPECT_EQ(oa2->reason, wake_reason::events);
  EXPECT_EQ(ob->calls, 0);
  EXPECT_FALSE(b->claimed());

  EXPECT_EQ(publish("a"), 0u);
  EXPECT_EQ(publish("b"), 1u);
  drain();
  EXPECT_EQ(ob->reason, wake_reason::events);
  EXPECT_EQ(oa1->calls, 1);
  EXPECT_EQ(hub_.total_waiters(), 0u);
}

TEST_F(Hub, NotifyOnAStreamWithoutWaitersWakesNobody) {
  auto w = park({"a"});
  auto o = wait(w);
  EXPECT_EQ(publish("ab"), 0u);
  EXPECT_EQ(publish("A"), 0u);
  EXPECT_EQ(hub_.notify({}), 0u);
  drain();
  EXPECT_EQ(o->calls, 0);
  EXPECT_EQ(hub_.waiters("a"), 1u);
  EXPECT_TRUE(hub_.claim(w, wake_reason::cancelled));
}

TEST_F(Hub, FilteredOutEventLeavesTheWaiterParked) {
  auto w = park({"a"}, core::event_filter({"tip"}));
  auto o = wait(w);
  EXPECT_EQ(publish("a", "chat"), 0u);
  drain();
  EXPECT_EQ(o->calls, 0);
  EXPECT_FALSE(w->claimed());
  EXPECT_EQ(hub_.waiters("a"), 1u);

  // One accepted event in a batch is enough.
  EXPECT_EQ(hub_.notify({make_event("a", 10, "chat"), make_event("a", 11, "tip")}), 1u);
  drain();
  EXPECT_EQ(o->calls, 1);
  EXPECT_EQ(o->reason, wake_reason::events);
  EXPECT_EQ(hub_.total_waiters(), 0u);
}

TEST_F(Hub, BatchOverSeveralStreamsMatchesEachStreamWithItsOwnEvents) {
  // b's waiter wants "x"; the batch has an "x" only on a: b must stay parked.
  auto on_a = park({"a"}, core::event_filter({"x"}));
  auto on_b = park({"b"}, core::event_filter({"x"}));
  auto on_c = park({"c"});
  auto oa = wait(on_a), ob = wait(on_b), oc = wait(on_c);
  EXPECT_EQ(hub_.notify({make_event("a", 1, "y"), make_event("b", 2, "y"), make_event("a", 3, "x"),
                         make_event("c", 4, "y")}),
            2u);
  drain();
  EXPECT_EQ(oa->reason, wake_reason::events);
  EXPECT_EQ(ob->calls, 0);
  EXPECT_EQ(oc->reason, wake_reason::events);
  EXPECT_EQ(hub_.waiters("b"), 1u);
  EXPECT_TRUE(hub_.claim(on_b, wake_reason::cancelled));
  EXPECT_EQ(hub_.total_waiters(), 0u);
}

TEST_F(Hub, ExpireWakesOnlyDueDeadlinesWithTimeout) {
  auto w1 = park({"a"}, {}, 1s);
  auto w2 = park({"a"}, {}, 2s);
  auto w3 = park({"b"}, {}, 2s);
  auto o1 = wait(w1), o2 = wait(w2), o3 = wait(w3);
  EXPECT_EQ(hub_.expire(clock_.steady_now()), 0u);
  clock_.advance(999ms);
  EXPECT_EQ(hub_.expire(clock_.steady_now()), 0u);
  clock_.advance(1ms);  // a deadline at exactly `now` is due
  EXPECT_EQ(hub_.expire(clock_.steady_now()), 1u);
  drain();
  EXPECT_EQ(o1->reason, wake_reason::timeout);
  EXPECT_EQ(o2->calls, 0);
  EXPECT_EQ(o3->calls, 0);
  EXPECT_EQ(hub_.waiters("a"), 1u);
  EXPECT_EQ(hub_.total_waiters(), 2u);

  clock_.advance(1h);
  EXPECT_EQ(hub_.expire(clock_.steady_now()), 2u);
  EXPECT_EQ(hub_.expire(clock_.steady_now()), 0u);
  drain();
  EXPECT_EQ(o2->reason, wake_reason::timeout);
  EXPECT_EQ(o3->reason, wake_reason::timeout);
  EXPECT_EQ(o1->calls, 1);
  EXPECT_EQ(hub_.waiters("a"), 0u);
  EXPECT_EQ(hub_.waiters("b"), 0u);
  EXPECT_EQ(hub_.total_waiters(), 0u);
}

TEST_F(Hub, ClaimIsExactlyOnce) {
  auto w = park({"a"}, {}, 1s);
  auto o = wait(w);
  EXPECT_TRUE(hub_.claim(w, wake_reason::cancelled));
  EXPECT_TRUE(w->claimed());
  EXPECT_FALSE(hub_.claim(w, wake_reason::timeout));
  EXPECT_EQ(publish("a"), 0u);
  clock_.advance(1h);
  EXPECT_EQ(hub_.expire(clock_.steady_now()), 0u);
  hub_.shutdown();
  drain();
  EXPECT_EQ(o->calls, 1);
  EXPECT_EQ(o->reason, wake_reason::cancelled);
  EXPECT_EQ(hub_.waiters("a"), 0u);
  EXPECT_EQ(hub_.total_waiters(), 0u);
}

TEST_F(Hub, WakeBeforeAsyncWaitIsStillDelivered) {
  auto w = park({"a"});
  EXPECT_EQ(publish("a"), 1u);
  drain();
  auto o = wait(w);
  EXPECT_EQ(o->calls, 0) << "even a late handler is posted, not run inline";
  drain();
  EXPECT_EQ(o->calls, 1);
  EXPECT_EQ(o->reason, wake_reason::events);

  auto c = park({"a"});
  EXPECT_TRUE(hub_.claim(c, wake_reason::cancelled));
  auto oc = wait(c);
  drain();
  EXPECT_EQ(oc->reason, wake_reason::cancelled);
  EXPECT_EQ(hub_.total_waiters(), 0u);
}

TEST_F(Hub, WakeRunsOnTheWaitersOwnExecutor) {
  net::io_context other;
  auto w = park({"a"});
  wake_reason got{};
  int calls = 0;
  hub_.async_wait(w, net::bind_executor(other, [&](wake_reason r) {
                    got = r;
                    ++calls;
                  }));
  EXPECT_EQ(publish("a"), 1u);
  drain();
  EXPECT_EQ(calls, 0);
  other.poll();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got, wake_reason::events);
}

TEST_F(Hub, CancellationSlotClaimsWithCancelledAndRemovesTheWaiter) {
  net::cancellation_signal signal;
  auto w = park({"{t}a", "{t}b"});
  auto o = std::make_shared<outcome>();
  hub_.async_wait(
      w, net::bind_cancellation_slot(signal.slot(), net::bind_executor(io_, [o](wake_reason r) {
                                       ++o->calls;
                                       o->reason = r;
                                     })));
  EXPECT_EQ(hub_.total_waiters(), 1u);
  signal.emit(net::cancellation_type::terminal);
  EXPECT_TRUE(w->claimed());
  EXPECT_EQ(hub_.waiters("{t}a"), 0u);
  EXPECT_EQ(hub_.waiters("{t}b"), 0u);
  EXPECT_EQ(hub_.total_waiters(), 0u);
  EXPECT_EQ(publish("{t}a"), 0u);
  drain();
  EXPECT_EQ(o->calls, 1);
  EXPECT_EQ(o->reason, wake_reason::cancelled);
  // A cancellation after the wake changes nothing.
  signal.emit(net::cancellation_type::terminal);
  drain();
  EXPECT_EQ(o->calls, 1);
}

TEST_F(Hub, CancellationAfterAWakeKeepsTheWakeReason) {
  net::cancellation_signal signal;
  auto w = park({"a"});
  auto o = std::make_shared<outcome>();
  hub_.async_wait(
      w, net::bind_cancellation_slot(signal.slot(), net::bind_executor(io_, [o](wake_reason r) {
                                       ++o->calls;
                                       o->reason = r;
                                     })));
  EXPECT_EQ(publish("a"), 1u);
  signal.emit(net::cancellation_type::terminal);  // before the wake has run
  drain();
  EXPECT_EQ(o->calls, 1);
  EXPECT_EQ(o->reason, wake_reason::events);
}

TEST_F(Hub, AwaitableRacedAgainstATimerIsCancelledWhenTheTimerWins) {
  using namespace net::experimental::awaitable_operators;
  auto w = park({"a"});
  std::optional<std::size_t> winner;
  net::co_spawn(
      io_,
      [&]() -> net::awaitable<void> {
        net::steady_timer timer(co_await net::this_coro::executor);
        timer.expires_after(0ms);
        auto r = co_await (hub_.async_wait(w, net::use_awaitable) ||
                           timer.async_wait(net::use_awaitable));
        winner = r.index();
      },
      rethrow);
  run_all();
  EXPECT_EQ(winner, 1u);
  EXPECT_TRUE(w->claimed());
  EXPECT_FALSE(hub_.claim(w, wake_reason::events)) << "claimed by the cancellation";
  EXPECT_EQ(hub_.waiters("a"), 0u);
  EXPECT_EQ(hub_.total_waiters(), 0u);
  EXPECT_EQ(publish("a"), 0u);
}

TEST_F(Hub, AwaitableRacedAgainstATimerWinsOnAPublish) {
  using namespace net::experimental::awaitable_operators;
  auto w = park({"a"});
  std::optional<wake_reason> got;
  net::co_spawn(
      io_,
      [&]() -> net::awaitable<void> {
        net::steady_timer timer(co_await net::this_coro::executor);
        timer.expires_after(1h);
        auto r = co_await (hub_.async_wait(w, net::use_awaitable) ||
                           timer.async_wait(net::use_awaitable));
        if (r.index() == 0) got = std::get<0>(r);
      },
      rethrow);
  drain();
  EXPECT_EQ(hub_.waiters("a"), 1u);
  EXPECT_EQ(publish("a"), 1u);
  run_all();  // the timer is cancelled by the group, so this ends at once
  EXPECT_EQ(got, wake_reason::events);
  EXPECT_EQ(hub_.total_waiters(), 0u);
}

TEST_F(Hub, NewerParkWithTheSameKeySupersedesTheOlder) {
  auto old = park({"a"}, {}, 30s, "queue:1");
  auto other = park({"a"}, {}, 30s, "queue:2");
  auto oo = wait(old), oother = wait(other);
  auto fresh = park({"b"}, {}, 30s, "queue:1");  // the key, not the stream, decides
  auto ofresh = wait(fresh);
  EXPECT_TRUE(old->claimed());
  EXPECT_FALSE(other->claimed());
  EXPECT_FALSE(fresh->claimed());
  EXPECT_EQ(hub_.waiters("a"), 1u);
  EXPECT_EQ(hub_.waiters("b"), 1u);
  EXPECT_EQ(hub_.total_waiters(), 2u);
  drain();
  EXPECT_EQ(oo->calls, 1);
  EXPECT_EQ(oo->reason, wake_reason::superseded);
  EXPECT_EQ(oother->calls, 0);
  EXPECT_EQ(ofresh->calls, 0);

  EXPECT_EQ(publish("b"), 1u);
  drain();
  EXPECT_EQ(ofresh->reason, wake_reason::events);
  // fresh is gone: a later park with its key supersedes nobody.
  auto later = park({"b"}, {}, 30s, "queue:1");
  auto olater = wait(later);
  EXPECT_FALSE(later->claimed());
  drain();
  EXPECT_EQ(ofresh->calls, 1);
  EXPECT_EQ(ofresh->reason, wake_reason::events);
  EXPECT_EQ(olater->calls, 0);
  hub_.shutdown();
  drain();
  EXPECT_EQ(olater->reason, wake_reason::shutdown);
  EXPECT_EQ(oother->reason, wake_reason::shutdown);
  EXPECT_EQ(hub_.total_waiters(), 0u);
}

TEST_F(Hub, MultiStreamWaiterIsWokenOnceAndLeavesEveryList) {
  // With one shard all streams share a lock; with many they (probably) do not.
  for (std::size_t shards : {1u, 2u, 64u}) {
    SCOPED_TRACE(shards);
    hub h(shards);
    const std::vector<std::string> streams = {"{t}a", "{t}b", "{t}c"};
    auto count = [&] {
      std::size_t n = 0;
      for (const auto& s : streams) n += h.waiters(s);
      return n;
    };
    auto park_here = [&] {
      auto w = make(streams);
      h.park(w);
      return w;
    };

    auto w1 = park_here();
    auto o1 = wait(h, w1);
    EXPECT_EQ(count(), 3u);
    EXPECT_EQ(h.total_waiters(), 1u);
    EXPECT_EQ(h.notify({make_event("{t}b", 1), make_event("{t}a", 2), make_event("{t}c", 3)}), 1u);
    EXPECT_EQ(count(), 0u);
    EXPECT_EQ(h.total_waiters(), 0u);
    drain();
    EXPECT_EQ(o1->calls, 1);

    auto w2 = park_here();  // woken through its last stream only
    auto o2 = wait(h, w2);
    EXPECT_EQ(h.notify({make_event("{t}c", 4)}), 1u);
    EXPECT_EQ(count(), 0u);

    auto w3 = park_here();  // cancelled
    auto o3 = wait(h, w3);
    EXPECT_TRUE(h.claim(w3, wake_reason::cancelled));
    EXPECT_EQ(count(), 0u);

    auto w4 = park_here();  // expired
    auto o4 = wait(h, w4);
    clock_.advance(1h);
    EXPECT_EQ(h.expire(clock_.steady_now()), 1u);
    EXPECT_EQ(count(), 0u);
    EXPECT_EQ(h.total_waiters(), 0u);

    drain();
    EXPECT_EQ(o2->reason, wake_reason::events);
    EXPECT_EQ(o3->reason, wake_reason::cancelled);
    EXPECT_EQ(o4->reason, wake_reason::timeout);
    for (const auto& o : {o1, o2, o3, o4}) EXPECT_EQ(o->calls, 1);
  }
}

TEST_F(Hub, RemovalFromTheMiddleKeepsTheOthersReachable) {
  // Waiters in different stream orders, so that swap-removal moves entries whose position in
  // each list differs; then every remaining waiter must still be found by each of its streams.
  std::vector<std::shared_ptr<waiter>> ws;
  std::vector<std::shared_ptr<outcome>> os;
  const std::vector<std::vector<std::string>> shapes = {
      {"{g}a", "{g}b"}, {"{g}b", "{g}a"}, {"{g}a"}, {"{g}b", "{g}c", "{g}a"}, {"{g}c", "{g}a"}};
  for (int round = 0; round < 4; ++round)
    for (const auto& shape : shapes) {
      ws.push_back(park(shape));
      os.push_back(wait(ws.back()));
    }
  // Cancel every third.
  for (std::size_t i = 0; i < ws.size(); i += 3)
    EXPECT_TRUE(hub_.claim(ws[i], wake_reason::cancelled));
  // Wake the rest through "{g}a", which all of them wait on.
  const std::size_t rest = ws.size() - (ws.size() + 2) / 3;
  EXPECT_EQ(publish("{g}a"), rest);
  EXPECT_EQ(hub_.waiters("{g}a"), 0u);
  EXPECT_EQ(hub_.waiters("{g}b"), 0u);
  EXPECT_EQ(hub_.waiters("{g}c"), 0u);
  EXPECT_EQ(hub_.total_waiters(), 0u);
  drain();
  for (std::size_t i = 0; i < ws.size(); ++i) {
    EXPECT_EQ(os[i]->calls, 1) << i;
    EXPECT_EQ(os[i]->reason, i % 3 == 0 ? wake_reason::cancelled : wake_reason::events) << i;
  }
}

TEST_F(Hub, AStreamListedTwiceIsHandledLikeOnce) {
  // A waiter listed twice in one stream's list; removals around it must keep every index
  // right, or a later removal overwrites (and so loses) another waiter's entry.
  auto y = park({"a"});
  auto dup = park({"a", "b", "a"});
  auto z = park({"a"});
  auto oy = wait(y), odup = wait(dup), oz = wait(z);
  EXPECT_TRUE(hub_.claim(y, wake_reason::cancelled));
  EXPECT_TRUE(hub_.claim(z, wake_reason::cancelled));
  auto x = park({"a"});
  auto v = park({"a"});
  auto ox = wait(x), ov = wait(v);
  EXPECT_TRUE(hub_.claim(dup, wake_reason::cancelled));
  EXPECT_EQ(hub_.waiters("a"), 2u);
  EXPECT_EQ(hub_.waiters("b"), 0u);
  EXPECT_EQ(publish("a"), 2u);
  EXPECT_EQ(hub_.waiters("a"), 0u);
  EXPECT_EQ(hub_.total_waiters(), 0u);
  drain();
  EXPECT_EQ(odup->calls, 1);
  EXPECT_EQ(odup->reason, wake_reason::cancelled);
  EXPECT_EQ(ox->reason, wake_reason::events);
  EXPECT_EQ(ov->reason, wake_reason::events);

  auto again = park({"a", "a"});  // and woken through either entry, once
  auto oagain = wait(again);
  EXPECT_EQ(hub_.waiters("a"), 2u);
  EXPECT_EQ(publish("a"), 1u);
  EXPECT_EQ(hub_.waiters("a"), 0u);
  EXPECT_EQ(hub_.total_waiters(), 0u);
  drain();
  EXPECT_EQ(oagain->calls, 1);
}

TEST_F(Hub, ShutdownWakesEveryoneAndLaterParksAtOnce) {
  auto a = park({"a"});
  auto multi = park({"{t}b", "{t}c"}, core::event_filter({"x"}));
  auto keyed = park({"a"}, {}, 1s, "k");
  auto oa = wait(a), om = wait(multi), ok = wait(keyed);
  hub_.shutdown();
  EXPECT_EQ(hub_.total_waiters(), 0u);
  EXPECT_EQ(hub_.waiters("a"), 0u);
  EXPECT_EQ(hub_.waiters("{t}b"), 0u);
  EXPECT_EQ(hub_.waiters("{t}c"), 0u);
  drain();
  for (const auto& o : {oa, om, ok}) {
    EXPECT_EQ(o->calls, 1);
    EXPECT_EQ(o->reason, wake_reason::shutdown);
  }

  auto late = park({"a"}, {}, 30s, "k");
  EXPECT_TRUE(late->claimed());
  EXPECT_EQ(hub_.waiters("a"), 0u);
  EXPECT_EQ(hub_.total_waiters(), 0u);
  auto olate = wait(late);
  drain();
  EXPECT_EQ(olate->reason, wake_reason::shutdown);

  hub_.shutdown();  // idempotent
  EXPECT_EQ(publish("a"), 0u);
  clock_.advance(1h);
  EXPECT_EQ(hub_.expire(clock_.steady_now()), 0u);
  drain();
  for (const auto& o : {oa, om, ok, olate}) EXPECT_EQ(o->calls, 1);
}

// Random single-threaded operations checked against a plain model of who should be parked and
// who should have been woken, and why.
TEST_F(Hub, MatchesAModelUnderRandomOperations) {
  struct model_waiter {
    std::shared_ptr<waiter> w;
    std::shared_ptr<outcome> seen;
    std::vector<std::string> streams;
    std::set<std::string> types;  // empty: all
    std::chrono::steady_clock::time_point deadline;
    std::optional<std::string> key;
    std::optional<wake_reason> expected;
  };
  const std::vector<std::string> names = {"{m}a", "{m}b", "{m}c", "{m}d", "e"};
  const std::vector<std::string> kinds = {"x", "y", "z"};
  std::mt19937 rng(20240611);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  std::vector<model_waiter> all;
  auto live = [&] {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < all.size(); ++i)
      if (!all[i].expected) out.push_back(i);
    return out;
  };

  for (int step = 0; step < 3000; ++step) {
    switch (pick(5)) {
      case 0:
      case 1: {  // park
        model_waiter m;
        const std::size_t n = 1 + pick(3);
        for (std::size_t i = 0; i < n; ++i) {
          auto name = names[pick(names.size())];
          if (std::find(m.streams.begin(), m.streams.end(), name) == m.streams.end())
            m.streams.push_back(name);
        }
        if (pick(2)) m.types = {kinds[pick(kinds.size())]};
        m.deadline = clock_.steady_now() + std::chrono::milliseconds(1 + pick(40));
        if (pick(4) == 0) m.key = "key" + std::to_string(pick(3));
        m.w = std::make_shared<waiter>(
            m.streams, core::event_filter({m.types.begin(), m.types.end()}), m.deadline, m.key);
        if (m.key) {
          for (auto i : live())
            if (all[i].key == m.key) all[i].expected = wake_reason::superseded;
        }
        hub_.park(m.w);
        m.seen = wait(m.w);
        all.push_back(std::move(m));
        break;
      }
      case 2: {  // cancel
        auto l = live();
        if (l.empty()) break;
        auto i = l[pick(l.size())];
        ASSERT_TRUE(hub_.claim(all[i].w, wake_reason::cancelled));
        all[i].expected = wake_reason::cancelled;
        break;
      }
      case 3: {  // publish
        std::vector<core::event_ptr> batch;
        const std::size_t n = 1 + pick(3);
        for (std::size_t i = 0; i < n; ++i)
          batch.push_back(
              make_event(names[pick(names.size())], ++position_, kinds[pick(kinds.size())]));
        std::size_t expected = 0;
        for (auto i : live()) {
          auto& m = all[i];
          for (const auto& ev : batch) {
            const bool on_stream =
                std::find(m.streams.begin(), m.streams.end(), ev->stream) != m.streams.end();
            if (on_stream && (m.types.empty() || m.types.count(ev->type))) {
              m.expected = wake_reason::events;
              ++expected;
              break;
            }
          }
        }
        ASSERT_EQ(hub_.notify(batch), expected) << "step " << step;
        break;
      }
      case 4: {  // time passes
        clock_.advance(std::chrono::milliseconds(pick(10)));
        std::size_t expected = 0;
        for (auto i : live())
          if (all[i].deadline <= clock_.steady_now()) {
            all[i].expected = wake_reason::timeout;
            ++expected;
          }
        ASSERT_EQ(hub_.expire(clock_.steady_now()), expected) << "step " << step;
        break;
      }
    }
    const auto l = live();
    ASSERT_EQ(hub_.total_waiters(), l.size()) << "step " << step;
    for (const auto& name : names) {
      std::size_t expected = 0;
      for (auto i : l)
        expected += static_cast<std::size_t>(
            std::count(all[i].streams.begin(), all[i].streams.end(), name));
      ASSERT_EQ(hub_.waiters(name), expected) << name << " at step " << step;
    }
  }
  hub_.shutdown();
  for (auto i : live()) all[i].expected = wake_reason::shutdown;
  drain();
  for (std::size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(all[i].seen->calls, 1) << i;
    ASSERT_EQ(all[i].seen->reason, all[i].expected) << i;
  }
  EXPECT_EQ(hub_.total_waiters(), 0u);
}

// ---- threads ----

TEST(HubThreads, ClaimIsExactlyOnceUnderRaces) {
  core::manual_clock clock;
  for (int round = 0; round < 100; ++round) {
    net::io_context io;
    hub h(4);
    auto w = std::make_shared<waiter>(std::vector<std::string>{"{t}a", "{t}b"},
                                      core::event_filter{}, clock.steady_now());
    h.park(w);
    std::atomic<int> calls{0};
    wake_reason got{};
    h.async_wait(w, net::bind_executor(io, [&](wake_reason r) {
                   got = r;
                   ++calls;
                 }));
    start_line line(4);
    std::size_t by_cancel = 0, by_a = 0, by_b = 0, by_expire = 0;
    {
      std::vector<std::jthread> racers;
      racers.emplace_back([&] {
        line.arrive_and_wait();
        by_cancel = h.claim(w, wake_reason::cancelled) ? 1 : 0;
      });
      racers.emplace_back([&] {
        line.arrive_and_wait();
        by_a = h.notify({make_event("{t}a", 1)});
      });
      racers.emplace_back([&] {
        line.arrive_and_wait();
        by_b = h.notify({make_event("{t}b", 2)});
      });
      racers.emplace_back([&] {
        line.arrive_and_wait();
        by_expire = h.expire(clock.steady_now());
      });
    }
    ASSERT_EQ(by_cancel + by_a + by_b + by_expire, 1u) << "round " << round;
    io.run();
    ASSERT_EQ(calls.load(), 1);
    ASSERT_EQ(got, by_cancel   ? wake_reason::cancelled
                   : by_expire ? wake_reason::timeout
                               : wake_reason::events);
    ASSERT_EQ(h.total_waiters(), 0u);
    ASSERT_EQ(h.waiters("{t}a") + h.waiters("{t}b"), 0u);
  }
}

TEST(HubThreads, WakeRacingTheHandlerInstallIsDeliveredOnce) {
  core::manual_clock clock;
  net::io_context io;
  hub h(4);
  for (int round = 0; round < 300; ++round) {
    auto w = std::make_shared<waiter>(std::vector<std::string>{"a"}, core::event_filter{},
                                      clock.steady_now() + 1h);
    h.park(w);
    std::atomic<int> calls{0};
    start_line line(2);
    {
      std::jthread installer([&] {
        line.arrive_and_wait();
        h.async_wait(w, net::bind_executor(io, [&](wake_reason r) {
                       EXPECT_EQ(r, wake_reason::events);
                       ++calls;
                     }));
      });
      std::jthread waker([&] {
        line.arrive_and_wait();
        EXPECT_EQ(h.notify({make_event("a", 1)}), 1u);
      });
    }
    io.restart();
    io.run();
    ASSERT_EQ(calls.load(), 1) << "round " << round;
  }
  EXPECT_EQ(h.total_waiters(), 0u);
}

// Several threads park, publish, cancel and expire at once over a few shared streams. Checks:
// every waiter's handler runs exactly once; wakes counted by notify/expire match the reasons
// delivered; a waiter parked before a publish on its stream is always claimed by the time that
// publish returns (no lost wake-up); all counts end at zero.
TEST(HubThreads, StressNoWaiterIsLostOrWokenTwice) {
  constexpr int threads = 3;
  constexpr int iterations = 2000;
  core::manual_clock clock;
  net::io_context io;
  hub h(4);
  const std::vector<std::string> shared = {"{s}0", "{s}1", "{s}2", "{s}3", "{s}4"};

  struct record {
    std::shared_ptr<waiter> w;
    std::unique_ptr<net::cancellation_signal> signal;
    std::atomic<int> calls{0};
    std::atomic<int> reason{-1};
  };
  std::vector<std::vector<std::unique_ptr<record>>> records(threads);
  std::atomic<std::size_t> by_notify{0}, by_expire{0}, by_claim{0}, lost{0};
  std::atomic<core::position> positions{0};

  auto worker = [&](int t, start_line& line) {
    std::mt19937 rng(777 + static_cast<unsigned>(t));
    auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
    auto& mine = records[static_cast<std::size_t>(t)];
    auto start_wait = [&](record& r, bool with_signal) {
      auto handler = [&r](wake_reason why) {
        r.calls.fetch_add(1);
        r.reason.store(static_cast<int>(why));
      };
      if (with_signal) {
        r.signal = std::make_unique<net::cancellation_signal>();
        h.async_wait(
            r.w, net::bind_cancellation_slot(r.signal->slot(), net::bind_executor(io, handler)));
      } else {
        h.async_wait(r.w, net::bind_executor(io, handler));
      }
    };
    line.arrive_and_wait();
    for (int i = 0; i < iterations; ++i) {
      switch (pick(6)) {
        case 0:
        case 1: {
          std::vector<std::string> streams;
          for (std::size_t n = 1 + pick(3); n > 0; --n) {
            auto s = shared[pick(shared.size())];
            if (std::find(streams.begin(), streams.end(), s) == streams.end()) streams.push_back(s);
          }
          core::event_filter f = pick(3) == 0 ? core::event_filter({"x"}) : core::event_filter{};
          std::optional<std::string> key;
          if (pick(5) == 0) key = "key" + std::to_string(pick(3));
          auto r = std::make_unique<record>();
          r->w = std::make_shared<waiter>(std::move(streams), std::move(f),
                                          clock.steady_now() + std::chrono::milliseconds(pick(50)),
                                          std::move(key));
          h.park(r->w);
          start_wait(*r, pick(2) == 0);
          mine.push_back(std::move(r));
          break;
        }
        case 2: {
          std::vector<core::event_ptr> batch;
          for (std::size_t n = 1 + pick(2); n > 0; --n)
            batch.push_back(
                make_event(shared[pick(shared.size())], ++positions, pick(2) ? "x" : "y"));
          by_notify += h.notify(batch);
          break;
        }
        case 3: {
          if (mine.empty()) break;
          auto& r = *mine[pick(mine.size())];
          if (r.signal) {
            r.signal->emit(net::cancellation_type::terminal);
          } else if (h.claim(r.w, wake_reason::cancelled)) {
            ++by_claim;
          }
          break;
        }
        case 4:
          clock.advance(1ms);
          by_expire += h.expire(clock.steady_now());
          break;
        case 5: {  // probe: park, then publish on the waiter's own stream
          const std::string own = "{s}own" + std::to_string(t);
          auto r = std::make_unique<record>();
          r->w =
              std::make_shared<waiter>(std::vector<std::string>{shared[pick(shared.size())], own},
                                       core::event_filter{}, clock.steady_now() + 1h);
          h.park(r->w);
          start_wait(*r, false);
          by_notify += h.notify({make_event(own, ++positions)});
          if (!r->w->claimed()) ++lost;
          mine.push_back(std::move(r));
          break;
        }
      }
    }
  };

  {
    start_line line(threads);
    std::vector<std::jthread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(worker, t, std::ref(line));
  }
  EXPECT_EQ(lost.load(), 0u);
  h.shutdown();
  io.run();

  std::size_t total = 0;
  std::map<int, std::size_t> by_reason;
  for (auto& mine : records)
    for (auto& r : mine) {
      ++total;
      EXPECT_EQ(r->calls.load(), 1);
      ++by_reason[r->reason.load()];
    }
  EXPECT_EQ(by_reason[static_cast<int>(wake_reason::events)], by_notify.load());
  EXPECT_EQ(by_reason[static_cast<int>(wake_reason::timeout)], by_expire.load());
  EXPECT_GE(by_reason[static_cast<int>(wake_reason::cancelled)], by_claim.load());
  EXPECT_EQ(h.total_waiters(), 0u);
  for (const auto& s : shared) EXPECT_EQ(h.waiters(s), 0u);
  for (int t = 0; t < threads; ++t) EXPECT_EQ(h.waiters("{s}own" + std::to_string(t)), 0u);
  EXPECT_GT(total, 0u);
}

}  // namespace
}  // namespace eventfeed::feed
