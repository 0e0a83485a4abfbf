#include "core/filter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/value.hpp>
#include <cstdlib>
#include <memory>
#include <new>
#include <thread>
#include <vector>

// Allocation counting, for the tests that show an evaluation parses once and then allocates
// nothing (EventFilter.ParsesAnEventsDataOnce..., EventFilter.EvaluatingParsedData...). The global
// allocation functions of the whole unit_tests binary are replaced here; they forward to malloc and
// free and count only on a thread that has turned counting on, so every other test sees a plain
// allocator. (Aligned forms are left to the library: they pair among themselves.) Sanitizer
// builds keep their own allocator, which checks new/delete pairing for every test: the counting
// tests skip themselves there.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define EVENTFEED_COUNTS_ALLOCATIONS 0
#else
#define EVENTFEED_COUNTS_ALLOCATIONS 1
#endif
namespace {
thread_local bool counting_allocations = false;
thread_local std::size_t allocations_counted = 0;

#if EVENTFEED_COUNTS_ALLOCATIONS
void* counted_malloc(std::size_t size) {
  if (counting_allocations) ++allocations_counted;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
#endif
}  // namespace

#if EVENTFEED_COUNTS_ALLOCATIONS
void* operator new(std::size_t size) {
  return counted_malloc(size);
}
void* operator new[](std::size_t size) {
  return counted_malloc(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted_malloc(size);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
#endif

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

// ---- Field predicates -----------------------------------------------------------------------

// Skips the calling test where allocations are not counted (sanitizer builds).
#define REQUIRE_ALLOCATION_COUNTING() \
  if (!EVENTFEED_COUNTS_ALLOCATIONS) GTEST_SKIP() << "the sanitizer's allocator is in use"

// Counts the allocations made on this thread while it lives.
class allocation_counter {
 public:
  allocation_counter() {
    allocations_counted = 0;
    counting_allocations = true;
  }
  ~allocation_counter() { counting_allocations = false; }
  std::size_t count() const { return allocations_counted; }
};

std::unique_ptr<event> make_event(std::string type, std::string data) {
  auto ev = std::make_unique<event>();
  ev->type = std::move(type);
  ev->data = std::move(data);
  return ev;
}

// Whether `p` holds on an event of type "message" with `data` (a filter with `p` alone).
bool holds(field_predicate p, std::string data) {
  return event_filter({}, {std::move(p)}).accepts(*make_event("message", std::move(data)));
}

const char* const subject_data = R"({"message":{"subject":"Deploy  Failed\tagain","id":7}})";

TEST(FieldPredicate, EqualsIsExactAndCaseSensitive) {
  const std::vector<std::string> path{"message", "subject"};
  EXPECT_TRUE(holds({path, field_op::equals, "Deploy  Failed\tagain"}, subject_data));
  EXPECT_FALSE(holds({path, field_op::equals, "deploy  failed\tagain"}, subject_data));
  EXPECT_FALSE(holds({path, field_op::equals, "Deploy"}, subject_data));
}

TEST(FieldPredicate, EqualsCiFoldsAsciiLettersOnly) {
  const std::vector<std::string> path{"message", "subject"};
  EXPECT_TRUE(holds({path, field_op::equals_ci, "DEPLOY  failed\tAGAIN"}, subject_data));
  EXPECT_FALSE(holds({path, field_op::equals_ci, "deploy failed again"}, subject_data));
  const char* accented = R"({"message":{"subject":"Ærø Bay"}})";
  EXPECT_TRUE(holds({path, field_op::equals_ci, "Ærø BAY"}, accented));   // ASCII part folded
  EXPECT_FALSE(holds({path, field_op::equals_ci, "ærø bay"}, accented));  // Æ is not folded
}

TEST(FieldPredicate, HasWordCiMatchesTheWholeTextOrOneWhitespaceSeparatedWord) {
  const std::vector<std::string> path{"message", "subject"};
  for (const char* yes : {"failed", "FAILED", "Deploy", "again", "deploy  failed\tagain"}) {
    EXPECT_TRUE(holds({path, field_op::has_word_ci, yes}, subject_data)) << yes;
  }
  for (const char* no : {"fail", "deploy failed", "", "again "}) {
    EXPECT_FALSE(holds({path, field_op::has_word_ci, no}, subject_data)) << no;
  }
  EXPECT_TRUE(holds({path, field_op::has_word_ci, ""}, R"({"message":{"subject":""}})"));
}

TEST(FieldPredicate, StartsWithComparesBytes) {
  const std::vector<std::string> path{"message", "subject"};
  const std::string check = "\xE2\x9C\x94 ";  // "✔ " in UTF-8
  EXPECT_TRUE(holds({path, field_op::starts_with, check}, R"({"message":{"subject":"✔ done"}})"));
  EXPECT_FALSE(holds({path, field_op::starts_with, check}, R"({"message":{"subject":"✔done"}})"));
  EXPECT_FALSE(holds({path, field_op::starts_with, check}, R"({"message":{"subject":"a ✔ "}})"));
  EXPECT_TRUE(holds({path, field_op::starts_with, "Deploy"}, subject_data));
  EXPECT_FALSE(holds({path, field_op::starts_with, "deploy"}, subject_data));
}

TEST(FieldPredicate, ArrayContainsAndLacksLookAtStringElements) {
  const char* data = R"({"flags":["read","starred",1,null,{"x":"mentioned"},["mentioned"]]})";
  EXPECT_TRUE(holds({{"flags"}, field_op::array_contains, "starred"}, data));
  EXPECT_FALSE(holds({{"flags"}, field_op::array_contains, "mentioned"}, data));
  EXPECT_FALSE(holds({{"flags"}, field_op::array_contains, "Starred"}, data));
  EXPECT_FALSE(holds({{"flags"}, field_op::array_lacks, "read"}, data));
  EXPECT_TRUE(holds({{"flags"}, field_op::array_lacks, "mentioned"}, data));
  EXPECT_TRUE(holds({{"flags"}, field_op::array_lacks, "read"}, R"({"flags":[]})"));
}

const field_op all_ops[] = {field_op::equals,      field_op::equals_ci,      field_op::has_word_ci,
                            field_op::starts_with, field_op::array_contains, field_op::array_lacks};

TEST(FieldPredicate, AMissingFieldFailsEveryOpButArrayLacks) {
  for (const char* data : {R"({})", R"({"message":{}})", R"({"other":{"flags":["x"]}})"}) {
    for (field_op op : all_ops) {
      EXPECT_EQ(holds({{"message", "flags"}, op, "x"}, data), op == field_op::array_lacks)
          << data << " op " << int(op);
    }
  }
}

TEST(FieldPredicate, AWrongTypeFailsEveryOp) {
  // The field is there but of another JSON type, or the path runs into a non-object.
  for (const char* data : {R"({"a":{"b":5}})", R"({"a":{"b":null}})", R"({"a":{"b":{"x":1}}})",
                           R"({"a":"text"})", R"({"a":["b"]})", R"({"a":{"b":true}})"}) {
    for (field_op op :
         {field_op::equals, field_op::equals_ci, field_op::has_word_ci, field_op::starts_with}) {
      EXPECT_FALSE(holds({{"a", "b"}, op, ""}, data)) << data << " op " << int(op);
    }
  }
  for (const char* data :
       {R"({"a":{"b":"x"}})", R"({"a":{"b":{"x":1}}})", R"({"a":"text"})", R"({"a":5})"}) {
    EXPECT_FALSE(holds({{"a", "b"}, field_op::array_contains, "x"}, data)) << data;
    EXPECT_FALSE(holds({{"a", "b"}, field_op::array_lacks, "x"}, data)) << data;
  }
}

TEST(FieldPredicate, AnEmptyPathIsTheDataItself) {
  EXPECT_FALSE(holds({{}, field_op::equals, ""}, R"({})"));
  EXPECT_FALSE(holds({{}, field_op::array_lacks, "x"}, R"({})"));  // an object, not an array
}

// ---- Filters with predicates -------------------------------------------------------------------

const char* const stream_message = R"({"message":{"type":"stream","display_recipient":"Denmark",)"
                                   R"("subject":"Castle tours","sender_email":"Hamlet@Zulip.com"},)"
                                   R"("flags":["read","starred"]})";

field_predicate stream_is(std::string name) {
  return {{"message", "display_recipient"}, field_op::equals_ci, std::move(name)};
}

TEST(EventFilter, DataThatDoesNotParseFailsEveryPredicate) {
  event_filter lacks({}, {{{"flags"}, field_op::array_lacks, "read"}});
  EXPECT_TRUE(lacks.accepts(*make_event("message", "{}")));
  for (const char* data : {"{", "", "not json", "[1]", "\"text\"", "null"}) {
    EXPECT_FALSE(lacks.accepts(*make_event("message", data))) << data;
  }
  EXPECT_TRUE(event_filter({"message"}).accepts(*make_event("message", "{")));  // no predicates
}

TEST(EventFilter, PredicatesApplyOnlyToTypesInTheirScope) {
  event_filter f({}, {stream_is("denmark")}, {"message", "update_message"});
  EXPECT_TRUE(f.accepts(*make_event("message", stream_message)));
  EXPECT_FALSE(f.accepts(*make_event("message", "{}")));
  EXPECT_FALSE(f.accepts(*make_event("update_message", "{}")));
  EXPECT_TRUE(f.accepts(*make_event("typing", "{}")));   // outside the scope
  EXPECT_TRUE(f.accepts(*make_event("presence", "{")));  // not even parsed
  EXPECT_TRUE(f.in_scope("message"));
  EXPECT_FALSE(f.in_scope("typing"));
  EXPECT_EQ(f.scope().size(), 2u);
}

TEST(EventFilter, AnEmptyScopeAppliesThePredicatesToEveryType) {
  event_filter f({}, {stream_is("denmark")});
  EXPECT_TRUE(f.in_scope("anything"));
  EXPECT_TRUE(f.accepts(*make_event("anything", stream_message)));
  EXPECT_FALSE(f.accepts(*make_event("anything", "{}")));
  EXPECT_FALSE(event_filter({"x"}).in_scope("x"));  // no predicates: nothing is in scope
}

TEST(EventFilter, TypesAndPredicatesCombine) {
  event_filter f({"message", "typing"}, {stream_is("denmark")}, {"message"});
  EXPECT_TRUE(f.accepts(*make_event("message", stream_message)));
  EXPECT_FALSE(f.accepts(*make_event("message", R"({"message":{"display_recipient":"Sweden"}})")));
  EXPECT_TRUE(f.accepts(*make_event("typing", "{}")));
  EXPECT_FALSE(f.accepts(*make_event("reaction", stream_message)));  // type not accepted
  // accepts(type) is the type test alone.
  EXPECT_TRUE(f.accepts("message"));
  EXPECT_FALSE(f.accepts("reaction"));
}

TEST(EventFilter, EveryPredicateMustHold) {
  field_predicate starred{{"flags"}, field_op::array_contains, "starred"};
  field_predicate mentioned{{"flags"}, field_op::array_contains, "mentioned"};
  EXPECT_TRUE(event_filter({}, {stream_is("Denmark"), starred})
                  .accepts(*make_event("message", stream_message)));
  EXPECT_FALSE(event_filter({}, {stream_is("Denmark"), starred, mentioned})
                   .accepts(*make_event("message", stream_message)));
}

TEST(EventFilter, AcceptsAllOnlyWithoutTypesAndPredicates) {
  EXPECT_TRUE(event_filter{}.accepts_all());
  EXPECT_TRUE(event_filter({}, {}, {"message"}).accepts_all());  // a scope alone is nothing
  EXPECT_FALSE(event_filter({"tip"}).accepts_all());
  EXPECT_FALSE(event_filter({}, {stream_is("x")}).accepts_all());
  EXPECT_FALSE(event_filter({}, {stream_is("x")}, {"message"}).accepts_all());
}

TEST(EventFilter, CaseInsensitiveOperandsAreStoredFolded) {
  event_filter f({}, {stream_is("DenMARK"),
                      {{"message", "subject"}, field_op::has_word_ci, "Castle"},
                      {{"message", "subject"}, field_op::equals, "Castle tours"}});
  ASSERT_EQ(f.predicates().size(), 3u);
  EXPECT_EQ(f.predicates()[0].operand, "denmark");
  EXPECT_EQ(f.predicates()[1].operand, "castle");
  EXPECT_EQ(f.predicates()[2].operand, "Castle tours");
}

TEST(EventFilter, CopiesShareTheirPredicates) {
  event_filter f({"message"}, {stream_is("denmark")});
  event_filter copy = f;
  EXPECT_EQ(copy.predicates().data(), f.predicates().data());
  EXPECT_TRUE(copy.accepts(*make_event("message", stream_message)));
}

// What the Zulip dialect would compile each narrow to (dialect code, kept out of core).
field_predicate zulip_narrow(std::string_view op, std::string operand) {
  const std::vector<std::string> subject{"message", "subject"};
  if (op == "stream") return stream_is(std::move(operand));
  if (op == "topic") return {subject, field_op::has_word_ci, std::move(operand)};
  if (op == "exact-topic") return {subject, field_op::equals, std::move(operand)};
  if (op == "sender") return {{"message", "sender_email"}, field_op::equals_ci, operand};
  if (operand == "private") return {{"message", "type"}, field_op::equals, "private"};
  if (operand == "starred") return {{"flags"}, field_op::array_contains, "starred"};
  if (operand == "unread") return {{"flags"}, field_op::array_lacks, "read"};
  if (operand == "mentioned") return {{"flags"}, field_op::array_contains, "mentioned"};
  return {subject, field_op::starts_with, "\xE2\x9C\x94 "};  // is:resolved, "✔ "
}

TEST(EventFilter, ZulipNarrowsCompileToPredicatesOnMessages) {
  const char* private_message = R"({"message":{"type":"private","subject":"✔ Castle tours",)"
                                R"("sender_email":"ophelia@zulip.com"},"flags":["mentioned"]})";
  struct narrow_case {
    const char* op;
    const char* operand;
    bool on_stream_message;
    bool on_private_message;
  };
  const narrow_case cases[] = {
      {"stream", "denmark", true, false},
      {"stream", "DENMARK", true, false},
      {"stream", "Sweden", false, false},
      {"topic", "castle", true, true},
      {"topic", "CASTLE TOURS", true, false},
      {"topic", "cast", false, false},
      {"topic", "tours", true, true},
      {"exact-topic", "Castle tours", true, false},
      {"exact-topic", "castle tours", false, false},
      {"sender", "hamlet@zulip.com", true, false},
      {"is", "private", false, true},
      {"is", "starred", true, false},
      {"is", "unread", false, true},
      {"is", "mentioned", false, true},
      {"is", "resolved", false, true},
  };
  auto stream_event = make_event("message", stream_message);
  auto private_event = make_event("message", private_message);
  auto typing = make_event("typing", R"({"sender":{"email":"x"}})");
  for (const auto& c : cases) {
    event_filter f({}, {zulip_narrow(c.op, c.operand)}, {"message"});
    EXPECT_EQ(f.accepts(*stream_event), c.on_stream_message) << c.op << ":" << c.operand;
    EXPECT_EQ(f.accepts(*private_event), c.on_private_message) << c.op << ":" << c.operand;
    EXPECT_TRUE(f.accepts(*typing)) << c.op << ":" << c.operand;  // other events pass
  }
  event_filter both({}, {zulip_narrow("stream", "Denmark"), zulip_narrow("topic", "castle")},
                    {"message"});
  EXPECT_TRUE(both.accepts(*stream_event));
  EXPECT_FALSE(both.accepts(*private_event));
}

// ---- The parsed-data cache, as filters use it --------------------------------------------------

TEST(EventFilter, ParsesAnEventsDataOnceAndOnlyWhenAPredicateApplies) {
  REQUIRE_ALLOCATION_COUNTING();
  // Parsing is the only thing that allocates in an evaluation (see the next tests).
  auto ev = make_event("message", stream_message);
  const event_filter type_only({"message"});
  const event_filter out_of_scope({}, {stream_is("denmark")}, {"typing"});
  const event_filter in_scope({}, {stream_is("denmark")});
  std::size_t unneeded = 0, first = 0, again = 0;
  bool verdicts = true;
  {
    allocation_counter counter;
    verdicts = verdicts && type_only.accepts(*ev) && out_of_scope.accepts(*ev);
    unneeded = counter.count();
  }
  {
    allocation_counter counter;
    verdicts = verdicts && in_scope.accepts(*ev);
    first = counter.count();
  }
  const boost::json::value* tree = &parsed_data(*ev);
  {
    allocation_counter counter;
    verdicts = verdicts && in_scope.accepts(*ev) && out_of_scope.accepts(*ev);
    again = counter.count();
  }
  EXPECT_TRUE(verdicts);
  EXPECT_EQ(unneeded, 0u);
  EXPECT_GT(first, 0u);
  EXPECT_EQ(again, 0u);
  EXPECT_EQ(&parsed_data(*ev), tree);
}

TEST(EventFilter, ConcurrentEvaluationsShareOneParsedTree) {
  constexpr int threads = 4;
  event_filter f({}, {stream_is("denmark")});
  for (int round = 0; round < 20; ++round) {
    auto ev = make_event("message", stream_message);
    std::atomic<int> ready{0};
    std::vector<const boost::json::value*> seen(threads, nullptr);
    std::vector<char> verdicts(threads, 0);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        ready.fetch_add(1);
        while (ready.load() < threads) std::this_thread::yield();
        verdicts[t] = f.accepts(*ev);
        seen[t] = &parsed_data(*ev);  // already built by accepts: the winner's tree
      });
    }
    for (auto& th : pool) th.join();
    for (int t = 0; t < threads; ++t) {
      EXPECT_TRUE(verdicts[t]);
      EXPECT_EQ(seen[t], seen[0]);
    }
  }
}

TEST(EventFilter, EvaluatingParsedDataDoesNotAllocate) {
  REQUIRE_ALLOCATION_COUNTING();
  auto ev = make_event("message", stream_message);
  std::vector<event_filter> filters;
  for (const char* op : {"stream", "topic", "exact-topic", "sender"}) {
    filters.emplace_back(std::vector<std::string>{"message"},
                         std::vector<field_predicate>{zulip_narrow(op, "Castle")},
                         std::vector<std::string>{"message"});
  }
  for (const char* flag : {"private", "starred", "unread", "mentioned", "resolved"}) {
    filters.push_back(event_filter({}, {zulip_narrow("is", flag)}, {"message"}));
  }
  filters.push_back(event_filter({}, {{{"no", "such", "field"}, field_op::array_lacks, "x"}}));

  std::size_t first_use = 0;
  {
    allocation_counter counter;
    (void)filters.front().accepts(*ev);  // parses the data
    first_use = counter.count();
  }
  std::size_t accepted = 0;
  std::size_t later_uses = 0;
  {
    allocation_counter counter;
    for (int round = 0; round < 100; ++round) {
      for (const event_filter& f : filters) accepted += f.accepts(*ev) ? 1 : 0;
    }
    later_uses = counter.count();
  }
  EXPECT_GT(first_use, 0u);  // the counter sees allocations on this thread
  EXPECT_EQ(later_uses, 0u);
  EXPECT_EQ(accepted, 100u * 3);  // topic "castle", is:starred and the missing field's lacks
}

}  // namespace
}  // namespace eventfeed::core

namespace eventfeed::core {
namespace {

TEST(FilterJson, ARoundTripGivesAnEqualFilter) {
  const event_filter f({"message", "heartbeat"},
                       {{{"message", "display_recipient"}, field_op::equals_ci, "Denmark"},
                        {{"message", "subject"}, field_op::has_word_ci, "Castle"},
                        {{"flags"}, field_op::array_lacks, "read"}},
                       {"message"});
  auto back = filter_from_json(filter_to_json(f));
  ASSERT_TRUE(back) << back.err().message;
  EXPECT_EQ(back->types(), f.types());
  ASSERT_EQ(back->predicates().size(), 3u);
  EXPECT_EQ(back->predicates()[0].path, (std::vector<std::string>{"message", "display_recipient"}));
  EXPECT_EQ(back->predicates()[0].op, field_op::equals_ci);
  EXPECT_EQ(back->predicates()[0].operand, "denmark");
  EXPECT_EQ(back->predicates()[2].op, field_op::array_lacks);
  EXPECT_EQ(std::vector<std::string>(back->scope().begin(), back->scope().end()),
            (std::vector<std::string>{"message"}));
  EXPECT_EQ(filter_to_json(*back), filter_to_json(f));
  auto none = filter_from_json(filter_to_json(event_filter{}));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->accepts_all());
}

TEST(FilterJson, RefusesWhatItDidNotWrite) {
  for (const char* bad : {"", "[]", R"({"types":[1]})", R"({"predicates":[{"op":"x"}]})",
                          R"({"predicates":[{"path":["a"],"op":"nope","operand":"b"}]})"})
    EXPECT_FALSE(filter_from_json(bad)) << bad;
}

}  // namespace
}  // namespace eventfeed::core
