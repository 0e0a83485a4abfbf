// The SQLite backend's own promises: reads served from the in-memory tail or the disk, the
// refusals at open and the directory lock. What every backend promises is in
// store_contract_test.cpp, which runs on this backend too.
#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "store_calls.hpp"

namespace eventfeed::store::sqlite {
namespace {

namespace fs = std::filesystem;

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<sqlite_store> open(std::size_t tail = 1024) {
    options o;
    o.data_dir = dir_.path();
    o.tail_events = tail;
    return std::make_unique<sqlite_store>(std::move(o), &clock_);
  }

  calls::scratch_directory dir_;
  core::manual_clock clock_;
};

TEST_F(SqliteStoreTest, RecentReadsComeFromMemoryAndOldOnesFromDisk) {
  auto s = open(/*tail=*/10);
  calls::append_ok(*s, calls::numbered("a", 25));
  // The last 10 (16..25) are in memory: the fast path answers.
  auto fast = s->try_read("a", 15, 100);
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ((*fast)->events.size(), 10u);
  // Older cursors need the disk: the fast path declines, read() answers from a reader thread.
  EXPECT_FALSE(s->try_read("a", 5, 100).has_value());
  auto answer = calls::read(*s, "a", 5, 100);
  ASSERT_TRUE(answer);
  const auto& slow = *answer;
  ASSERT_EQ(slow.events.size(), 20u);
  EXPECT_EQ(slow.events.front()->pos, 6u);
  EXPECT_EQ(slow.events.back()->pos, 25u);
  EXPECT_EQ(slow.events.front()->data, R"({"i":5})");
}

TEST_F(SqliteStoreTest, TheNewestEventsComeFromTheTailWhenItHoldsThem) {
  auto s = open(/*tail=*/10);
  calls::append_ok(*s, calls::numbered("a", 25));
  auto fast = s->try_read_last("a", 5);
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ(calls::positions((*fast).value()), (std::vector<core::position>{21, 22, 23, 24, 25}));
  EXPECT_FALSE(s->try_read_last("a", 15).has_value()) << "the tail holds only 10";
  auto slow = calls::read_last(*s, "a", 15);
  ASSERT_TRUE(slow);
  ASSERT_EQ(slow->events.size(), 15u);
  EXPECT_EQ(slow->events.front()->pos, 11u);
  EXPECT_EQ(slow->events.back()->pos, 25u);
  EXPECT_EQ(slow->events.front()->data, R"({"i":10})");
}

TEST_F(SqliteStoreTest, RefusesAFileThatIsNotOurs) {
  {
    std::FILE* f = std::fopen((dir_.path() / database_file).c_str(), "w");
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
  open();  // creates the current schema
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / database_file).c_str(), &db), SQLITE_OK);
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

TEST_F(SqliteStoreTest, MigratesAFileOfSchemaVersion1) {
  {
    // What eventfeed wrote before records could expire: schema 1, one event and one record.
    auto s = open();
    calls::append_ok(*s, calls::numbered("a", 1));
    ASSERT_FALSE(calls::put_record(*s, "queue", "q1", "kept"));
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / database_file).c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "ALTER TABLE records DROP COLUMN expires_ms; "
                         "UPDATE meta SET value='1' WHERE key='schema_version'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  auto s = open();
  EXPECT_EQ(s->get_record("queue", "q1"), "kept");
  EXPECT_EQ(calls::read(*s, "a", 0, 10)->events.size(), 1u);
  const auto soon = clock_.wall_ms() + 1000;
  EXPECT_TRUE(calls::swap_record(*s, "queue", "q2", std::nullopt, "expiring", soon).value());
  s.reset();
  ASSERT_EQ(sqlite3_open((dir_.path() / database_file).c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='schema_version'", -1, &st, nullptr),
      SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "2");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, RefusesAnUnwritableDirectory) {
  if (::geteuid() == 0) {
    // root ignores permission bits; a path below a regular file can't be a directory for anyone.
    std::FILE* f = std::fopen((dir_.path() / "file").c_str(), "w");
    std::fclose(f);
    options o;
    o.data_dir = dir_.path() / "file" / "data";
    EXPECT_THROW(sqlite_store(std::move(o), &clock_), std::runtime_error);
    return;
  }
  fs::permissions(dir_.path(), fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_THROW(open(), std::runtime_error);
  fs::permissions(dir_.path(), fs::perms::owner_all);
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

TEST_F(SqliteStoreTest, PositionsContinueFromTheLargestHeadOrAnOlderFilesSequenceRow) {
  {
    auto s = open();
    calls::append_ok(*s, calls::numbered("a", 3));
    calls::append_ok(*s, calls::numbered("b", 2));  // 4, 5: the largest head
    calls::append_ok(*s, calls::numbered("a", 1));  // 6
  }
  {
    auto s = open();
    EXPECT_EQ(calls::positions(calls::append_ok(*s, calls::numbered("c", 1))),
              std::vector<core::position>{7});
  }
  // A file an older build wrote kept the sequence in its own row, which may be ahead of every
  // head (never here, but it is what that build trusted): the larger count wins.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / database_file).c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE sequence SET last=40 WHERE id=1", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = open();
  EXPECT_EQ(calls::positions(calls::append_ok(*s, calls::numbered("a", 1))),
            std::vector<core::position>{41});
}

TEST_F(SqliteStoreTest, CheckpointsRunOffTheWriterAndKeepTheWalBounded) {
  options o;
  o.data_dir = dir_.path();
  o.checkpoint_frames = 25;
  o.wal_limit_frames = 100;  // 400 KiB of 4 KiB pages
  sqlite_store s(std::move(o), &clock_);
  const auto wal = dir_.path() / (std::string(database_file) + "-wal");
  // About 12 MB of events in commits of ~60 KB, each acknowledged before the next: SQLite's
  // automatic checkpoint would let the WAL reach 1,000 pages (4 MB) before copying it.
  const std::string big(1000, 'x');
  std::uintmax_t largest = 0;
  for (int i = 0; i < 200; ++i) {
    std::vector<core::new_event> batch;
    for (int j = 0; j < 60; ++j)
      batch.push_back({"s" + std::to_string(j % 7), "t", R"({"p":")" + big + R"("})"});
    calls::append_ok(s, std::move(batch));
    largest = std::max(largest, fs::file_size(wal));
  }
  EXPECT_GT(s.checkpoints(), 0u);
  EXPECT_LT(largest, 4u * 100 * 4096) << "the WAL grew past four times its limit";
  auto back = calls::read(s, "s3", 0, 5);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->events.size(), 5u);
  EXPECT_EQ(back->events.front()->pos, 4u);
}

}  // namespace
}  // namespace eventfeed::store::sqlite
