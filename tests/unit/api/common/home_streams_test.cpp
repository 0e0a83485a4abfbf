#include "api/common/home_streams.hpp"

#include <gtest/gtest.h>

#include "../dialect_test.hpp"

namespace eventfeed::api::common {
namespace {

class HomeStreams : public testing::dialect_test {
 protected:
  HomeStreams() : dialect_test(1'700'000'000'000, "http://127.0.0.1") {}

  // Publishes one event of `type` on `stream` through the engine (so the checks apply).
  core::result<std::vector<core::event_ptr>> publish(const std::string& stream,
                                                     const std::string& type) {
    return publish_checked({core::new_event{stream, type, std::string("{}")}});
  }

  static feed::publish_check only(std::string type) {
    return [type](const core::new_event& e) -> std::optional<std::string> {
      if (e.type == type) return std::nullopt;
      return "not a " + type;
    };
  }

  feed::rate_limiter limiter_{clock_, {2, std::chrono::minutes(1)}};
  key_directory keys_;
};

TEST_F(HomeStreams, TheRingResolvesEachCredentialToItsHomeStreamWithItsOwnBudget) {
  const auto streams =
      adopt_home_credentials(feed_, "test",
                             {{"tok-a", "", "user a", {"1", "A", "a@x"}, "s:a", "tok-a"},
                              {"tok-a2", "", "user a", {"1", "A", "a@x"}, "s:a", "tok-a2"},
                              {"tok-b", "bob", "user b", {"2", "B", "bob"}, "s:b", "tok-b"}},
                             limiter_, keys_, only("ok"));
  EXPECT_EQ(streams, (std::vector<std::string>{"s:a", "s:b"}));
  auto ring = keys_.current();
  ASSERT_EQ(ring->size(), 3u);
  const key_entry* a = ring->find_entry("tok-a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->who.home_stream(), "s:a");
  EXPECT_EQ(a->who.who.name, "A");
  EXPECT_EQ(a->who.name, "user a");
  EXPECT_EQ(ring->find_entry("bob", "tok-b")->who.who.id, "2");
  EXPECT_EQ(ring->find_entry("alice", "tok-b"), nullptr) << "the login must match";
  EXPECT_NE(a->rate, ring->find_entry("tok-a2")->rate) << "a budget per credential";
  EXPECT_EQ(a->rate, &limiter_.slot("tok-a"));
}

TEST_F(HomeStreams, HomeStreamsAreCheckedAndAReloadReplacesTheChecks) {
  adopt_home_credentials(feed_, "test", {{"t", "", "a", {}, "s:a", "t"}}, limiter_, keys_,
                         only("ok"));
  EXPECT_FALSE(publish("s:a", "bad"));
  EXPECT_TRUE(publish("s:a", "ok"));
  EXPECT_TRUE(publish("s:b", "bad")) << "not a home stream";
  limiter_.take(limiter_.slot("t"));
  adopt_home_credentials(feed_, "test", {{"t", "", "b", {}, "s:b", "t"}}, limiter_, keys_,
                         only("ok"));
  EXPECT_TRUE(publish("s:a", "bad")) << "no longer guarded";
  EXPECT_FALSE(publish("s:b", "bad"));
  feed::rate_slot& slot = *keys_.current()->find_entry("t")->rate;
  EXPECT_TRUE(limiter_.take(slot).allowed);
  EXPECT_FALSE(limiter_.take(slot).allowed) << "what was spent before the reload stays spent";
}

}  // namespace
}  // namespace eventfeed::api::common
