#include "api/box/channel_registry.hpp"

#include <gtest/gtest.h>

#include <set>

namespace eventfeed::api::box {
namespace {

using namespace std::chrono_literals;

class Channels : public ::testing::Test {
 protected:
  core::manual_clock clock_;
  channel_registry channels_{clock_, channel_limits{10min, 3, 4}};
};

TEST_F(Channels, APollLearnsItsChannelsStreamAndType) {
  const auto id = channels_.open("box:user:11", stream_type::changes);
  EXPECT_EQ(id.size(), 32u);
  auto grant = channels_.poll(id);
  ASSERT_TRUE(grant);
  EXPECT_EQ(grant->stream, "box:user:11");
  EXPECT_EQ(grant->type, stream_type::changes);
  EXPECT_EQ(grant->expires, clock_.steady_now() + 10min);
  EXPECT_FALSE(channels_.poll("nope"));
  EXPECT_FALSE(channels_.poll(""));
}

TEST_F(Channels, IdsAreDistinctAndUnguessable) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i)
    ids.insert(channels_.open("s" + std::to_string(i), stream_type::all));
  EXPECT_EQ(ids.size(), 100u);
  channel_registry other(clock_, {});
  EXPECT_FALSE(ids.contains(other.open("s0", stream_type::all))) << "a key per registry";
}

TEST_F(Channels, AChannelServesMaxRetriesPolls) {
  const auto id = channels_.open("s", stream_type::all);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(channels_.poll(id)) << i;
  EXPECT_FALSE(channels_.poll(id));
  EXPECT_FALSE(channels_.poll(id));
  EXPECT_TRUE(channels_.poll(channels_.open("s", stream_type::all))) << "a new channel";
}

TEST_F(Channels, AChannelExpiresAfterItsTtlAndIsCollected) {
  const auto first = channels_.open("a", stream_type::all);
  clock_.advance(5min);
  const auto second = channels_.open("b", stream_type::all);
  clock_.advance(5min - 1ms);
  EXPECT_TRUE(channels_.poll(first));
  EXPECT_EQ(channels_.collect(), 0u);
  clock_.advance(1ms);
  EXPECT_FALSE(channels_.poll(first)) << "expired, even before it is collected";
  EXPECT_EQ(channels_.size(), 2u);
  EXPECT_EQ(channels_.collect(), 1u);
  EXPECT_EQ(channels_.size(), 1u);
  EXPECT_TRUE(channels_.poll(second));
  clock_.advance(5min);
  EXPECT_EQ(channels_.collect(), 1u);
  EXPECT_EQ(channels_.size(), 0u);
}

TEST_F(Channels, AnOwnerKeepsItsNewestChannels) {
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(channels_.open("a", stream_type::all));
  const auto other = channels_.open("b", stream_type::all);
  EXPECT_EQ(channels_.size(), 5u);
  EXPECT_FALSE(channels_.poll(ids[0]));
  EXPECT_FALSE(channels_.poll(ids[1]));
  for (int i = 2; i < 6; ++i) EXPECT_TRUE(channels_.poll(ids[i])) << i;
  EXPECT_TRUE(channels_.poll(other));
}

TEST_F(Channels, RetainDropsTheChannelsOfOwnersNoLongerConfigured) {
  const auto a = channels_.open("a", stream_type::all);
  const auto b = channels_.open("b", stream_type::all);
  channels_.retain({"b", "c"});
  EXPECT_FALSE(channels_.poll(a));
  EXPECT_TRUE(channels_.poll(b));
  EXPECT_EQ(channels_.size(), 1u);
}

}  // namespace
}  // namespace eventfeed::api::box
