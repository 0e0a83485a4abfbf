#include "cli/demo_room.hpp"

#include <gtest/gtest.h>

#include <map>

#include "api/chaturbate/methods.hpp"

namespace eventfeed::cli {
namespace {

TEST(DemoRoom, EveryEventIsOneARoomsStreamAccepts) {
  demo_room room("alice", 7);
  std::map<std::string, int> methods;
  auto check = [&](const demo_event& e) {
    EXPECT_EQ(api::chaturbate::check_event(e.method, e.data), std::nullopt)
        << e.method << " " << e.data;
    EXPECT_FALSE(e.line.empty());
    ++methods[e.method];
  };
  check(room.start());
  for (int i = 0; i < 5000; ++i) check(room.next());
  check(room.stop());
  EXPECT_EQ(methods.size(), 12u) << "every method happens in a long enough show";
  EXPECT_GT(methods["chatMessage"], methods["mediaPurchase"]) << "chat is common, purchases rare";
}

TEST(DemoRoom, TheStoryHoldsTogether) {
  demo_room room("alice", 11);
  std::set<std::string> present;
  for (int i = 0; i < 3000; ++i) {
    const auto e = room.next();
    if (e.method == "roomSubjectChange") continue;  // the only event without a user
    const auto at = e.data.find(R"("username":")");
    ASSERT_NE(at, std::string::npos) << e.data;
    const auto start = at + 12;
    const std::string who = e.data.substr(start, e.data.find('"', start) - start);
    if (e.method == "userEnter") {
      EXPECT_TRUE(present.insert(who).second) << who << " entered twice";
    } else if (e.method == "userLeave") {
      EXPECT_EQ(present.erase(who), 1u) << who << " left without entering";
    } else {
      EXPECT_TRUE(present.count(who)) << who << " acted without being in the room: " << e.method;
    }
  }
}

TEST(DemoRoom, ASeedGivesTheSameShow) {
  demo_room a("alice", 3), b("alice", 3), c("alice", 4);
  bool differs = false;
  for (int i = 0; i < 50; ++i) {
    const auto x = a.next();
    EXPECT_EQ(x.data, b.next().data);
    differs = differs || x.data != c.next().data;
  }
  EXPECT_TRUE(differs);
}

}  // namespace
}  // namespace eventfeed::cli
