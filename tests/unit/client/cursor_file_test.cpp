#include "client/cursor_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "scratch_dir.hpp"

// The cursor file: what it reads back, and that every file it did not write whole is an error,
// never "no cursor" (which would start a consumer again from "now").
namespace eventfeed::detail {
namespace {

namespace fs = std::filesystem;

class CursorFile : public ::testing::Test {
 protected:
  void put(const std::string& text) { std::ofstream(path_, std::ios::binary) << text; }

  scratch_dir scratch_;
  const fs::path& dir_ = scratch_.path();
  std::string path_ = (dir_ / "c.cursor").string();
};

TEST_F(CursorFile, AMissingFileIsNoCursorNotAnError) {
  auto r = read_cursor_file(path_, "room:a");
  ASSERT_TRUE(r) << r.err().to_string();
  EXPECT_FALSE(r->has_value());
}

TEST_F(CursorFile, ReadsBackWhatItWrote) {
  ASSERT_FALSE(write_cursor_file(path_, "{acme}user:42", 17, true));
  auto r = read_cursor_file(path_, "{acme}user:42");
  ASSERT_TRUE(r) << r.err().to_string();
  EXPECT_EQ(r->value(), 17u);
  ASSERT_FALSE(write_cursor_file(path_, "{acme}user:42", 18446744073709551615ull, false));
  EXPECT_EQ(read_cursor_file(path_, "{acme}user:42")->value(), 18446744073709551615ull);
  EXPECT_FALSE(fs::exists(path_ + ".tmp"));
}

TEST_F(CursorFile, EveryCutOfAWholeFileIsDamaged) {
  // A torn write, at every byte: never read as a cursor, always a clear error.
  const std::string whole = cursor_file_text("room:a", 123456);
  for (std::size_t n = 0; n < whole.size(); ++n) {
    put(whole.substr(0, n));
    auto r = read_cursor_file(path_, "room:a");
    ASSERT_FALSE(r) << "a file cut to " << n << " bytes was read as a cursor";
    EXPECT_EQ(r.err().kind, error_kind::local);
    EXPECT_EQ(r.err().code, "cursor_file_damaged") << n;
  }
}

TEST_F(CursorFile, AChangedDigitIsCaughtByTheCheck) {
  std::string text = cursor_file_text("room:a", 123456);
  text[text.find("123456")] = '9';
  put(text);
  auto r = read_cursor_file(path_, "room:a");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, "cursor_file_damaged");
  EXPECT_NE(r.err().message.find("check"), std::string::npos) << r.err().message;
}

TEST_F(CursorFile, ForeignContentIsDamaged) {
  for (const std::string& text :
       std::vector<std::string>{"17\n", "eventfeed-cursor 1 room:a x 0000000000000000\n",
                                std::string(4096, 'x'), std::string("\0\0\0\0", 4)}) {
    put(text);
    auto r = read_cursor_file(path_, "room:a");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().code, "cursor_file_damaged");
  }
}

TEST_F(CursorFile, TheCursorOfAnotherStreamIsRefused) {
  ASSERT_FALSE(write_cursor_file(path_, "room:a", 5, false));
  auto r = read_cursor_file(path_, "room:b");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, "cursor_file_stream");
  EXPECT_NE(r.err().message.find("room:a"), std::string::npos);
}

TEST_F(CursorFile, AnUnreadableFileIsAnError) {
  ASSERT_FALSE(write_cursor_file(path_, "room:a", 5, false));
  fs::permissions(path_, fs::perms::none);
  if (::access(path_.c_str(), R_OK) == 0) GTEST_SKIP() << "running as root: modes are ignored";
  auto r = read_cursor_file(path_, "room:a");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().kind, error_kind::local);
  EXPECT_EQ(r.err().code, "cursor_file_unreadable");
}

TEST_F(CursorFile, ADirectoryIsUnreadableNotMissing) {
  fs::create_directories(path_);
  auto r = read_cursor_file(path_, "room:a");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().kind, error_kind::local);
  EXPECT_EQ(r.err().code, "cursor_file_unreadable");
}

TEST_F(CursorFile, APathThroughAFileIsUnreadableNotMissing) {
  put("not a directory");
  auto r = read_cursor_file(path_ + "/c", "room:a");  // ENOTDIR, which root cannot bypass
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, "cursor_file_unreadable");
  EXPECT_NE(r.err().message.find("Not a directory"), std::string::npos) << r.err().message;
}

TEST_F(CursorFile, AWriteThatCannotHappenSaysSo) {
  auto e = write_cursor_file((dir_ / "no-such-dir" / "c").string(), "room:a", 1, false);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, error_kind::local);
  EXPECT_EQ(e->code, "cursor_file_unwritable");
}

}  // namespace
}  // namespace eventfeed::detail
