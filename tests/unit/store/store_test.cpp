#include "store/store.hpp"

#include <gtest/gtest.h>

namespace eventfeed::store {
namespace {

retention_rule rule(std::string glob, std::size_t max_events) {
  retention_rule r;
  r.pattern = core::stream_pattern(std::move(glob));
  r.max_events = max_events;
  return r;
}

TEST(RetentionPolicy, FirstMatchingRuleWins) {
  retention_policy p;
  p.rules = {rule("room:vip*", 1), rule("room:*", 2), rule("*", 3)};
  p.fallback = rule("", 4);
  EXPECT_EQ(p.for_stream("room:vip1").max_events, 1u);
  EXPECT_EQ(p.for_stream("room:alice").max_events, 2u);
  EXPECT_EQ(p.for_stream("user:1").max_events, 3u);
}

TEST(RetentionPolicy, UnmatchedStreamsGetTheFallback) {
  retention_policy p;
  p.rules = {rule("room:*", 2)};
  p.fallback = rule("*", 9);
  EXPECT_EQ(p.for_stream("user:1").max_events, 9u);
  EXPECT_EQ(&p.for_stream("user:1"), &p.fallback);
}

TEST(RetentionPolicy, DefaultsKeepAWeekOrOneHundredThousand) {
  retention_policy p;
  EXPECT_EQ(p.for_stream("any").max_events, 100'000u);
  EXPECT_EQ(p.for_stream("any").max_age, std::chrono::hours(24 * 7));
}

}  // namespace
}  // namespace eventfeed::store
