#include "client/ndjson.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "client/wire.hpp"

namespace eventfeed::detail {

line_source::status fd_line_source::next(std::string& line) {
  for (;;) {
    if (const auto nl = buf_.find('\n', start_); nl != std::string::npos) {
      line.assign(buf_, start_, nl - start_);
      start_ = nl + 1;
      return status::line;
    }
    if (eof_) {
      if (start_ >= buf_.size()) return status::end;
      line.assign(buf_, start_);
      start_ = buf_.size();
      return status::line;
    }
    if (start_ > 0) {  // keep only the partial line before reading more
      buf_.erase(0, start_);
      start_ = 0;
    }
    char chunk[64 * 1024];
    const ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      line = std::string("cannot read input: ") + std::strerror(errno);
      return status::failed;
    }
    if (n == 0) {
      eof_ = true;
    } else {
      buf_.append(chunk, static_cast<std::size_t>(n));
    }
  }
}

bool fd_line_source::ready() {
  if (eof_ || buf_.find('\n', start_) != std::string::npos) return true;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;  // readable, at EOF, or in error: next() will not wait
}

namespace {
bool is_blank(std::string_view line) noexcept {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// Roughly what one event adds to a batch body: {"type":"...","data":...},
std::size_t body_cost(std::string_view type, std::string_view data) noexcept {
  return type.size() + data.size() + 24;
}
}  // namespace

ndjson_outcome publish_ndjson(line_source& in, std::string_view type, const ndjson_limits& limits,
                              const send_batch& send, const batch_sent& on_sent) {
  ndjson_outcome out;
  std::vector<new_event> batch;
  std::size_t batch_bytes = 16;

  auto flush = [&]() -> bool {
    if (batch.empty()) return true;
    auto sent = send(batch);
    if (!sent) {
      out.failure = std::move(sent).err();
      return false;
    }
    out.events += batch.size();
    ++out.requests;
    on_sent(*sent);
    batch.clear();
    batch_bytes = 16;
    return true;
  };

  std::string line;
  for (;;) {
    // Nothing more to read right now: publish what we have instead of waiting with it.
    if (!batch.empty() && !in.ready() && !flush()) return out;
    const auto st = in.next(line);
    if (st == line_source::status::end) break;
    if (st == line_source::status::failed) {
      out.failure = error{error_kind::transport, 0, "io", line};
      return out;
    }
    ++out.lines;
    if (is_blank(line)) continue;
    if (auto why = check_data_object(line)) {
      std::string message = "line " + std::to_string(out.lines) + " is " + *why +
                            "; each line must be one JSON object";
      out.failure = error{error_kind::invalid_argument, 0, "invalid_json", std::move(message)};
      return out;
    }
    const std::size_t cost = body_cost(type, line);
    if (!batch.empty() && batch_bytes + cost > limits.max_body_bytes && !flush()) return out;
    batch.push_back(new_event{std::string(type), line});
    batch_bytes += cost;
    if (batch.size() >= limits.max_events && !flush()) return out;
  }
  flush();
  return out;
}

}  // namespace eventfeed::detail
