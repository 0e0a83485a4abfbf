#include "client/ndjson.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>

namespace eventfeed::detail {
namespace {

// Lines in chunks, as a pipe delivers them: ready() is false at the end of each chunk, as if
// the producer had not written the next one yet.
class scripted_source final : public line_source {
 public:
  explicit scripted_source(const std::vector<std::vector<std::string>>& script) {
    for (const auto& c : script) chunks_.emplace_back(c.begin(), c.end());
  }
  status next(std::string& line) override {
    while (!chunks_.empty() && chunks_.front().empty()) chunks_.pop_front();
    if (chunks_.empty()) return status::end;
    line = std::move(chunks_.front().front());
    chunks_.front().pop_front();
    return status::line;
  }
  bool ready() override { return chunks_.empty() || !chunks_.front().empty(); }

 private:
  std::deque<std::deque<std::string>> chunks_;
};

struct recorder {
  std::vector<std::vector<new_event>> batches;
  std::vector<published> sent;
  position next = 1;
  int fail_on_batch = -1;  // answer this batch (0-based) with a server error

  send_batch sender() {
    return [this](const std::vector<new_event>& batch) -> result<published> {
      if (static_cast<int>(batches.size()) == fail_on_batch)
        return error{error_kind::server, 503, "unavailable", "disk full"};
      batches.push_back(batch);
      published p{next, next + batch.size() - 1};
      next += batch.size();
      return p;
    };
  }
  batch_sent on_sent() {
    return [this](const published& p) { sent.push_back(p); };
  }
};

using lines = std::vector<std::string>;
using chunks = std::vector<lines>;

lines numbered_lines(std::size_t n) {
  lines out;
  for (std::size_t i = 1; i <= n; ++i) out.push_back(R"({"n":)" + std::to_string(i) + "}");
  return out;
}

TEST(PublishNdjson, Sends2500LinesInBatchesOf1000) {
  scripted_source in(chunks{numbered_lines(2500)});
  recorder rec;
  const auto out = publish_ndjson(in, "count", {}, rec.sender(), rec.on_sent());
  ASSERT_FALSE(out.failure) << out.failure->message;
  EXPECT_EQ(out.lines, 2500u);
  EXPECT_EQ(out.events, 2500u);
  EXPECT_EQ(out.requests, 3u);
  ASSERT_EQ(rec.batches.size(), 3u);
  EXPECT_EQ(rec.batches[0].size(), 1000u);
  EXPECT_EQ(rec.batches[1].size(), 1000u);
  EXPECT_EQ(rec.batches[2].size(), 500u);
  EXPECT_EQ(rec.batches[2].back().data, R"({"n":2500})");
  EXPECT_EQ(rec.batches[0].front().type, "count");
  ASSERT_EQ(rec.sent.size(), 3u);
  EXPECT_EQ(rec.sent[2].first, 2001u);
  EXPECT_EQ(rec.sent[2].last, 2500u);
}

TEST(PublishNdjson, SkipsBlankLinesButCountsThem) {
  scripted_source in(chunks{lines{"", R"({"a":1})", "  \r", R"( {"b":2} )"}});
  recorder rec;
  const auto out = publish_ndjson(in, "t", {}, rec.sender(), rec.on_sent());
  ASSERT_FALSE(out.failure);
  EXPECT_EQ(out.lines, 4u);
  EXPECT_EQ(out.events, 2u);
  ASSERT_EQ(rec.batches.size(), 1u);
  EXPECT_EQ(rec.batches[0][1].data, R"( {"b":2} )");
}

TEST(PublishNdjson, StopsAtAnInvalidLineNamingIt) {
  auto all = numbered_lines(2500);
  all[2399] = R"({"n":2400)";  // line 2400
  scripted_source in(chunks{all});
  recorder rec;
  const auto out = publish_ndjson(in, "t", {}, rec.sender(), rec.on_sent());
  ASSERT_TRUE(out.failure);
  EXPECT_EQ(out.failure->kind, error_kind::invalid_argument);
  EXPECT_EQ(out.failure->code, "invalid_json");
  EXPECT_EQ(out.failure->message.rfind("line 2400 is not valid JSON", 0), 0u)
      << out.failure->message;
  EXPECT_EQ(out.events, 2000u);  // the two full batches before it; not its own
  EXPECT_EQ(rec.batches.size(), 2u);
}

TEST(PublishNdjson, RejectsLinesThatAreNotObjects) {
  scripted_source in(chunks{lines{R"({"ok":1})", "[1,2]"}});
  recorder rec;
  const auto out = publish_ndjson(in, "t", {}, rec.sender(), rec.on_sent());
  ASSERT_TRUE(out.failure);
  EXPECT_EQ(out.failure->message,
            "line 2 is an array, not a JSON object; each line must be one JSON object");
  EXPECT_TRUE(rec.batches.empty());
}

TEST(PublishNdjson, SendsWhatItHasWhenInputPauses) {
  scripted_source in(
      chunks{lines{R"({"a":1})", R"({"a":2})"}, lines{R"({"a":3})"}, lines{R"({"a":4})"}});
  recorder rec;
  const auto out = publish_ndjson(in, "t", {}, rec.sender(), rec.on_sent());
  ASSERT_FALSE(out.failure);
  ASSERT_EQ(rec.batches.size(), 3u);
  EXPECT_EQ(rec.batches[0].size(), 2u);
  EXPECT_EQ(rec.batches[1].size(), 1u);
  EXPECT_EQ(rec.batches[2].size(), 1u);
}

TEST(PublishNdjson, KeepsBatchesUnderTheBodyLimit) {
  const std::string big = R"({"s":")" + std::string(400, 'x') + R"("})";
  scripted_source in(chunks{lines(5, big)});
  recorder rec;
  const auto out = publish_ndjson(in, "t", {.max_events = 1000, .max_body_bytes = 1000},
                                  rec.sender(), rec.on_sent());
  ASSERT_FALSE(out.failure);
  ASSERT_EQ(rec.batches.size(), 3u);  // two ~430-byte events fit in 1000 bytes, not three
  EXPECT_EQ(rec.batches[0].size(), 2u);
  EXPECT_EQ(rec.batches[1].size(), 2u);
  EXPECT_EQ(rec.batches[2].size(), 1u);
}

TEST(PublishNdjson, StopsAtTheFirstFailedRequest) {
  scripted_source in(chunks{numbered_lines(2500)});
  recorder rec;
  rec.fail_on_batch = 1;
  const auto out = publish_ndjson(in, "t", {}, rec.sender(), rec.on_sent());
  ASSERT_TRUE(out.failure);
  EXPECT_EQ(out.failure->status, 503);
  EXPECT_EQ(out.events, 1000u);
  EXPECT_EQ(out.requests, 1u);
  EXPECT_EQ(rec.sent.size(), 1u);
}

TEST(PublishNdjson, EmptyInputSendsNothing) {
  scripted_source in(chunks{});
  recorder rec;
  const auto out = publish_ndjson(in, "t", {}, rec.sender(), rec.on_sent());
  EXPECT_FALSE(out.failure);
  EXPECT_EQ(out.events, 0u);
  EXPECT_TRUE(rec.batches.empty());
}

class FdLineSourceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::pipe(fds_), 0); }
  void TearDown() override {
    if (fds_[0] >= 0) ::close(fds_[0]);
    if (fds_[1] >= 0) ::close(fds_[1]);
  }
  void write_text(std::string_view text) {
    ASSERT_EQ(::write(fds_[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  void close_writer() {
    ::close(fds_[1]);
    fds_[1] = -1;
  }
  int fds_[2] = {-1, -1};
};

TEST_F(FdLineSourceTest, ReadsLinesAndALastLineWithoutNewline) {
  fd_line_source in(fds_[0]);
  EXPECT_FALSE(in.ready());  // nothing written yet: next() would wait
  write_text("{\"a\":1}\n\n{\"b\"");
  EXPECT_TRUE(in.ready());
  std::string line;
  ASSERT_EQ(in.next(line), line_source::status::line);
  EXPECT_EQ(line, R"({"a":1})");
  ASSERT_EQ(in.next(line), line_source::status::line);
  EXPECT_EQ(line, "");
  EXPECT_FALSE(in.ready());  // a partial line is buffered, the rest not written yet
  write_text(":2}");
  close_writer();
  ASSERT_EQ(in.next(line), line_source::status::line);
  EXPECT_EQ(line, R"({"b":2})");
  EXPECT_TRUE(in.ready());
  EXPECT_EQ(in.next(line), line_source::status::end);
}

TEST_F(FdLineSourceTest, ReportsAFailedRead) {
  fd_line_source in(-1);
  std::string line;
  EXPECT_EQ(in.next(line), line_source::status::failed);
  EXPECT_NE(line.find("cannot read input"), std::string::npos);
}

}  // namespace
}  // namespace eventfeed::detail
