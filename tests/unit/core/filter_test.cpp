#include "core/filter.hpp"

#include <gtest/gtest.h>

namespace eventfeed::core {
namespace {

TEST(EventFilter, DefaultAcceptsEverything) {
  event_filter f;
  EXPECT_TRUE(f.accepts_all());
  EXPECT_TRUE(f.accepts("anything"));
  EXPECT_TRUE(f.accepts(""));
}

TEST(EventFilter, AcceptsOnlyListedTypes) {
  event_filter f({"tip", "follow"});
  EXPECT_FALSE(f.accepts_all());
  EXPECT_TRUE(f.accepts("tip"));
  EXPECT_TRUE(f.accepts("follow"));
  EXPECT_FALSE(f.accepts("Tip"));
  EXPECT_FALSE(f.accepts("ti"));
  EXPECT_FALSE(f.accepts("chat"));
  event ev;
  ev.type = "follow";
  EXPECT_TRUE(f.accepts(ev));
  ev.type = "chat";
  EXPECT_FALSE(f.accepts(ev));
}

TEST(EventFilter, TypesAreSortedAndUnique) {
  event_filter f({"b", "a", "b", "c", "a"});
  EXPECT_EQ(f.types(), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(ParseTypeList, EmptyMeansEveryType) {
  auto r = parse_type_list("");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->accepts_all());
}

TEST(ParseTypeList, SplitsOnCommas) {
  auto one = parse_type_list("tip");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->types(), (std::vector<std::string>{"tip"}));
  auto many = parse_type_list("tip,follow,tip");
  ASSERT_TRUE(many);
  EXPECT_EQ(many->types(), (std::vector<std::string>{"follow", "tip"}));
  EXPECT_FALSE(many->accepts("chat"));
}

TEST(ParseTypeList, RejectsEmptyItems) {
  for (const char* csv : {",", "a,", ",a", "a,,b"}) {
    auto r = parse_type_list(csv);
    ASSERT_FALSE(r) << csv;
    EXPECT_EQ(r.err().code, errc::bad_request) << csv;
  }
}

TEST(ParseTypeList, RejectsTypesLongerThan200) {
  EXPECT_TRUE(parse_type_list(std::string(200, 'x')));
  auto r = parse_type_list("a," + std::string(201, 'x'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::bad_request);
}

}  // namespace
}  // namespace eventfeed::core
