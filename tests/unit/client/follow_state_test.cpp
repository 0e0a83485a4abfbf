#include "client/follow_state.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "client/cursor_file.hpp"
#include "scratch_dir.hpp"

// The decisions of call_on_each_event, without a network: where it starts, how it hands an
// answer over and moves its cursor, how it retries, fails over and gives up.
namespace eventfeed::detail {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

event ev(position p, std::string type = "t") {
  return event{p, 1000, std::move(type), "{}"};
}

poll_result answer(std::vector<event> events, position next, bool gap = false) {
  return poll_result{std::move(events), next, gap};
}

class FollowState : public ::testing::Test {
 protected:
  void SetUp() override {
    opts_.urls = {"http://127.0.0.1:1"};
    opts_.retry = {.initial = milliseconds(100), .cap = milliseconds(400), .seed = 11};
  }

  std::string cursor_path() const { return (dir_ / "c.cursor").string(); }
  position saved() const { return read_cursor_file(cursor_path(), "room:a")->value(); }

  follow_state open() {
    auto st = follow_state::open("room:a", opts_);
    if (!st) throw std::runtime_error(st.err().to_string());
    return std::move(*st);
  }

  scratch_dir scratch_;
  const fs::path& dir_ = scratch_.path();
  follow_options opts_;
  std::vector<delivery> seen_;
  event_handler record_ = [this](const delivery& d) { seen_.push_back(d); };
};

TEST_F(FollowState, RefusesBadOptionsBeforeAnyRequest) {
  EXPECT_EQ(follow_state::open("room a", opts_).err().code, "invalid_stream");
  opts_.urls = {};
  EXPECT_EQ(follow_state::open("room:a", opts_).err().code, "invalid_url");
  opts_.urls = {"http://127.0.0.1:1", "https://x"};
  EXPECT_EQ(follow_state::open("room:a", opts_).err().code, "invalid_url");
  opts_.urls = {"http://127.0.0.1:1"};
  opts_.from = "yesterday";
  EXPECT_EQ(follow_state::open("room:a", opts_).err().code, "invalid_cursor");
}

TEST_F(FollowState, AMissingCursorFileIsAnErrorUnlessAStartIsGiven) {
  opts_.cursor_file = cursor_path();
  auto st = follow_state::open("room:a", opts_);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().kind, error_kind::local);
  EXPECT_EQ(st.err().code, "cursor_file_missing");
  EXPECT_FALSE(fs::exists(cursor_path()));
}

TEST_F(FollowState, ADamagedCursorFileIsAnErrorEvenWithAStart) {
  opts_.cursor_file = cursor_path();
  opts_.start_if_missing = true;
  std::ofstream(cursor_path()) << "eventfeed-cursor 1 room:a 1";  // cut short
  auto st = follow_state::open("room:a", opts_);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().code, "cursor_file_damaged");
}

TEST_F(FollowState, NowIsResolvedByAPollThatDoesNotWaitAndSavedAtOnce) {
  opts_.cursor_file = cursor_path();
  opts_.start_if_missing = true;
  auto st = open();
  EXPECT_TRUE(st.pending_now());
  EXPECT_EQ(st.next_poll().after, "now");
  EXPECT_EQ(st.next_poll().timeout, milliseconds(0));
  ASSERT_FALSE(st.deliver(answer({}, 41), record_));
  EXPECT_FALSE(st.pending_now());
  EXPECT_TRUE(seen_.empty());
  EXPECT_EQ(saved(), 41u);
  EXPECT_EQ(st.next_poll().after, "41");
  EXPECT_EQ(st.next_poll().timeout, opts_.poll_timeout);
}

TEST_F(FollowState, NowOnAnEmptyStreamStartsAtZeroAndSavesIt) {
  opts_.cursor_file = cursor_path();
  opts_.start_if_missing = true;
  auto st = open();
  ASSERT_FALSE(st.deliver(answer({}, 0), record_));
  EXPECT_FALSE(st.pending_now());
  EXPECT_EQ(saved(), 0u) << "a restart resumes from the start, not from a later now";
  EXPECT_EQ(st.next_poll().after, "0");
}

TEST_F(FollowState, SeveralStreamsShareOneCursorFileWhateverTheirOrder) {
  opts_.cursor_file = cursor_path();
  opts_.from = "5";
  opts_.start_if_missing = true;
  {
    auto st = follow_state::open(stream_set{"{t}b", "{t}a", "{t}b"}, opts_);
    ASSERT_TRUE(st) << st.err().to_string();
    ASSERT_FALSE(st->deliver(answer({ev(9)}, 9), record_));
  }
  EXPECT_EQ(read_cursor_file(cursor_path(), "{t}a,{t}b")->value(), 9u);
  auto again = follow_state::open(stream_set{"{t}a", "{t}b"}, opts_);
  ASSERT_TRUE(again) << again.err().to_string();
  EXPECT_EQ(again->next_poll().after, "9");
  auto other = follow_state::open(stream_set{"{t}a"}, opts_);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.err().code, "cursor_file_stream");
}

TEST_F(FollowState, StreamsOfDifferentTagsOrTooManyAreRefused) {
  auto mixed = follow_state::open(stream_set{"{t}a", "{u}b"}, opts_);
  ASSERT_FALSE(mixed);
  EXPECT_EQ(mixed.err().code, "invalid_stream");
  EXPECT_EQ(mixed.err().message,
            "streams read together must share a {tag} (one position sequence): '{t}a' and '{u}b' "
            "do not");
  EXPECT_EQ(follow_state::open(stream_set{"a", "b"}, opts_).err().code, "invalid_stream")
      << "without a tag, a stream's tag is its whole name";
  std::vector<std::string> many;
  for (int i = 0; i <= 50; ++i) many.push_back("{t}" + std::to_string(i));
  EXPECT_EQ(follow_state::open(many, opts_).err().code, "invalid_stream");
  many.pop_back();
  EXPECT_TRUE(follow_state::open(many, opts_));
  EXPECT_EQ(follow_state::open(std::vector<std::string>{}, opts_).err().code, "invalid_stream");
}

TEST_F(FollowState, ASavedCursorWinsOverTheStart) {
  opts_.cursor_file = cursor_path();
  opts_.from = "now";
  ASSERT_FALSE(write_cursor_file(cursor_path(), "room:a", 7, false));
  auto st = open();
  EXPECT_FALSE(st.pending_now());
  EXPECT_EQ(st.next_poll().after, "7");
}

TEST_F(FollowState, FromTheOldestPollsWithoutACursorUntilTheFirstAnswer) {
  opts_.from = "";
  opts_.types = {"tip"};
  opts_.limit = 5;
  opts_.poll_timeout = milliseconds(1500);
  auto st = open();
  EXPECT_FALSE(st.pending_now());
  auto p = st.next_poll();
  EXPECT_EQ(p.after, "");
  EXPECT_EQ(p.types, std::vector<std::string>{"tip"});
  EXPECT_EQ(p.limit, 5u);
  EXPECT_EQ(p.timeout, milliseconds(1500));
  ASSERT_FALSE(st.deliver(answer({}, 0), record_));  // an empty stream: still no cursor
  EXPECT_EQ(st.next_poll().after, "");
  ASSERT_FALSE(st.deliver(answer({ev(3)}, 3), record_));
  EXPECT_EQ(st.next_poll().after, "3");
}

TEST_F(FollowState, HandsEventsOverInOrderAndSavesTheCursorAfterEach) {
  opts_.cursor_file = cursor_path();
  opts_.from = "2";
  opts_.start_if_missing = true;
  auto st = open();
  EXPECT_EQ(saved(), 2u);
  std::vector<position> saved_when_handled;
  event_handler h = [&](const delivery& d) {
    saved_when_handled.push_back(saved());
    seen_.push_back(d);
  };
  ASSERT_FALSE(st.deliver(answer({ev(3), ev(5), ev(8)}, 10), h));
  ASSERT_EQ(seen_.size(), 3u);
  EXPECT_EQ(seen_[0].ev.pos, 3u);
  EXPECT_EQ(seen_[2].ev.pos, 8u);
  // Each event is handed over with the cursor saved just before it: after the previous one.
  EXPECT_EQ(saved_when_handled, (std::vector<position>{2, 3, 5}));
  EXPECT_EQ(saved(), 10u);  // past the events the filter skipped
  EXPECT_EQ(st.summary().cursor, 10u);
  EXPECT_EQ(st.summary().delivered, 3u);
}

TEST_F(FollowState, NeverHandsOverAnEventAtOrBeforeTheCursor) {
  opts_.from = "5";
  auto st = open();
  ASSERT_FALSE(st.deliver(answer({ev(4), ev(5), ev(6)}, 6), record_));
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_EQ(seen_[0].ev.pos, 6u);
  ASSERT_FALSE(st.deliver(answer({ev(6)}, 6), record_));
  EXPECT_EQ(seen_.size(), 1u);
}

TEST_F(FollowState, AThrowingHandlerLeavesTheCursorBeforeItsEvent) {
  opts_.cursor_file = cursor_path();
  opts_.from = "0";
  opts_.start_if_missing = true;
  auto st = open();
  event_handler h = [&](const delivery& d) {
    if (d.ev.pos == 2) throw std::runtime_error("boom");
    seen_.push_back(d);
  };
  EXPECT_THROW((void)st.deliver(answer({ev(1), ev(2), ev(3)}, 3), h), std::runtime_error);
  EXPECT_EQ(seen_.size(), 1u);
  EXPECT_EQ(saved(), 1u);
  EXPECT_EQ(st.next_poll().after, "1");
  // The next answer hands event 2 over again, since it was never handled.
  ASSERT_FALSE(st.deliver(answer({ev(2), ev(3)}, 3), record_));
  ASSERT_EQ(seen_.size(), 3u);
  EXPECT_EQ(seen_[1].ev.pos, 2u);
}

TEST_F(FollowState, AStopRequestedByTheHandlerEndsTheHandOverAfterItsEvent) {
  opts_.from = "0";
  auto st = open();
  std::stop_source stop;
  event_handler h = [&](const delivery& d) {
    seen_.push_back(d);
    if (d.ev.pos == 2) stop.request_stop();
  };
  ASSERT_FALSE(st.deliver(answer({ev(1), ev(2), ev(3)}, 9), h, stop.get_token()));
  EXPECT_EQ(seen_.size(), 2u);
  EXPECT_EQ(st.summary().cursor, 2u);  // not past 3, nor past `next`
}

TEST_F(FollowState, AGapIsHandedOverBeforeTheEventsAfterIt) {
  opts_.from = "4";
  auto st = open();
  ASSERT_FALSE(st.deliver(answer({ev(9), ev(10)}, 10, true), record_));
  ASSERT_EQ(seen_.size(), 3u);
  EXPECT_TRUE(seen_[0].gap);
  EXPECT_EQ(seen_[0].gap_after, 4u);
  EXPECT_FALSE(seen_[1].gap);
  EXPECT_EQ(seen_[1].ev.pos, 9u);
}

TEST_F(FollowState, ErrorsThatCannotPassEndTheLoop) {
  auto st = open();
  for (int status : {400, 401, 403, 404}) {
    auto r = st.failed(error{error_kind::server, status, "x", "y"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().status, status);
  }
  EXPECT_FALSE(st.failed(error{error_kind::protocol, 200, "bad_response", "z"}));
  EXPECT_FALSE(st.failed(error{error_kind::cancelled, 0, "cancelled", "c"}));
}

TEST_F(FollowState, FailsOverAtOnceThenBacksOffWithGrowingCeilings) {
  opts_.urls = {"http://a:1", "http://b:1"};
  auto st = open();
  const error down{error_kind::transport, 0, "connect", "refused"};
  auto r = st.failed(down);  // first failure: the other URL, at once
  ASSERT_TRUE(r);
  EXPECT_EQ(r->url, "http://b:1");
  EXPECT_EQ(st.url_index(), 1u);
  EXPECT_EQ(r->delay, milliseconds(0));
  EXPECT_EQ(r->ceiling, milliseconds(0));
  std::vector<milliseconds> ceilings;
  for (int i = 0; i < 5; ++i) {  // both down: backoff, alternating URLs
    r = st.failed(down);
    ASSERT_TRUE(r);
    EXPECT_LE(r->delay, r->ceiling);
    ceilings.push_back(r->ceiling);
    EXPECT_EQ(r->url, i % 2 == 0 ? "http://a:1" : "http://b:1");
  }
  EXPECT_EQ(ceilings,
            (std::vector<milliseconds>{milliseconds(100), milliseconds(200), milliseconds(400),
                                       milliseconds(400), milliseconds(400)}));
  st.succeeded();  // an answer: the next failure fails over at once again
  r = st.failed(down);
  EXPECT_EQ(r->delay, milliseconds(0));
  r = st.failed(down);
  EXPECT_EQ(r->ceiling, milliseconds(100));
}

TEST_F(FollowState, RetryAfterIsHonouredOnTheSameUrl) {
  opts_.urls = {"http://a:1", "http://b:1"};
  auto st = open();
  for (int status : {429, 503}) {
    error busy{error_kind::server, status, "busy", "later"};
    busy.retry_after = milliseconds(3000);
    auto r = st.failed(busy);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->delay, milliseconds(3000));
    EXPECT_EQ(r->url, "http://a:1");
  }
}

}  // namespace
}  // namespace eventfeed::detail
