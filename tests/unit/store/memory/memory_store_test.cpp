// The memory backend's own promises. What every backend promises is in
// tests/unit/store/store_contract_test.cpp, which runs on this backend too.
#include "store/memory/memory_store.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace eventfeed::store::memory {
namespace {

// Every call answers before it returns: callbacks run inline and the fast path never declines,
// whatever the cursor, the retention or the stream.
TEST(MemoryStore, EveryCallAnswersInline) {
  retention_policy keep_two;
  keep_two.fallback.max_events = 2;
  memory_store s(keep_two);
  bool appended = false;
  s.append({{"a", "t", "{}"}, {"a", "t", "{}"}, {"a", "t", "{}"}},
           [&](core::result<std::vector<core::event_ptr>> r) { appended = r.ok(); });
  EXPECT_TRUE(appended);

  for (core::position after : {core::position{0}, core::position{1}, core::position{3}}) {
    auto fast = s.try_read("a", after, 10);
    ASSERT_TRUE(fast.has_value()) << "cursor " << after;
    EXPECT_TRUE(*fast);
  }
  EXPECT_TRUE(s.try_read("nope", 5, 10).has_value());
  EXPECT_TRUE(s.try_info("a").has_value());
  EXPECT_TRUE(s.try_info("nope").has_value());

  bool read = false, informed = false;
  s.read("a", 0, 10, [&](core::result<read_result> r) { read = r.ok(); });
  s.info("a", [&](core::result<stream_info> r) { informed = r.ok(); });
  EXPECT_TRUE(read);
  EXPECT_TRUE(informed);

  std::optional<std::optional<core::error>> put, erased;
  s.put_record("queue", "q1", "one", [&](std::optional<core::error> e) { put.emplace(e); });
  s.erase_record("queue", "q1", [&](std::optional<core::error> e) { erased.emplace(e); });
  EXPECT_TRUE(put.has_value());
  EXPECT_TRUE(erased.has_value());

  s.close();
  std::optional<core::errc> refused;
  s.append({{"a", "t", "{}"}}, [&](core::result<std::vector<core::event_ptr>> r) {
    if (!r) refused = r.err().code;
  });
  EXPECT_EQ(refused, core::errc::shutting_down);
}

// Reads hand out the stored event objects themselves, not copies.
TEST(MemoryStore, ReadsShareTheEventObject) {
  memory_store s;
  core::event_ptr stored;
  s.append({{"a", "t", "{}"}}, [&](core::result<std::vector<core::event_ptr>> r) {
    ASSERT_TRUE(r);
    stored = r->at(0);
  });
  ASSERT_TRUE(stored);
  auto r = s.try_read("a", 0, 10);
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->events.at(0).get(), stored.get());
}

}  // namespace
}  // namespace eventfeed::store::memory
