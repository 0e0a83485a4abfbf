// tests/integration/tools/follow_consumer.cpp: a consumer process for the follow tests, which
// kill it (SIGKILL) and start it again on the same cursor file.
//
//   follow_consumer --stream S [--stream S2]... --cursor-file F [--url U]... [--key K]
//                   [--from X] [--start-if-missing]
//
// It runs call_on_each_event (on several streams of one {tag} when --stream is repeated) and
// prints each event as "<position> <data> <stream>\n", flushed at once,
// and each gap as "gap <after>\n"; each retry goes to stderr. It runs until killed, or until a
// non-retryable error (printed on stderr, exit 1).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "eventfeed/follow.hpp"

int main(int argc, char** argv) {
  eventfeed::follow_options o;
  o.urls.clear();
  o.poll_timeout = std::chrono::seconds(5);
  o.retry = {.initial = std::chrono::milliseconds(50), .cap = std::chrono::milliseconds(500)};
  std::vector<std::string> streams;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : "";
    if (arg == "--start-if-missing") {
      o.start_if_missing = true;
      continue;
    }
    ++i;
    if (arg == "--stream") {
      streams.emplace_back(value);
    } else if (arg == "--cursor-file") {
      o.cursor_file = value;
    } else if (arg == "--url") {
      o.urls.emplace_back(value);
    } else if (arg == "--key") {
      o.key = value;
    } else if (arg == "--from") {
      o.from = value;
    } else {
      std::fprintf(stderr, "follow_consumer: unknown argument %s\n", arg.c_str());
      return 2;
    }
  }
  o.on_retry = [](const eventfeed::retry_notice& n) {
    std::fprintf(stderr, "follow_consumer: %s; retrying %s in %lld ms\n", n.err.to_string().c_str(),
                 n.url.c_str(), static_cast<long long>(n.delay.count()));
  };
  auto end = eventfeed::call_on_each_event(
      streams,
      [](const eventfeed::delivery& d) {
        if (d.gap) {
          std::printf("gap %llu\n", static_cast<unsigned long long>(d.gap_after));
        } else {
          std::printf("%llu %s %s\n", static_cast<unsigned long long>(d.ev.pos), d.ev.data.c_str(),
                      d.ev.stream.c_str());
        }
        std::fflush(stdout);
      },
      o);
  if (!end) {
    std::fprintf(stderr, "follow_consumer: %s\n", end.err().to_string().c_str());
    return 1;
  }
  return 0;
}
