#include "client/follow_state.hpp"

#include <algorithm>
#include <charconv>

#include "client/cursor_file.hpp"
#include "client/session.hpp"
#include "client/url.hpp"

namespace eventfeed::detail {

namespace {

error invalid(std::string code, std::string message) {
  return error{error_kind::invalid_argument, 0, std::move(code), std::move(message)};
}

std::optional<error> check_options(const stream_set& streams, const follow_options& o) {
  if (auto bad = check_streams(streams)) return bad;
  if (o.urls.empty()) return invalid("invalid_url", "no server URL was given");
  for (const auto& url : o.urls)
    if (auto parsed = parse_url(url); !parsed) return parsed.err();
  if (!is_valid_cursor(o.from))
    return invalid("invalid_cursor", "invalid start '" + o.from +
                                         "': expected \"now\", \"\" (the oldest) or a position");
  return std::nullopt;
}

// The streams' names, sorted and without repeats, comma-separated (a name holds no comma): the
// same set names the same cursor whatever order it is given in; one stream is its name.
std::string identity_of(const stream_set& streams) {
  std::vector<std::string> names = streams.names();
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ',';
    out += n;
  }
  return out;
}

}  // namespace

follow_state::follow_state(stream_set streams, const follow_options& options)
    : streams_(std::move(streams)),
      identity_(identity_of(streams_)),
      options_(&options),
      backoff_(options.retry) {}

result<follow_state> follow_state::open(stream_set streams, const follow_options& options) {
  if (auto bad = check_options(streams, options)) return std::move(*bad);
  follow_state st(std::move(streams), options);
  std::optional<position> saved;
  if (!options.cursor_file.empty()) {
    auto read = read_cursor_file(options.cursor_file, st.identity_);
    if (!read) return std::move(read).err();
    saved = *read;
    if (!saved && !options.start_if_missing)
      return error{error_kind::local, 0, "cursor_file_missing",
                   "cursor file '" + options.cursor_file +
                       "' does not exist; to start a new one, say where to start (start_if_missing "
                       "with from = \"now\", \"\" or a position)"};
  }
  if (saved) {
    st.has_cursor_ = true;
    st.cursor_ = *saved;
  } else if (options.from == "now") {
    st.pending_now_ = true;
  } else if (!options.from.empty()) {
    st.has_cursor_ = true;
    std::from_chars(options.from.data(), options.from.data() + options.from.size(), st.cursor_);
    if (auto failed = st.advance(st.cursor_)) return std::move(*failed);
  }
  return st;
}

std::optional<error> follow_state::advance(position pos) {
  has_cursor_ = true;
  cursor_ = pos;
  if (options_->cursor_file.empty()) return std::nullopt;
  return write_cursor_file(options_->cursor_file, identity_, pos, options_->sync_cursor_file);
}

poll_options follow_state::next_poll() const {
  poll_options p;
  if (pending_now_) {
    p.after = "now";
    p.timeout = std::chrono::milliseconds(0);
  } else {
    p.after = has_cursor_ ? std::to_string(cursor_) : std::string();
    p.timeout = options_->poll_timeout;
  }
  p.types = options_->types;
  p.limit = options_->limit;
  return p;
}

result<retry_notice> follow_state::failed(error e) {
  if (!e.retryable()) return e;
  retry_notice notice;
  notice.err = std::move(e);
  ++failures_;
  if (notice.err.retry_after.count() > 0) {
    // The server said when to come back: wait that long, and ask the same server.
    notice.delay = notice.err.retry_after;
  } else {
    url_ = (url_ + 1) % options_->urls.size();
    if (failures_ >= options_->urls.size()) {  // every URL failed since the last answer
      notice.ceiling = backoff_.ceiling();
      notice.delay = backoff_.next();
    }
  }
  notice.url = options_->urls[url_];
  return notice;
}

void follow_state::succeeded() noexcept {
  failures_ = 0;
  backoff_.reset();
}

std::optional<error> follow_state::deliver(const poll_result& answer, const event_handler& handler,
                                           const std::stop_token& stop) {
  if (answer.gap) {
    delivery d;
    d.gap = true;
    d.gap_after = cursor_;
    handler(d);
  }
  delivery d;
  for (const auto& ev : answer.events) {
    if (stop.stop_requested()) return std::nullopt;
    if (has_cursor_ && ev.pos <= cursor_) continue;  // never twice, whatever a server answers
    d.ev = ev;
    handler(d);
    ++delivered_;
    if (auto failed = advance(ev.pos)) return failed;
  }
  if (stop.stop_requested()) return std::nullopt;
  if (pending_now_) {  // "now" resolved: the cursor starts at the head, even an empty one
    pending_now_ = false;
    return advance(std::max(answer.next, cursor_));
  }
  if (answer.next > cursor_) return advance(answer.next);  // past events the filter skipped
  return std::nullopt;
}

}  // namespace eventfeed::detail
