#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <random>
#include <thread>

namespace eventfeed::store::sqlite {
namespace {

namespace fs = std::filesystem;

class SqliteStoreTest : public ::testing::Test {
 protected:
  SqliteStoreTest() {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("eventfeed-sqlite-test-" + std::to_string(rd()));
    fs::create_directories(dir_);
  }
  ~SqliteStoreTest() override { fs::remove_all(dir_); }

  std::unique_ptr<sqlite_store> open(retention_policy retention = {}, std::size_t tail = 1024) {
    options o;
    o.data_dir = dir_;
    o.retention = std::move(retention);
    o.tail_events = tail;
    return std::make_unique<sqlite_store>(std::move(o), &clock_);
  }

  // Appends synchronously (the callback runs on the writer thread).
  static std::vector<core::event_ptr> append(store& s, std::vector<core::new_event> events) {
    std::promise<core::result<std::vector<core::event_ptr>>> done;
    s.append(std::move(events),
             [&](core::result<std::vector<core::event_ptr>> r) { done.set_value(std::move(r)); });
    auto r = done.get_future().get();
    EXPECT_TRUE(r) << (r ? "" : r.err().message);
    return r ? std::move(*r) : std::vector<core::event_ptr>{};
  }
  static std::vector<core::event_ptr> append_n(store& s, const std::string& stream, int n,
                                               const std::string& type = "t") {
    std::vector<core::new_event> events;
    for (int i = 0; i < n; ++i)
      events.push_back({stream, type, R"({"i":)" + std::to_string(i) + "}"});
    return append(s, std::move(events));
  }
  // Reads through whichever path the store picks (memory tail or disk).
  static read_result read(store& s, const std::string& stream, core::position after,
                          std::size_t limit = 1000) {
    std::promise<core::result<read_result>> done;
    s.read(stream, after, limit,
           [&](core::result<read_result> r) { done.set_value(std::move(r)); });
    auto r = done.get_future().get();
    EXPECT_TRUE(r);
    return r ? std::move(*r) : read_result{};
  }
  static void put(store& s, std::string kind, std::string key, std::optional<std::string> value) {
    std::promise<std::optional<core::error>> done;
    auto cb = [&](std::optional<core::error> e) { done.set_value(std::move(e)); };
    if (value)
      s.put_record(std::move(kind), std::move(key), std::move(*value), cb);
    else
      s.erase_record(std::move(kind), std::move(key), cb);
    EXPECT_FALSE(done.get_future().get());
  }

  fs::path dir_;
  core::manual_clock clock_;
};

TEST_F(SqliteStoreTest, AppendAssignsIncreasingPositionsSharedAcrossStreams) {
  auto s = open();
  auto a = append(*s, {{"a", "x", "{}"}, {"b", "y", R"({"k":1})"}, {"a", "z", "{}"}});
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0]->pos, 1u);
  EXPECT_EQ(a[1]->pos, 2u);
  EXPECT_EQ(a[2]->pos, 3u);
  EXPECT_EQ(a[1]->stream, "b");
  EXPECT_EQ(a[1]->data, R"({"k":1})");
  EXPECT_EQ(a[0]->time_ms, clock_.wall_ms());
  auto r = read(*s, "a", 0);
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[1]->type, "z");
  EXPECT_EQ(r.head, 3u);
}

TEST_F(SqliteStoreTest, RecentReadsComeFromMemoryAndOldOnesFromDisk) {
  auto s = open({}, /*tail=*/10);
  append_n(*s, "a", 25);
  // The last 10 (16..25) are in memory: the fast path answers.
  auto fast = s->try_read("a", 15, 100);
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ((*fast)->events.size(), 10u);
  // Older cursors need the disk: the fast path declines, read() answers from a reader thread.
  EXPECT_FALSE(s->try_read("a", 5, 100).has_value());
  auto slow = read(*s, "a", 5, 100);
  ASSERT_EQ(slow.events.size(), 20u);
  EXPECT_EQ(slow.events.front()->pos, 6u);
  EXPECT_EQ(slow.events.back()->pos, 25u);
  EXPECT_EQ(slow.events.front()->data, R"({"i":5})");
}

TEST_F(SqliteStoreTest, EverythingSurvivesAReopenAndPositionsContinue) {
  {
    auto s = open();
    append_n(*s, "room:a", 5);
    append_n(*s, "room:b", 2);
    put(*s, "queue", "q1", R"({"stream":"room:a"})");
  }
  auto s = open();
  auto r = read(*s, "room:a", 0);
  ASSERT_EQ(r.events.size(), 5u);
  EXPECT_EQ(r.events[4]->pos, 5u);
  EXPECT_EQ(r.head, 5u);
  EXPECT_EQ(s->get_record("queue", "q1"), R"({"stream":"room:a"})");
  auto more = append_n(*s, "room:a", 1);
  EXPECT_EQ(more[0]->pos, 8u);  // after 7, never reusing
  auto info = *s->try_info("room:b");
  EXPECT_EQ(info->head, 7u);
  EXPECT_EQ(info->oldest, 6u);
  EXPECT_EQ(info->retained, 2u);
}

TEST_F(SqliteStoreTest, RetentionByCountTrimsTheOldestAndReportsAGap) {
  retention_policy p;
  p.fallback.max_events = 5;
  auto s = open(p);
  append_n(*s, "a", 8);  // 1..8, keeps 4..8
  auto info = *s->try_info("a");
  EXPECT_EQ(info->retained, 5u);
  EXPECT_EQ(info->oldest, 4u);
  auto old = read(*s, "a", 1);
  EXPECT_TRUE(old.gap);
  ASSERT_EQ(old.events.size(), 5u);
  EXPECT_EQ(old.events.front()->pos, 4u);
  auto current = read(*s, "a", 3);
  EXPECT_FALSE(current.gap);  // cursor 3 has missed nothing that still exists
  EXPECT_EQ(current.events.size(), 5u);
}

TEST_F(SqliteStoreTest, PositionsAreNeverReusedWhenRetentionEmptiedAStream) {
  retention_policy p;
  p.fallback.max_age = std::chrono::seconds(10);
  {
    auto s = open(p);
    append_n(*s, "a", 3);
    clock_.advance(std::chrono::seconds(11));
    s->trim_expired();
    append_n(*s, "other", 1);  // queued behind the trim step: acknowledged after it commits
    EXPECT_EQ((*s->try_info("a"))->retained, 0u);
  }
  auto s = open(p);
  auto info = *s->try_info("a");
  EXPECT_EQ(info->retained, 0u);
  EXPECT_EQ(info->head, 3u);
  EXPECT_EQ(append_n(*s, "a", 1)[0]->pos, 5u);  // 4 went to "other"
  EXPECT_TRUE(read(*s, "a", 0).gap);
}

TEST_F(SqliteStoreTest, RetentionByAgeFollowsTheClockAndStreamPatterns) {
  retention_policy p;
  retention_rule short_lived;
  short_lived.pattern = core::stream_pattern("tmp:*");
  short_lived.max_age = std::chrono::seconds(60);
  p.rules.push_back(short_lived);
  p.fallback.max_age = std::chrono::hours(1);
  auto s = open(p);
  append_n(*s, "tmp:x", 3);
  append_n(*s, "keep:y", 3);
  clock_.advance(std::chrono::seconds(30));
  append_n(*s, "tmp:x", 2);  // positions 7, 8, younger
  clock_.advance(std::chrono::seconds(31));
  s->trim_expired();
  // trim runs on the writer thread; a following append is queued behind it, so once it is
  // acknowledged the trim step has committed.
  append_n(*s, "other", 1);
  auto tmp = *s->try_info("tmp:x");
  EXPECT_EQ(tmp->retained, 2u);
  EXPECT_EQ(tmp->oldest, 7u);
  auto keep = *s->try_info("keep:y");
  EXPECT_EQ(keep->retained, 3u);
  auto r = read(*s, "tmp:x", 0);
  EXPECT_TRUE(r.gap);
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0]->pos, 7u);
}

TEST_F(SqliteStoreTest, ConcurrentAppendsAreGroupCommittedWithoutLoss) {
  auto s = open();
  constexpr int threads = 8, per_thread = 200;
  std::vector<std::thread> ts;
  std::atomic<int> acked{0};
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        auto r = append(*s, {{"s" + std::to_string(t % 3), "t", "{}"}});
        if (r.size() == 1) ++acked;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(acked.load(), threads * per_thread);
  std::set<core::position> seen;
  for (int k = 0; k < 3; ++k) {
    auto r = read(*s, "s" + std::to_string(k), 0, 10'000);
    for (auto& e : r.events) EXPECT_TRUE(seen.insert(e->pos).second);
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(threads * per_thread));
  EXPECT_EQ(*seen.rbegin(), static_cast<core::position>(threads * per_thread));
}

TEST_F(SqliteStoreTest, RecordsArePutReplacedListedAndErased) {
  auto s = open();
  put(*s, "queue", "b", "2");
  put(*s, "queue", "a", "1");
  put(*s, "other", "a", "x");
  put(*s, "queue", "a", "1bis");
  auto list = s->list_records("queue");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0], (std::pair<std::string, std::string>{"a", "1bis"}));
  put(*s, "queue", "a", std::nullopt);
  EXPECT_FALSE(s->get_record("queue", "a"));
  EXPECT_EQ(s->get_record("other", "a"), "x");
}

TEST_F(SqliteStoreTest, RefusesAFileThatIsNotOurs) {
  {
    std::FILE* f = std::fopen((dir_ / database_file).c_str(), "w");
    std::fputs("this is not a database, it is a text file of a reasonable length.......", f);
    std::fclose(f);
  }
  try {
    open();
    FAIL() << "opened a corrupt file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not an eventfeed database or is corrupt"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(SqliteStoreTest, RefusesANewerSchema) {
  open();  // creates schema 1
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / database_file).c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value='99' WHERE key='schema_version'", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  try {
    open();
    FAIL() << "opened a newer schema";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("newer than this eventfeed"), std::string::npos)
        << e.what();
  }
}

TEST_F(SqliteStoreTest, RefusesAnUnwritableDirectory) {
  if (::geteuid() == 0) {
    // root ignores permission bits; a path below a regular file can't be a directory for anyone.
    std::FILE* f = std::fopen((dir_ / "file").c_str(), "w");
    std::fclose(f);
    options o;
    o.data_dir = dir_ / "file" / "data";
    EXPECT_THROW(sqlite_store(std::move(o), &clock_), std::runtime_error);
    return;
  }
  fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_THROW(open(), std::runtime_error);
  fs::permissions(dir_, fs::perms::owner_all);
}

TEST_F(SqliteStoreTest, OneStorePerDataDirectory) {
  auto first = open();
  try {
    open();
    FAIL() << "a second store opened a directory in use";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("in use by another eventfeed process"), std::string::npos)
        << e.what();
  }
  first.reset();
  EXPECT_NO_THROW(open());  // released with the first store
}

TEST_F(SqliteStoreTest, AppendAfterCloseFailsInsteadOfHanging) {
  auto s = open();
  s->close();
  std::promise<core::result<std::vector<core::event_ptr>>> done;
  s->append({{"a", "t", "{}"}}, [&](auto r) { done.set_value(std::move(r)); });
  auto r = done.get_future().get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, core::errc::shutting_down);
}

}  // namespace
}  // namespace eventfeed::store::sqlite
