// client/ndjson.hpp: publishing newline-delimited JSON (one data object per line) from a pipe,
// for `eventfeed publish STREAM TYPE -`.
//
// Lines go into a batch; a batch is sent when it holds `max_events` events, when one more line
// would take its body over `max_body_bytes`, when the input ends, and also whenever the input
// has nothing more ready to read: a file or a fast pipe fills batches of 1,000, while a slow
// producer (`tail -f app.log | ...`) sees each line published as soon as it is written. A batch
// is checked line by line before it is sent, so an invalid line stops everything with its line
// number, after the batches before it were published and before its own batch is.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventfeed/client.hpp"

namespace eventfeed::detail {

// Where lines come from.
class line_source {
 public:
  enum class status { line, end, failed };
  virtual ~line_source() = default;
  // The next line without its '\n' (a last line without one counts), blocking until there is
  // one. `failed` leaves a message in `line`.
  virtual status next(std::string& line) = 0;
  // True when next() would return without waiting.
  virtual bool ready() = 0;
};

// Lines from a POSIX file descriptor (stdin: 0). Does not own it.
class fd_line_source final : public line_source {
 public:
  explicit fd_line_source(int fd) : fd_(fd) {}
  status next(std::string& line) override;
  bool ready() override;

 private:
  int fd_;
  std::string buf_;
  std::size_t start_ = 0;  // first byte of buf_ not yet returned
  bool eof_ = false;
};

struct ndjson_limits {
  std::size_t max_events = 1000;           // the server's default batch limit
  std::size_t max_body_bytes = 1'000'000;  // under the server's default 1 MiB body limit
};

struct ndjson_outcome {
  std::size_t lines = 0;     // lines read, blank ones included
  std::size_t events = 0;    // events published
  std::size_t requests = 0;  // batches published
  // Why it stopped early: a line that is not a JSON object (invalid_argument, "invalid_json",
  // "line N is ..."), a failed read (transport, "io"), or the first failure of `send`.
  std::optional<error> failure;
};

using send_batch = std::function<result<published>(const std::vector<new_event>&)>;
using batch_sent = std::function<void(const published&)>;

// Reads `in` to its end, publishing each non-blank line as the data of an event of type `type`.
ndjson_outcome publish_ndjson(line_source& in, std::string_view type, const ndjson_limits& limits,
                              const send_batch& send, const batch_sent& on_sent);

}  // namespace eventfeed::detail
