#include "api/zulip/narrow.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <memory>

namespace eventfeed::api::zulip {
namespace {

namespace json = boost::json;

std::vector<narrow_term> terms(std::string_view text) {
  auto r = parse_narrow(json::parse(text));
  EXPECT_TRUE(r) << text << ": " << r.err().message;
  return r ? *r : std::vector<narrow_term>{};
}

core::event_filter narrowed(std::string_view narrow,
                            std::optional<std::vector<std::string>> types = std::nullopt) {
  auto f = queue_filter(types, terms(narrow));
  EXPECT_TRUE(f) << narrow << ": " << f.err().message;
  return f ? *f : core::event_filter{};
}

std::unique_ptr<core::event> make_event(std::string type, std::string data) {
  auto ev = std::make_unique<core::event>();
  ev->type = std::move(type);
  ev->data = std::move(data);
  return ev;
}

// A message event's data with these message fields and flags.
std::unique_ptr<core::event> message(std::string_view fields, std::string_view flags = "[]") {
  return make_event("message", R"({"message":{)" + std::string(fields) + R"(},"flags":)" +
                                   std::string(flags) + "}");
}

TEST(ZulipNarrow, PairsAndObjectsAreBothTerms) {
  auto t = terms(R"([["stream","Denmark"],{"operator":"topic","operand":"lunch"}])");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].op, "stream");
  EXPECT_EQ(t[0].operand, "Denmark");
  EXPECT_EQ(t[1].op, "topic");
  EXPECT_EQ(t[1].operand, "lunch");
  EXPECT_TRUE(terms("[]").empty());
}

TEST(ZulipNarrow, MalformedNarrowsAreRefused) {
  for (const char* bad :
       {R"({"stream":"x"})", R"(["stream","x"])", R"([["stream"]])", R"([["stream","x","y"]])",
        R"([["stream",3]])", R"([{"operator":"s"}])", R"("stream")", "null"}) {
    auto r = parse_narrow(json::parse(bad));
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.err().code, core::errc::bad_request);
  }
}

TEST(ZulipNarrow, UnknownOperatorsAndFollowedAreRefusedWithZulipsTexts) {
  auto op = queue_filter(std::nullopt, terms(R"([["near","12"]])"));
  ASSERT_FALSE(op);
  EXPECT_EQ(op.err().message, "Operator near not supported.");
  auto followed = queue_filter(std::nullopt, terms(R"([["is","followed"]])"));
  ASSERT_FALSE(followed);
  EXPECT_EQ(followed.err().message, "Operand followed not supported.");
}

TEST(ZulipNarrow, ChannelAndStreamMatchTheRecipientIgnoringCase) {
  for (const char* op : {"stream", "channel"}) {
    auto f = narrowed(std::string(R"([[")") + op + R"(","denmark"]])");
    EXPECT_TRUE(f.accepts(*message(R"("display_recipient":"Denmark")")));
    EXPECT_FALSE(f.accepts(*message(R"("display_recipient":"Sweden")")));
    EXPECT_FALSE(f.accepts(*message(R"("subject":"Denmark")")));
  }
}

TEST(ZulipNarrow, TopicMatchesAWordAndExactTopicTheWhole) {
  auto topic = narrowed(R"([["topic","lunch"]])");
  EXPECT_TRUE(topic.accepts(*message(R"("subject":"Lunch")")));
  EXPECT_TRUE(topic.accepts(*message(R"("subject":"team lunch today")")));
  EXPECT_FALSE(topic.accepts(*message(R"("subject":"lunchtime")")));
  auto exact = narrowed(R"([["exact-topic","lunch"]])");
  EXPECT_TRUE(exact.accepts(*message(R"("subject":"lunch")")));
  EXPECT_FALSE(exact.accepts(*message(R"("subject":"Lunch")")));
  EXPECT_FALSE(exact.accepts(*message(R"("subject":"team lunch")")));
}

TEST(ZulipNarrow, SenderAndTheIsOperands) {
  auto sender = narrowed(R"([["sender","Iago@Example.com"]])");
  EXPECT_TRUE(sender.accepts(*message(R"("sender_email":"iago@example.com")")));
  EXPECT_FALSE(sender.accepts(*message(R"("sender_email":"hamlet@example.com")")));

  auto dm = narrowed(R"([["is","dm"]])");
  EXPECT_TRUE(dm.accepts(*message(R"("type":"private")")));
  EXPECT_FALSE(dm.accepts(*message(R"("type":"stream")")));
  EXPECT_TRUE(narrowed(R"([["is","private"]])").accepts(*message(R"("type":"private")")));

  auto starred = narrowed(R"([["is","starred"]])");
  EXPECT_TRUE(starred.accepts(*message("", R"(["read","starred"])")));
  EXPECT_FALSE(starred.accepts(*message("", R"(["read"])")));
  auto mentioned = narrowed(R"([["is","alerted"]])");
  EXPECT_TRUE(mentioned.accepts(*message("", R"(["mentioned"])")));
  auto unread = narrowed(R"([["is","unread"]])");
  EXPECT_TRUE(unread.accepts(*message("", "[]")));
  EXPECT_FALSE(unread.accepts(*message("", R"(["read"])")));
  auto resolved = narrowed(R"([["is","resolved"]])");
  EXPECT_TRUE(resolved.accepts(*message("\"subject\":\"\xE2\x9C\x94 done\"")));
  EXPECT_FALSE(resolved.accepts(*message(R"("subject":"open")")));
  // An `is` operand Zulip would not narrow on matches every message.
  EXPECT_TRUE(narrowed(R"([["is","home"]])").accepts(*message(R"("subject":"x")")));
}

TEST(ZulipNarrow, AllTermsMustHold) {
  auto f = narrowed(R"([["stream","Denmark"],["topic","lunch"]])");
  EXPECT_TRUE(f.accepts(*message(R"("display_recipient":"Denmark","subject":"lunch")")));
  EXPECT_FALSE(f.accepts(*message(R"("display_recipient":"Denmark","subject":"dinner")")));
  EXPECT_FALSE(f.accepts(*message(R"("display_recipient":"Sweden","subject":"lunch")")));
}

TEST(ZulipNarrow, ANarrowLeavesEventsOtherThanMessagesAlone) {
  auto f = narrowed(R"([["stream","Denmark"]])");
  EXPECT_TRUE(f.accepts(*make_event("presence", R"({"email":"iago@example.com"})")));
  EXPECT_TRUE(f.accepts(*make_event("typing", "{}")));
}

TEST(ZulipNarrow, EventTypesSelectTypesAndAnEmptyListSelectsNone) {
  auto messages = narrowed("[]", std::vector<std::string>{"message"});
  EXPECT_TRUE(messages.accepts(*message(R"("subject":"x")")));
  EXPECT_FALSE(messages.accepts(*make_event("presence", "{}")));
  auto none = narrowed("[]", std::vector<std::string>{});
  EXPECT_FALSE(none.accepts(*message(R"("subject":"x")")));
  EXPECT_FALSE(none.accepts(*make_event("presence", "{}")));
  auto all = narrowed("[]");
  EXPECT_TRUE(all.accepts(*make_event("presence", "{}")));
  // The types and the narrow together.
  auto both = narrowed(R"([["stream","Denmark"]])", std::vector<std::string>{"message", "typing"});
  EXPECT_TRUE(both.accepts(*make_event("typing", "{}")));
  EXPECT_FALSE(both.accepts(*make_event("presence", "{}")));
  EXPECT_FALSE(both.accepts(*message(R"("display_recipient":"Sweden")")));
}

}  // namespace
}  // namespace eventfeed::api::zulip
