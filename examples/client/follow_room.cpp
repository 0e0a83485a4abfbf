// follow_room: prints every event of a stream, once, resuming after a restart where it stopped.
//
//   follow_room STREAM CURSOR_FILE URL... [--key KEY] [--start now|oldest|POSITION]
//   follow_room room:alice alice.cursor http://10.0.0.1:8080 http://10.0.0.2:8080 --start now
//   follow_room room:alice alice.cursor http://10.0.0.1:8080 http://10.0.0.2:8080
//
// The first run says where to start (--start) and creates CURSOR_FILE; every later run resumes
// after the last event printed. A later run that finds no CURSOR_FILE fails instead of starting
// again from now, which would skip events without a word. Ctrl-C (or SIGTERM) stops it cleanly.
// Only the client library's plain C++ headers are used: no Asio, no Boost.
#include <eventfeed/follow.hpp>

#include <pthread.h>
#include <csignal>
#include <cstdio>
#include <stop_token>
#include <string>
#include <thread>

int main(int argc, char** argv) {
  eventfeed::follow_options options;
  options.urls.clear();
  std::string stream, cursor_file;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--key" && i + 1 < argc) {
      options.key = argv[++i];
    } else if (arg == "--start" && i + 1 < argc) {
      const std::string start = argv[++i];
      options.start_if_missing = true;  // only when the file is missing: a saved cursor wins
      options.from = start == "oldest" ? "" : start;
    } else if (stream.empty()) {
      stream = arg;
    } else if (cursor_file.empty()) {
      cursor_file = arg;
    } else {
      options.urls.push_back(arg);
    }
  }
  if (options.urls.empty()) {
    std::fprintf(stderr,
                 "usage: follow_room STREAM CURSOR_FILE URL... [--key KEY] "
                 "[--start now|oldest|POSITION]\n");
    return 2;
  }
  options.cursor_file = cursor_file;
  options.on_retry = [](const eventfeed::retry_notice& n) {
    std::fprintf(stderr, "follow_room: %s; retrying %s in %lld ms\n", n.err.to_string().c_str(),
                 n.url.c_str(), static_cast<long long>(n.delay.count()));
  };

  // Signals go to one thread, which requests the stop: the loop ends within milliseconds.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::stop_source stop;
  std::jthread watcher([&](std::stop_token done) {
    int sig = 0;
    while (!done.stop_requested() && sigwait(&signals, &sig) == 0) {
      if (sig == SIGINT || sig == SIGTERM) break;
    }
    stop.request_stop();
  });

  auto end = eventfeed::call_on_each_event(
      stream,
      [](const eventfeed::delivery& d) {
        if (d.gap) {
          std::fprintf(stderr, "follow_room: events after %llu were removed before we read them\n",
                       static_cast<unsigned long long>(d.gap_after));
          return;
        }
        std::printf("%s\n", eventfeed::to_json(d.ev).c_str());
        std::fflush(stdout);
      },
      options, stop.get_token());

  watcher.request_stop();
  pthread_kill(watcher.native_handle(), SIGTERM);  // wakes sigwait if the loop ended by itself
  if (!end) {
    std::fprintf(stderr, "follow_room: %s\n", end.err().to_string().c_str());
    return 1;
  }
  std::fprintf(stderr, "follow_room: stopped after %llu events; cursor %llu\n",
               static_cast<unsigned long long>(end->delivered),
               static_cast<unsigned long long>(end->cursor));
  return 0;
}
