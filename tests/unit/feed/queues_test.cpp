#include "feed/queues.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <regex>

#include "run_awaitable.hpp"
#include "store/memory/memory_store.hpp"

namespace eventfeed::feed {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

// A registry over a memory store and a manual clock; the coroutines run on a plain io_context.
class Queues : public ::testing::Test {
 protected:
  template <class T>
  T run(net::awaitable<T> work) {
    return testing::run_awaitable(io_, std::move(work));
  }

  queue_spec spec(std::string owner = "bot", std::chrono::seconds lifespan = 600s) {
    queue_spec s;
    s.owner = std::move(owner);
    s.streams = {"{acme}user:11", "{acme}public"};
    s.filter = core::event_filter({"message"});
    s.lifespan = lifespan;
    s.attributes = R"({"apply_markdown":false})";
    return s;
  }

  queue_snapshot create(queue_registry& r, queue_spec s, core::position base = 0) {
    auto created = run(r.async_create(std::move(s), base));
    EXPECT_TRUE(created) << (created ? "" : created.err().message);
    return created ? *created : queue_snapshot{};
  }

  json::object stored(const std::string& id) {
    auto value = store_.get_record("queue", id);
    EXPECT_TRUE(value.has_value()) << id;
    return value ? json::parse(*value).as_object() : json::object{};
  }

  void publish(std::string stream, int n) {
    std::vector<core::new_event> events;
    for (int i = 0; i < n; ++i) events.push_back({stream, "message", "{}"});
    store_.append(std::move(events), [](auto) {});
  }

  core::manual_clock clock_;
  store::memory::memory_store store_{{}, &clock_};
  net::io_context io_;
  queue_limits limits_{3, 5, 5s};
};

TEST_F(Queues, ACreatedQueueIsDurableWithItsSpec) {
  queue_registry r(store_, clock_, "queue", limits_);
  publish("{acme}user:11", 2);
  const auto q = create(r, spec(), 2);
  EXPECT_TRUE(std::regex_match(
      q.id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << q.id;
  EXPECT_EQ(q.base, 2u);
  EXPECT_EQ(q.acked, 2u);
  EXPECT_EQ(q.delivered, 2u);
  auto o = stored(q.id);
  EXPECT_EQ(o.at("owner"), "bot");
  EXPECT_EQ(o.at("acked"), 2);
  EXPECT_EQ(o.at("attributes"), R"({"apply_markdown":false})");
  auto found = r.find(q.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->spec.streams, spec().streams);
  EXPECT_EQ(found->spec.filter.types(), std::vector<std::string>{"message"});
  EXPECT_FALSE(r.find("nope"));
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(r.owned_by("bot"), 1u);
}

TEST_F(Queues, AcknowledgementsMoveWithinWhatWasDelivered) {
  queue_registry r(store_, clock_, "queue", limits_);
  const auto q = create(r, spec(), 10);
  core::position acked = 0;
  EXPECT_EQ(r.acknowledge(q.id, 10, &acked), ack_outcome::ok) << "acknowledging the start";
  EXPECT_EQ(r.acknowledge(q.id, 12, &acked), ack_outcome::ahead);
  EXPECT_EQ(acked, 10u);
  r.delivered(q.id, 15);
  EXPECT_EQ(r.acknowledge(q.id, 12, &acked), ack_outcome::ok);
  EXPECT_EQ(acked, 12u);
  EXPECT_EQ(r.acknowledge(q.id, 11, &acked), ack_outcome::behind);
  EXPECT_EQ(acked, 12u);
  EXPECT_EQ(r.acknowledge(q.id, 12), ack_outcome::ok) << "the same again is fine";
  EXPECT_EQ(r.acknowledge(q.id, 15), ack_outcome::ok);
  EXPECT_EQ(r.acknowledge("nope", 1), ack_outcome::unknown);
  r.delivered(q.id, 14);
  EXPECT_EQ(r.find(q.id)->delivered, 15u) << "delivered never moves back";
}

TEST_F(Queues, AcknowledgementsReachTheStoreLazily) {
  queue_registry r(store_, clock_, "queue", limits_);
  const auto q = create(r, spec(), 0);
  r.delivered(q.id, 20);
  ASSERT_EQ(r.acknowledge(q.id, 7), ack_outcome::ok);
  EXPECT_EQ(stored(q.id).at("acked"), 0) << "not written within the interval";
  clock_.advance(5s);
  ASSERT_EQ(r.acknowledge(q.id, 9), ack_outcome::ok);
  EXPECT_EQ(stored(q.id).at("acked"), 9) << "written once the interval passed";
  ASSERT_EQ(r.acknowledge(q.id, 11), ack_outcome::ok);
  r.sweep();
  EXPECT_EQ(stored(q.id).at("acked"), 11) << "the sweep writes what is left";
}

TEST_F(Queues, LimitsPerOwnerAndInAll) {
  queue_registry r(store_, clock_, "queue", limits_);
  for (int i = 0; i < 3; ++i) create(r, spec("bot"));
  auto refused = run(r.async_create(spec("bot"), 0));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.err().code, core::errc::payload_too_large);
  EXPECT_EQ(refused.err().message, "too many queues for this user (at most 3)");
  create(r, spec("eve"));
  create(r, spec("eve"));
  auto full = run(r.async_create(spec("zed"), 0));
  ASSERT_FALSE(full);
  EXPECT_EQ(full.err().message, "too many queues on this server (at most 5)");
  EXPECT_EQ(r.size(), 5u);
  EXPECT_EQ(r.owned_by("zed"), 0u);
}

TEST_F(Queues, TheSweepCollectsIdleQueuesButNotOnesBeingPolled) {
  queue_registry r(store_, clock_, "queue", limits_);
  const auto idle = create(r, spec("bot", 10s));
  const auto polled = create(r, spec("bot", 10s));
  r.begin_poll(polled.id);
  clock_.advance(9s);
  EXPECT_TRUE(r.sweep().empty());
  clock_.advance(1s);
  EXPECT_EQ(r.sweep(), std::vector<std::string>{idle.id});
  EXPECT_FALSE(r.find(idle.id));
  EXPECT_EQ(store_.get_record("queue", idle.id), std::nullopt);
  clock_.advance(60s);
  EXPECT_TRUE(r.sweep().empty()) << "a poll in progress keeps its queue";
  r.end_poll(polled.id);
  clock_.advance(9s);
  EXPECT_TRUE(r.sweep().empty()) << "the end of a poll is an access";
  clock_.advance(1s);
  EXPECT_EQ(r.sweep(), std::vector<std::string>{polled.id});
  EXPECT_EQ(r.owned_by("bot"), 0u);
}

TEST_F(Queues, RemovingDropsTheQueueAndItsRecord) {
  queue_registry r(store_, clock_, "queue", limits_);
  const auto q = create(r, spec());
  EXPECT_TRUE(run(r.async_remove(q.id)));
  EXPECT_FALSE(r.find(q.id));
  EXPECT_EQ(store_.get_record("queue", q.id), std::nullopt);
  EXPECT_FALSE(run(r.async_remove(q.id)));
  EXPECT_EQ(r.size(), 0u);
}

TEST_F(Queues, ARestartBringsQueuesBackOnceMarked) {
  std::string id;
  {
    queue_registry before(store_, clock_, "queue", limits_);
    const auto q = create(before, spec(), 0);
    id = q.id;
    publish("{acme}public", 4);
    before.delivered(id, 2);
    clock_.advance(5s);
    ASSERT_EQ(before.acknowledge(id, 2), ack_outcome::ok);
  }
  clock_.advance(30s);
  queue_registry after(store_, clock_, "queue", limits_);
  after.load();
  auto q = after.find(id);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->acked, 2u);
  EXPECT_EQ(q->delivered, 4u) << "up to the head: the consumer may have had it all";
  EXPECT_EQ(q->spec.filter.types(), std::vector<std::string>{"message"});
  EXPECT_EQ(q->spec.attributes, R"({"apply_markdown":false})");
  EXPECT_TRUE(after.take_restart(id));
  EXPECT_FALSE(after.take_restart(id));
  EXPECT_EQ(after.owned_by("bot"), 1u);
  clock_.advance(599s);
  EXPECT_TRUE(after.sweep().empty()) << "the restart counted as an access";
}

TEST_F(Queues, AQueueWhoseServerIsGoneExpiresInTheStore) {
  {
    queue_registry gone(store_, clock_, "queue", limits_);
    create(gone, spec("bot", 10s));
  }
  EXPECT_EQ(store_.list_records("queue").size(), 1u);
  clock_.advance(20s + 10min - 1ms);
  EXPECT_EQ(store_.list_records("queue").size(), 1u);
  clock_.advance(1ms);
  EXPECT_TRUE(store_.list_records("queue").empty())
      << "two lifespans and ten minutes after the last access";
  queue_registry after(store_, clock_, "queue", limits_);
  after.load();
  EXPECT_EQ(after.size(), 0u);
}

TEST_F(Queues, UseKeepsTheStoresExpiryAhead) {
  queue_registry r(store_, clock_, "queue", limits_);
  const auto q = create(r, spec("bot", 10s));
  for (int i = 0; i < 100; ++i) {
    r.begin_poll(q.id);
    clock_.advance(8s);
    r.end_poll(q.id);
  }
  EXPECT_TRUE(store_.get_record("queue", q.id).has_value())
      << "800 s of use, past the first expiry";
  r.begin_poll(q.id);
  for (int i = 0; i < 20; ++i) {
    clock_.advance(60s);
    r.sweep();
  }
  EXPECT_TRUE(store_.get_record("queue", q.id).has_value())
      << "a poll in progress for 20 minutes keeps it, sweep after sweep";
  r.end_poll(q.id);
}

}  // namespace
}  // namespace eventfeed::feed
