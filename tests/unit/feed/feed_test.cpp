#include "feed/feed.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "store/memory/memory_store.hpp"

namespace eventfeed::feed {
namespace {

using namespace std::chrono_literals;

template <class T>
using answer = std::shared_ptr<std::optional<core::result<T>>>;

void rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

core::new_event ev(std::string stream, std::string type = "t", std::string data = "{}") {
  return {std::move(stream), std::move(type), std::move(data)};
}

std::vector<core::position> positions(const std::vector<core::event_ptr>& events) {
  std::vector<core::position> out;
  for (const auto& e : events) out.push_back(e->pos);
  return out;
}

// Drives feed::engine over a memory store on a plain io_context, with a manual clock. A poll
// is started with co_spawn and the io_context is polled (never run to completion, since a
// parked poll keeps it busy), so each test sees exactly the state between two steps.
class Engine : public ::testing::Test {
 protected:
  Engine() { use_retention({}); }

  void use_retention(store::retention_policy policy) {
    engine_.reset();
    store_ = std::make_unique<store::memory::memory_store>(std::move(policy), &clock_);
    engine_ = std::make_unique<engine>(*store_, clock_, 8);
  }

  answer<std::vector<core::event_ptr>> start_publish(std::vector<core::new_event> events) {
    auto out = std::make_shared<std::optional<core::result<std::vector<core::event_ptr>>>>();
    net::co_spawn(
        io_,
        [e = engine_.get(), events = std::move(events), out]() mutable -> net::awaitable<void> {
          out->emplace(co_await e->async_publish(std::move(events)));
        },
        rethrow);
    return out;
  }

  // Publishes and waits for the positions.
  std::vector<core::position> publish(std::vector<core::new_event> events) {
    auto out = start_publish(std::move(events));
    drain();
    EXPECT_TRUE(out->has_value()) << "publish did not complete";
    if (!out->has_value() || !**out) return {};
    return positions(***out);
  }
  core::position publish_one(std::string stream, std::string type = "t") {
    auto p = publish({ev(std::move(stream), std::move(type))});
    return p.empty() ? 0 : p[0];
  }

  answer<poll_result> start_poll(poll_request req) {
    auto out = std::make_shared<std::optional<core::result<poll_result>>>();
    net::co_spawn(
        io_,
        [e = engine_.get(), req = std::move(req), out]() mutable -> net::awaitable<void> {
          out->emplace(co_await e->async_poll(std::move(req)));
        },
        rethrow);
    drain();
    return out;
  }

  // A poll expected to answer without parking.
  poll_result poll_now(poll_request req) {
    auto out = start_poll(std::move(req));
    EXPECT_TRUE(out->has_value()) << "the poll parked";
    if (!out->has_value()) return {};
    EXPECT_TRUE(**out) << (**out).err().message;
    if (!**out) return {};
    return (**out).value();
  }

  static poll_request request(std::string stream, core::cursor from = core::cursor::oldest()) {
    poll_request r;
    r.streams = {std::move(stream)};
    r.from = from;
    return r;
  }

  void drain() {
    io_.restart();
    io_.poll();
  }

  // Passes `d` and lets the engine's ticker run, as the server does.
  void tick_after(std::chrono::milliseconds d) {
    clock_.advance(d);
    engine_->tick();
    drain();
  }

  core::manual_clock clock_;
  net::io_context io_;  // outlives the engine, whose hub posts the last wakes to it
  std::unique_ptr<store::memory::memory_store> store_;
  std::unique_ptr<engine> engine_;
};

TEST_F(Engine, PublishReturnsPositionsInOrder) {
  EXPECT_EQ(publish({ev("a"), ev("b"), ev("a")}), (std::vector<core::position>{1, 2, 3}));
  EXPECT_EQ(publish_one("a"), 4u);
  auto info = std::make_shared<std::optional<core::result<store::stream_info>>>();
  net::co_spawn(
      io_,
      [e = engine_.get(), info]() -> net::awaitable<void> {
        info->emplace(co_await e->async_info("a"));
      },
      rethrow);
  drain();
  ASSERT_TRUE(info->has_value() && **info);
  EXPECT_EQ((**info)->head, 4u);
  EXPECT_EQ((**info)->retained, 3u);
}

TEST_F(Engine, PublishToAClosedStoreFailsWithShuttingDown) {
  store_->close();
  auto out = start_publish({ev("a")});
  drain();
  ASSERT_TRUE(out->has_value());
  ASSERT_FALSE(**out);
  EXPECT_EQ((**out).err().code, core::errc::shutting_down);
}

TEST_F(Engine, PollReturnsExistingEventsAtOnce) {
  publish({ev("a", "x", R"({"n":1})"), ev("b"), ev("a", "y")});
  auto r = poll_now(request("a"));
  EXPECT_EQ(positions(r.events), (std::vector<core::position>{1, 3}));
  EXPECT_EQ(r.events[0]->data, R"({"n":1})");
  EXPECT_EQ(r.next, 3u);
  EXPECT_EQ(r.reason, wake_reason::events);
  EXPECT_FALSE(r.gap);

  auto after = poll_now(request("a", core::cursor::after_position(1)));
  EXPECT_EQ(positions(after.events), (std::vector<core::position>{3}));
  EXPECT_EQ(engine_->total_waiters(), 0u);
}

TEST_F(Engine, PollWithNowWaitsForTheNextEvent) {
  publish({ev("a"), ev("a")});
  auto out = start_poll(request("a", core::cursor::now()));
  EXPECT_FALSE(out->has_value());
  EXPECT_EQ(engine_->waiters("a"), 1u);
  EXPECT_EQ(publish_one("a"), 3u);
  ASSERT_TRUE(out->has_value() && **out);
  EXPECT_EQ(positions((**out)->events), (std::vector<core::position>{3}));
  EXPECT_EQ((**out)->next, 3u);
  EXPECT_EQ(engine_->total_waiters(), 0u);
}

TEST_F(Engine, NowOnAnEmptyStreamTimesOutAtZero) {
  auto req = request("a", core::cursor::now());
  req.timeout = 0ms;
  auto r = poll_now(req);
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(r.next, 0u);
  EXPECT_EQ(r.reason, wake_reason::timeout);
}

TEST_F(Engine, ParkedPollIsReleasedByAPublish) {
  publish_one("a");
  auto out = start_poll(request("a", core::cursor::after_position(1)));
  ASSERT_FALSE(out->has_value());
  EXPECT_EQ(engine_->waiters("a"), 1u);
  publish_one("b");  // another stream: still parked
  EXPECT_FALSE(out->has_value());
  EXPECT_EQ(engine_->waiters("a"), 1u);

  auto pub = start_publish({ev("a", "x"), ev("a", "y")});
  drain();
  ASSERT_TRUE(pub->has_value() && **pub);
  ASSERT_TRUE(out->has_value() && **out);
  const auto& r = (**out).value();
  EXPECT_EQ(positions(r.events), (std::vector<core::position>{3, 4}));
  EXPECT_EQ(r.next, 4u);
  EXPECT_EQ(r.reason, wake_reason::events);
  EXPECT_EQ(engine_->total_waiters(), 0u);
}

TEST_F(Engine, TimeoutAnswersEmptyWithTheCursorUnchanged) {
  publish({ev("a"), ev("a")});
  auto req = request("a", core::cursor::after_position(2));
  req.timeout = 5s;
  auto out = start_poll(req);
  ASSERT_FALSE(out->has_value());
  tick_after(4999ms);
  EXPECT_FALSE(out->has_value());
  tick_after(1ms);
  ASSERT_TRUE(out->has_value() && **out);
  const auto& r = (**out).value();
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(r.next, 2u);
  EXPECT_EQ(r.reason, wake_reason::timeout);
  EXPECT_FALSE(r.gap);
  EXPECT_EQ(engine_->total_waiters(), 0u);
}

TEST_F(Engine, ZeroTimeoutAnswersAtOnce) {
  auto req = request("a");
  req.timeout = 0ms;
  auto r = poll_now(req);
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(r.reason, wake_reason::timeout);
  EXPECT_EQ(r.next, 0u);
}

TEST_F(Engine, TypeFilterSkipsEventsAndAdvancesNext) {
  publish({ev("a", "chat"), ev("a", "tip"), ev("a", "chat"), ev("a", "tip"), ev("a", "chat")});
  auto req = request("a");
  req.filter = core::event_filter({"tip"});
  auto r = poll_now(req);
  EXPECT_EQ(positions(r.events), (std::vector<core::position>{2, 4}));
  EXPECT_EQ(r.next, 5u) << "the trailing chat was seen and skipped";

  // Nothing accepted at all: the poll parks, then times out past the skipped events.
  req.from = core::cursor::after_position(5);
  req.timeout = 1s;
  publish({ev("a", "chat"), ev("a", "chat")});  // 6, 7
  auto out = start_poll(req);
  ASSERT_FALSE(out->has_value());
  tick_after(1s);
  ASSERT_TRUE(out->has_value() && **out);
  EXPECT_TRUE((**out)->events.empty());
  EXPECT_EQ((**out)->next, 7u);
  EXPECT_EQ((**out)->reason, wake_reason::timeout);
}

TEST_F(Engine, FilteredOutPublishKeepsThePollParked) {
  auto req = request("a", core::cursor::now());
  req.filter = core::event_filter({"tip"});
  auto out = start_poll(req);
  publish_one("a", "chat");
  EXPECT_FALSE(out->has_value());
  EXPECT_EQ(engine_->waiters("a"), 1u);
  publish_one("a", "tip");
  ASSERT_TRUE(out->has_value() && **out);
  EXPECT_EQ(positions((**out)->events), (std::vector<core::position>{2}));
  EXPECT_EQ((**out)->next, 2u);
}

TEST_F(Engine, ATimedOutPollsNextIsPastWhatItsFilterRefusedWhileItWaited) {
  auto req = request("a", core::cursor::after_position(0));
  req.filter = core::event_filter({"tip"});
  req.timeout = 1s;
  auto out = start_poll(req);
  ASSERT_FALSE(out->has_value());
  publish({ev("a", "chat"), ev("a", "chat"), ev("a", "chat")});  // 1-3: no wake-up
  EXPECT_FALSE(out->has_value());
  tick_after(1s);
  ASSERT_TRUE(out->has_value() && **out);
  EXPECT_TRUE((**out)->events.empty());
  EXPECT_EQ((**out)->next, 3u) << "resuming from next does not scan them again";
  EXPECT_EQ((**out)->reason, wake_reason::timeout);
}

TEST_F(Engine, LimitCapsTheAnswerAndNextResumes) {
  for (int i = 0; i < 7; ++i) publish_one("a");
  auto req = request("a");
  req.limit = 3;
  auto r1 = poll_now(req);
  EXPECT_EQ(positions(r1.events), (std::vector<core::position>{1, 2, 3}));
  EXPECT_EQ(r1.next, 3u);
  req.from = core::cursor::after_position(r1.next);
  auto r2 = poll_now(req);
  EXPECT_EQ(positions(r2.events), (std::vector<core::position>{4, 5, 6}));
  req.from = core::cursor::after_position(r2.next);
  auto r3 = poll_now(req);
  EXPECT_EQ(positions(r3.events), (std::vector<core::position>{7}));
  EXPECT_EQ(r3.next, 7u);
}

TEST_F(Engine, LimitCountsAcceptedEventsOnly) {
  // chunked reads of `limit` must keep going past filtered-out events
  for (int i = 0; i < 10; ++i) publish_one("a", i % 5 == 4 ? "tip" : "chat");  // tips at 5, 10
  auto req = request("a");
  req.limit = 2;
  req.filter = core::event_filter({"tip"});
  auto r = poll_now(req);
  EXPECT_EQ(positions(r.events), (std::vector<core::position>{5, 10}));
  EXPECT_EQ(r.next, 10u);
}

TEST_F(Engine, GapForATrimmedCursorButNotForOldest) {
  store::retention_policy keep3;
  keep3.fallback.max_events = 3;
  use_retention(keep3);
  for (int i = 0; i < 6; ++i) publish_one("a");  // keeps 4 5 6

  auto stale = poll_now(request("a", core::cursor::after_position(1)));
  EXPECT_TRUE(stale.gap);
  EXPECT_EQ(positions(stale.events), (std::vector<core::position>{4, 5, 6}));

  auto oldest = poll_now(request("a"));
  EXPECT_FALSE(oldest.gap) << "no cursor, nothing missed: start from the oldest quietly";
  EXPECT_EQ(positions(oldest.events), (std::vector<core::position>{4, 5, 6}));

  auto edge = poll_now(request("a", core::cursor::after_position(3)));
  EXPECT_FALSE(edge.gap);
  EXPECT_EQ(positions(edge.events), (std::vector<core::position>{4, 5, 6}));
}

TEST_F(Engine, GapIsReportedEvenWhenThePollThenParks) {
  store::retention_policy keep1;
  keep1.fallback.max_events = 1;
  use_retention(keep1);
  publish({ev("a", "chat"), ev("a", "chat")});  // keeps 2
  auto req = request("a", core::cursor::after_position(0));
  req.filter = core::event_filter({"tip"});
  auto out = start_poll(req);
  ASSERT_FALSE(out->has_value());
  publish_one("a", "tip");
  ASSERT_TRUE(out->has_value() && **out);
  EXPECT_TRUE((**out)->gap);
  EXPECT_EQ(positions((**out)->events), (std::vector<core::position>{3}));
}

TEST_F(Engine, GapIsReportedWhenEventsAreTrimmedWhileParked) {
  // The poll is parked at 1 when one batch of five lands on a stream that keeps three: it
  // wakes to find 2 and 3 already gone, and must say so rather than skip them silently.
  store::retention_policy keep3;
  keep3.fallback.max_events = 3;
  use_retention(keep3);
  publish_one("a");
  auto out = start_poll(request("a", core::cursor::after_position(1)));
  ASSERT_FALSE(out->has_value());
  publish({ev("a"), ev("a"), ev("a"), ev("a"), ev("a")});  // 2..6, keeps 4 5 6
  ASSERT_TRUE(out->has_value() && **out);
  EXPECT_EQ(positions((**out)->events), (std::vector<core::position>{4, 5, 6}));
  EXPECT_TRUE((**out)->gap);
}

TEST_F(Engine, GapIsReportedForANowCursorOvertakenWhileParked) {
  store::retention_policy keep1;
  keep1.fallback.max_events = 1;
  use_retention(keep1);
  publish_one("a");
  auto out = start_poll(request("a", core::cursor::now()));  // from 1
  publish({ev("a"), ev("a")});                               // 2 is trimmed at once
  ASSERT_TRUE(out->has_value() && **out);
  EXPECT_EQ(positions((**out)->events), (std::vector<core::position>{3}));
  EXPECT_TRUE((**out)->gap);
}

TEST_F(Engine, MultiStreamPollMergesByPosition) {
  publish({ev("{g}a"), ev("{g}b"), ev("{g}a"), ev("other"), ev("{g}b")});  // a: 1 3, b: 2 5
  poll_request req;
  req.streams = {"{g}a", "{g}b"};
  auto r = poll_now(req);
  EXPECT_EQ(positions(r.events), (std::vector<core::position>{1, 2, 3, 5}));
  EXPECT_EQ(r.next, 5u);

  // with a limit, the merge stops at a position complete in every stream
  publish({ev("{g}a"), ev("{g}a"), ev("{g}a"), ev("{g}b")});  // a: 6 7 8, b: 9
  req.from = core::cursor::after_position(5);
  req.limit = 2;
  auto r1 = poll_now(req);
  EXPECT_EQ(positions(r1.events), (std::vector<core::position>{6, 7}));
  req.from = core::cursor::after_position(r1.next);
  auto r2 = poll_now(req);
  EXPECT_EQ(positions(r2.events), (std::vector<core::position>{8, 9}));
}

TEST_F(Engine, MultiStreamLimitNeverSkipsALaterStreamsEarlierEvent) {
  // b's events sit between a's: a chunk of a alone must not move `next` past them.
  publish({ev("{g}a"), ev("{g}a"), ev("{g}b"), ev("{g}a"), ev("{g}b"), ev("{g}a")});
  poll_request req;
  req.streams = {"{g}a", "{g}b"};
  req.limit = 2;
  std::vector<core::position> seen;
  for (int i = 0; i < 4; ++i) {
    auto r = poll_now(req);
    auto p = positions(r.events);
    seen.insert(seen.end(), p.begin(), p.end());
    req.from = core::cursor::after_position(r.next);
    if (r.next == 6) break;
  }
  EXPECT_EQ(seen, (std::vector<core::position>{1, 2, 3, 4, 5, 6}));
}

TEST_F(Engine, MultiStreamParkedPollWakesOnEitherStream) {
  poll_request req;
  req.streams = {"{g}a", "{g}b"};
  req.from = core::cursor::now();
  auto out = start_poll(req);
  EXPECT_EQ(engine_->waiters("{g}a"), 1u);
  EXPECT_EQ(engine_->waiters("{g}b"), 1u);
  EXPECT_EQ(engine_->total_waiters(), 1u);
  publish_one("{g}b");
  ASSERT_TRUE(out->has_value() && **out);
  EXPECT_EQ(positions((**out)->events), (std::vector<core::position>{1}));
  EXPECT_EQ(engine_->waiters("{g}a"), 0u);
  EXPECT_EQ(engine_->waiters("{g}b"), 0u);
}

TEST_F(Engine, AStreamListedTwiceIsPolledOnce) {
  publish({ev("a"), ev("a")});
  poll_request req;
  req.streams = {"a", "a"};
  auto r = poll_now(req);
  EXPECT_EQ(positions(r.events), (std::vector<core::position>{1, 2}));
  req.from = core::cursor::now();
  auto out = start_poll(req);
  EXPECT_EQ(engine_->waiters("a"), 1u);
  publish_one("a");
  ASSERT_TRUE(out->has_value() && **out);
  EXPECT_EQ(positions((**out)->events), (std::vector<core::position>{3}));
  EXPECT_EQ(engine_->total_waiters(), 0u);
}

TEST_F(Engine, NoStreamIsABadRequest) {
  auto out = start_poll(poll_request{});
  ASSERT_TRUE(out->has_value());
  ASSERT_FALSE(**out);
  EXPECT_EQ((**out).err().code, core::errc::bad_request);
}

TEST_F(Engine, ShutdownAnswersParkedPollsAndLaterOnes) {
  auto p1 = start_poll(request("a", core::cursor::now()));
  auto p2 = start_poll(request("b", core::cursor::now()));
  EXPECT_EQ(engine_->total_waiters(), 2u);
  engine_->shutdown();
  drain();
  for (const auto& out : {p1, p2}) {
    ASSERT_TRUE(out->has_value() && **out);
    EXPECT_TRUE((**out)->events.empty());
    EXPECT_EQ((**out)->reason, wake_reason::shutdown);
  }
  EXPECT_EQ(engine_->total_waiters(), 0u);

  // After shutdown a poll that would park answers at once; one that finds events answers them.
  auto late = start_poll(request("a", core::cursor::now()));
  ASSERT_TRUE(late->has_value() && **late);
  EXPECT_EQ((**late)->reason, wake_reason::shutdown);
  publish_one("a");
  auto found = poll_now(request("a"));
  EXPECT_EQ(found.events.size(), 1u);
  EXPECT_EQ(found.reason, wake_reason::events);
}

TEST_F(Engine, NewerPollWithTheSameKeySupersedesTheParkedOne) {
  auto req = request("a", core::cursor::now());
  req.key = "queue:7";
  auto first = start_poll(req);
  auto second = start_poll(req);
  ASSERT_TRUE(first->has_value() && **first);
  EXPECT_EQ((**first)->reason, wake_reason::superseded);
  EXPECT_FALSE(second->has_value());
  EXPECT_EQ(engine_->waiters("a"), 1u);
  publish_one("a");
  ASSERT_TRUE(second->has_value() && **second);
  EXPECT_EQ((**second)->events.size(), 1u);
}

TEST_F(Engine, CancelledPollLeavesNoWaiter) {
  using namespace net::experimental::awaitable_operators;
  std::optional<std::size_t> winner;
  auto out = std::make_shared<std::optional<core::result<poll_result>>>();
  net::co_spawn(
      io_,
      [&, e = engine_.get()]() -> net::awaitable<void> {
        auto poll = [](engine* en, auto o) -> net::awaitable<void> {
          o->emplace(co_await en->async_poll(request("a", core::cursor::now())));
        };
        net::steady_timer timer(co_await net::this_coro::executor);
        timer.expires_after(0ms);
        auto r = co_await (poll(e, out) || timer.async_wait(net::use_awaitable));
        winner = r.index();
      },
      rethrow);
  io_.run_for(10s);
  EXPECT_EQ(winner, 1u);
  EXPECT_EQ(engine_->waiters("a"), 0u);
  EXPECT_EQ(engine_->total_waiters(), 0u);
  EXPECT_EQ(publish_one("a"), 1u);
}

TEST_F(Engine, ManyParkedPollsAreAllReleasedByOnePublish) {
  std::vector<answer<poll_result>> polls;
  for (int i = 0; i < 50; ++i) polls.push_back(start_poll(request("a", core::cursor::now())));
  EXPECT_EQ(engine_->waiters("a"), 50u);
  publish_one("a");
  for (const auto& out : polls) {
    ASSERT_TRUE(out->has_value() && **out);
    ASSERT_EQ((**out)->events.size(), 1u);
    EXPECT_EQ((**out)->events[0].get(), polls[0]->value()->events[0].get()) << "one shared event";
  }
  EXPECT_EQ(engine_->total_waiters(), 0u);
}

TEST_F(Engine, AgeRetentionRunsOnTick) {
  store::retention_policy brief;
  brief.fallback.max_age = 1s;
  use_retention(brief);
  publish_one("a");
  tick_after(2s);
  auto r = poll_now([] {
    auto req = request("a", core::cursor::after_position(0));
    req.timeout = 0ms;
    return req;
  }());
  EXPECT_TRUE(r.events.empty());
  EXPECT_TRUE(r.gap);
}

TEST_F(Engine, ScanCapAnswersInsteadOfParkingOverUnreadEvents) {
  // A narrow filter over a long run of other events: a poll scans at most a bounded number of
  // events, but must not then park while unread events remain, or an event its filter accepts,
  // already stored, would wait for the next publish or the full timeout.
  std::vector<core::new_event> noise(25'000, ev("a", "chat"));
  publish(std::move(noise));
  publish_one("a", "tip");  // 25001
  auto req = request("a");
  req.filter = core::event_filter({"tip"});
  std::vector<core::position> found;
  for (int i = 0; i < 10 && found.empty(); ++i) {
    auto r = poll_now(req);  // fails if it parks
    EXPECT_EQ(engine_->total_waiters(), 0u);
    found = positions(r.events);
    req.from = core::cursor::after_position(r.next);
  }
  EXPECT_EQ(found, (std::vector<core::position>{25'001}));
}

TEST_F(Engine, ALatestCursorStartsAtTheNewestEvents) {
  std::vector<core::new_event> events;
  for (int i = 0; i < 10; ++i) events.push_back(ev(i % 3 ? "{g}a" : "{g}b"));
  const auto p = publish(std::move(events));  // {g}b at 1, 4, 7, 10
  auto req = request("{g}a", core::cursor::latest(3));
  req.timeout = 0ms;
  auto r = poll_now(req);
  EXPECT_EQ(positions(r.events), (std::vector<core::position>{p[5], p[7], p[8]}));
  EXPECT_FALSE(r.gap);
  EXPECT_EQ(r.next, p[8]);
  req.from = core::cursor::latest(100);
  EXPECT_EQ(poll_now(req).events.size(), 6u) << "fewer than asked: all of them";
  req.streams = {"{g}a", "{g}b"};
  req.from = core::cursor::latest(4);
  EXPECT_EQ(positions(poll_now(req).events), (std::vector<core::position>{p[6], p[7], p[8], p[9]}))
      << "the newest of the streams together";
}

TEST_F(Engine, ALatestCursorOnAnEmptyStreamWaitsForTheNext) {
  publish_one("other");
  auto out = start_poll(request("a", core::cursor::latest(100)));
  EXPECT_FALSE(out->has_value());
  const auto p = publish_one("a");
  ASSERT_TRUE(out->has_value() && **out);
  EXPECT_EQ(positions((**out)->events), (std::vector<core::position>{p}));
}

TEST_F(Engine, AGuardedStreamRefusesEventsThatFailItsCheck) {
  auto needs_amount = std::make_shared<const publish_check>(
      [](const core::new_event& e) -> std::optional<std::string> {
        if (e.data.find("amount") == std::string::npos) return "'amount' is required";
        return std::nullopt;
      });
  engine_->guard_streams("tips", {"room:a"}, needs_amount);
  EXPECT_EQ(publish({ev("room:a", "tip", R"({"amount":1})"), ev("other")}).size(), 2u);
  auto refused = start_publish({ev("room:b"), ev("room:a", "tip", "{}")});
  drain();
  ASSERT_TRUE(refused->has_value());
  ASSERT_FALSE(**refused);
  EXPECT_EQ((**refused).err().code, core::errc::bad_request);
  EXPECT_EQ((**refused).err().message,
            "events[1]: a 'tip' event on stream 'room:a' (served by the tips dialect): 'amount' is "
            "required");
  EXPECT_EQ(store_->try_info("room:b")->value().head, 0u) << "the whole batch is refused";
  auto single = start_publish({ev("room:a", "tip", "{}")});
  drain();
  EXPECT_EQ((**single).err().message,
            "a 'tip' event on stream 'room:a' (served by the tips dialect): 'amount' is required");

  // An owner replaces its own set; another owner's checks stay.
  auto never = std::make_shared<const publish_check>(
      [](const core::new_event&) -> std::optional<std::string> { return "closed"; });
  engine_->guard_streams("other", {"room:c"}, never);
  engine_->guard_streams("tips", {"room:b"}, needs_amount);
  EXPECT_EQ(publish({ev("room:a", "tip", "{}")}).size(), 1u) << "no longer guarded by tips";
  auto c = start_publish({ev("room:c")});
  drain();
  EXPECT_FALSE(**c);
  engine_->guard_streams("other", {}, never);
  engine_->guard_streams("tips", {}, needs_amount);
  EXPECT_EQ(publish({ev("room:c"), ev("room:b")}).size(), 2u);
}

TEST_F(Engine, AScanCapIsNotADeadline) {
  // Zulip answers a passed deadline with a heartbeat and Box with `reconnect`: a poll that
  // stopped at its scan cap must not look like one.
  publish(std::vector<core::new_event>(12'000, ev("a", "chat")));
  auto req = request("a");
  req.filter = core::event_filter({"tip"});
  req.timeout = 30s;
  auto capped = poll_now(req);
  EXPECT_TRUE(capped.events.empty());
  EXPECT_EQ(capped.reason, wake_reason::scan_limit);
  EXPECT_GT(capped.next, 0u);
  req.from = core::cursor::after_position(capped.next);
  req.timeout = 0ms;
  auto rest = poll_now(req);
  EXPECT_EQ(rest.reason, wake_reason::timeout) << "scanned to the end, nothing found, no time";
  EXPECT_EQ(rest.next, 12'000u);
  auto found = poll_now(request("a"));
  EXPECT_EQ(found.reason, wake_reason::events);
}

TEST_F(Engine, APollPastItsDeadlineSaysTimeout) {
  auto req = request("a", core::cursor::now());
  req.timeout = 1s;
  auto out = start_poll(req);
  ASSERT_FALSE(out->has_value());
  tick_after(1s);
  ASSERT_TRUE(out->has_value() && **out);
  EXPECT_EQ((**out)->reason, wake_reason::timeout);
}

TEST_F(Engine, StreamsOfDifferentTagsAreRefused) {
  for (std::vector<std::string> streams :
       {std::vector<std::string>{"{acme}a", "{other}b"}, {"a", "b"}, {"{acme}a", "{acm}a"}}) {
    poll_request req;
    req.streams = streams;
    auto out = start_poll(req);
    ASSERT_TRUE(out->has_value());
    ASSERT_FALSE(**out) << streams[0] << " " << streams[1];
    EXPECT_EQ((**out).err().code, core::errc::bad_request);
    EXPECT_NE((**out).err().message.find("must share a {tag}"), std::string::npos);
    EXPECT_EQ(engine_->total_waiters(), 0u);
  }
  poll_request same;
  same.streams = {"{acme}user:1", "{acme}public"};
  same.timeout = 0ms;
  EXPECT_TRUE(poll_now(same).events.empty());
}

// A memory store that runs a hook right after one read of a given stream: a deterministic
// stand-in for another thread's append landing between the reads of a multi-stream poll.
namespace st = ::eventfeed::store;

class interleaving_store final : public ::eventfeed::store::store {
 public:
  explicit interleaving_store(st::memory::memory_store& inner) : inner_(inner) {}
  void after_next_read_of(std::string stream, std::function<void()> hook) {
    hook_stream_ = std::move(stream);
    hook_ = std::move(hook);
  }

  void append(std::vector<core::new_event> events, st::append_callback done) override {
    inner_.append(std::move(events), std::move(done));
  }
  std::optional<core::result<st::read_result>> try_read(std::string_view stream,
                                                        core::position after,
                                                        std::size_t limit) override {
    auto r = inner_.try_read(stream, after, limit);
    if (hook_ && stream == hook_stream_) std::exchange(hook_, nullptr)();
    return r;
  }
  void read(std::string stream, core::position after, std::size_t limit,
            st::read_callback done) override {
    done(std::move(*try_read(stream, after, limit)));
  }
  std::optional<core::result<st::read_result>> try_read_last(std::string_view stream,
                                                             std::size_t limit) override {
    return inner_.try_read_last(stream, limit);
  }
  void read_last(std::string stream, std::size_t limit, st::read_callback done) override {
    inner_.read_last(std::move(stream), limit, std::move(done));
  }
  std::optional<core::result<st::stream_info>> try_info(std::string_view stream) override {
    return inner_.try_info(stream);
  }
  void info(std::string stream, st::info_callback done) override {
    inner_.info(std::move(stream), std::move(done));
  }
  std::optional<std::string> get_record(std::string_view kind, std::string_view key) override {
    return inner_.get_record(kind, key);
  }
  std::vector<std::pair<std::string, std::string>> list_records(std::string_view kind) override {
    return inner_.list_records(kind);
  }
  void put_record(std::string kind, std::string key, std::string value,
                  st::done_callback done) override {
    inner_.put_record(std::move(kind), std::move(key), std::move(value), std::move(done));
  }
  void erase_record(std::string kind, std::string key, st::done_callback done) override {
    inner_.erase_record(std::move(kind), std::move(key), std::move(done));
  }
  void swap_record(std::string kind, std::string key, std::optional<std::string> expected,
                   std::optional<std::string> value, std::int64_t expires_at_ms,
                   st::swap_callback done) override {
    inner_.swap_record(std::move(kind), std::move(key), std::move(expected), std::move(value),
                       expires_at_ms, std::move(done));
  }
  void trim_expired() override { inner_.trim_expired(); }
  void close() override { inner_.close(); }
  std::string_view backend_name() const noexcept override { return "interleaving"; }

 private:
  st::memory::memory_store& inner_;
  std::string hook_stream_;
  std::function<void()> hook_;
};

TEST(EngineInterleaving, MultiStreamPollNeverSkipsAnEventCommittedBetweenItsReads) {
  // The poll reads {g}a, then {g}b. Between the two, 3 lands on a (already read) and 4 on b.
  // Seeing 4 in b must not move `next` past 3, which this read of a could not see.
  core::manual_clock clock;
  store::memory::memory_store inner({}, &clock);
  interleaving_store store(inner);
  net::io_context io;
  engine e(store, clock, 4);
  auto put = [&](std::vector<core::new_event> events) {
    inner.append(std::move(events), [](auto r) { ASSERT_TRUE(r); });
  };
  put({ev("{g}a"), ev("{g}b")});                                             // 1, 2
  store.after_next_read_of("{g}a", [&] { put({ev("{g}a"), ev("{g}b")}); });  // 3, 4

  poll_request req;
  req.streams = {"{g}b", "{g}a"};
  req.timeout = 0ms;
  std::vector<core::position> seen;
  for (int i = 0; i < 3 && seen.size() < 4; ++i) {
    std::optional<core::result<poll_result>> out;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> { out.emplace(co_await e.async_poll(poll_request(req))); },
        rethrow);
    io.restart();
    io.run();
    ASSERT_TRUE(out && *out);
    for (const auto& event : (*out)->events) seen.push_back(event->pos);
    req.from = core::cursor::after_position((*out)->next);
  }
  EXPECT_EQ(seen, (std::vector<core::position>{1, 2, 3, 4}));
}

net::awaitable<void> publish_many(engine& e, std::string stream, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<core::new_event> one{ev(stream)};  // (GCC 12: no braced list across co_await)
    auto r = co_await e.async_publish(std::move(one));
    EXPECT_TRUE(r);
  }
}

// Two publishers on their own threads and io_contexts, one multi-stream poller on a third: the
// poller, following `next`, must see every position exactly once and in order. A lost wake-up
// leaves it parked (the manual clock never reaches its deadline) and fails the bounded run.
TEST(EngineThreads, ConcurrentPublishersAndAPollerLoseNothing) {
  constexpr std::size_t per_publisher = 300;
  core::manual_clock clock;
  store::memory::memory_store store({}, &clock);
  net::io_context poll_io;  // before the engine: its hub may post to it on destruction
  engine e(store, clock, 4);
  std::vector<core::position> seen;
  bool done = false;
  net::co_spawn(
      poll_io,
      [&]() -> net::awaitable<void> {
        poll_request req;
        req.streams = {"{g}a", "{g}b"};
        req.limit = 7;
        req.timeout = 1h;
        while (seen.size() < 2 * per_publisher) {
          auto r = co_await e.async_poll(poll_request(req));
          if (!r) co_return;
          for (const auto& event : r->events) seen.push_back(event->pos);
          req.from = core::cursor::after_position(r->next);
        }
        done = true;
      },
      rethrow);
  {
    std::vector<std::jthread> threads;
    threads.emplace_back([&] { poll_io.run_for(60s); });
    for (const char* stream : {"{g}a", "{g}b"}) {
      threads.emplace_back([&e, stream] {
        net::io_context io;
        net::co_spawn(io, publish_many(e, stream, per_publisher), rethrow);
        io.run();
      });
    }
  }
  EXPECT_TRUE(done) << "the poller stopped after " << seen.size() << " events";
  std::vector<core::position> expected(2 * per_publisher);
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = i + 1;
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(e.total_waiters(), 0u);
}

}  // namespace
}  // namespace eventfeed::feed
