// cli/main.cpp: the eventfeed command: `serve` runs the server; `publish`, `tail` and `demo`
// talk to a running one through the client library (eventfeed/client.hpp). Thin: it parses
// arguments, wires the libraries together and prints; the logic lives in server/, client/ and
// cli/demo_room.cpp.
//
// Output contract. Scripts and tests/integration/ rely on it; change it only on purpose.
//
//   serve    stdout: "eventfeed listening on HOST:PORT" once listening (server/app.cpp).
//   publish  stdout: one line per request, the server's answer {"first":P,"last":Q} (P == Q for
//            one event). With JSON "-", stdin is NDJSON, one data object per line; blank lines
//            are skipped; lines are sent in batches of up to 1000 events (and under 1 MB), a
//            batch also going out whenever stdin has nothing more ready, so one line is printed
//            per batch. A line that is not one JSON object stops the command with
//            "eventfeed: publish: stdin line N is ..." on stderr and exit 2; the batches before it
//            are published (the message says how many events), its own batch is not.
//   tail     stdout: one line per event, {"position":P,"time":T,"type":"...","data":{...}}
//            (keys in that order, compact, the server's own rendering), flushed after each
//            event; following several streams (sharing a {tag}), each line starts with the
//            event's stream, {"stream":"...","position":P,...}. Nothing else is written to
//            stdout. It is call_on_each_event (eventfeed/follow.hpp): it polls from --after
//            (default "now", resolved to the streams' head by the first poll) and then from the
//            cursor of the last event printed. With --cursor-file F it resumes from F when F exists
//            (--after is then ignored) and rewrites F after each event printed; a missing F is a
//            usage error (exit 2) unless --after is given, which starts it. SIGINT or SIGTERM ends
//            it with exit 0 within milliseconds, as does printing --count events. Connection
//            failures and 429/5xx answers are retried forever: with several --url, at once on the
//            next one, and once all failed, after a backoff with full jitter up to 8 s (0.5 s
//            first); a Retry-After is honoured. Each retry is announced on stderr as
//            "eventfeed: tail: <error>; retrying [<url>] in <S> s"; any other error answer
//            (400, 401, 403, 404) ends it with exit 1, as does a damaged or unreadable cursor
//            file. A gap (events trimmed by retention before they were read) is reported on
//            stderr as "eventfeed: warning: gap in stream ..." and tail goes on.
//   demo     stdout: one line per event published, "[method] what happened"; a first line on
//            stderr says where it publishes. It starts with broadcastStart and ends, after
//            --count events or on SIGINT/SIGTERM (exit 0), with broadcastStop. A server error
//            ends it with exit 1.
//   admin    stdout: the server's answer, one JSON line (docs/api/admin.md): `key add` and
//            `key rotate` print the new secret in it, the only time it is ever shown; `key list`
//            {"keys":[...]}, `key show` and `key revoke` the key (never its secret). --key must
//            be a key with `admin = true`.
//   stderr   every diagnostic, one line each, starting with "eventfeed: ".
//
// Exit status: 0 success; 1 the server answered with an error, or could not be reached;
// 2 usage: bad arguments, a bad URL or stream name, data that is not a JSON object.
//
// --url and --key may come before or after the subcommand; they default to the environment
// variables EVENTFEED_URL and EVENTFEED_KEY, and the URL to http://127.0.0.1:8080.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cli/demo_room.hpp"
#include "client/ndjson.hpp"
#include "client/url.hpp"
#include "eventfeed/client.hpp"
#include "eventfeed/follow.hpp"
#include "server/app.hpp"
#include "server/config.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failed = 1;
constexpr int exit_usage = 2;

using std::chrono::milliseconds;

// ---- serve -------------------------------------------------------------------------------------

struct serve_args {
  std::string config_path;
  std::string listen;
  std::string store;     // empty: as the config says
  std::string data_dir;  // empty: as the config says
  std::string durability;
};

// The store backends --store accepts; config.cpp checks store.backend against the same names.
const std::vector<std::string> store_backends = {"sqlite", "memory"};

int run_serve(const serve_args& args) {
  // Without a file, the defaults (every dialect with its default settings and no keys).
  auto loaded = args.config_path.empty() ? eventfeed::server::parse_config("", "(defaults)")
                                         : eventfeed::server::load_config(args.config_path);
  if (!loaded) {
    std::fprintf(stderr, "eventfeed: %s\n", loaded.err().message.c_str());
    return exit_usage;
  }
  eventfeed::server::config cfg = std::move(*loaded);
  if (!args.listen.empty()) {
    auto hp = eventfeed::server::parse_listen(args.listen);
    if (!hp) {
      std::fprintf(stderr, "eventfeed: --listen: %s\n", hp.err().message.c_str());
      return exit_usage;
    }
    cfg.http.address = hp->first;
    cfg.http.port = hp->second;
  }
  if (!args.store.empty()) cfg.store_backend = args.store;
  if (!args.data_dir.empty()) cfg.data_dir = args.data_dir;
  if (!args.durability.empty()) cfg.durability = args.durability;
  eventfeed::server::config_source reload;
  if (!args.config_path.empty())
    reload = [path = args.config_path] { return eventfeed::server::load_config(path); };
  return eventfeed::server::serve(std::move(cfg), std::move(reload));
}

// ---- shared by publish and tail ----------------------------------------------------------------

struct remote_args {
  // --url, repeatable: `tail` fails over between them; `publish` and `demo` use the first.
  std::vector<std::string> urls = {"http://127.0.0.1:8080"};
  std::string key;
  const std::string& url() const { return urls.front(); }
};

int exit_code_for(const eventfeed::error& e) {
  switch (e.kind) {
    case eventfeed::error_kind::invalid_argument:
      return exit_usage;
    case eventfeed::error_kind::cancelled:
      return exit_ok;
    default:
      return exit_failed;
  }
}

int fail(const char* command, const eventfeed::error& e) {
  std::fprintf(stderr, "eventfeed: %s: %s\n", command, e.to_string().c_str());
  return exit_code_for(e);
}

// Writes `text` to stdout and flushes; false when stdout is gone (a closed pipe, a full disk).
bool emit(const std::string& text) {
  if (!text.empty() && std::fwrite(text.data(), 1, text.size(), stdout) != text.size())
    return false;
  return std::fflush(stdout) == 0;
}

std::string published_line(const eventfeed::published& p) {
  return R"({"first":)" + std::to_string(p.first) + R"(,"last":)" + std::to_string(p.last) + "}\n";
}

// ---- publish -----------------------------------------------------------------------------------

struct publish_args {
  std::string stream;
  std::string type;
  std::string data = "{}";  // "-": NDJSON on stdin
};

int run_publish(const remote_args& remote, const publish_args& args) {
  eventfeed::client c({.url = remote.url(), .key = remote.key});
  if (args.data != "-") {
    auto done = c.publish(args.stream, args.type, args.data);
    if (!done) return fail("publish", done.err());
    if (!emit(published_line(*done))) return exit_failed;
    return exit_ok;
  }

  if (::isatty(STDIN_FILENO))
    std::fprintf(stderr, "eventfeed: publish: reading one JSON object per line (Ctrl-D ends)\n");
  eventfeed::detail::fd_line_source in(STDIN_FILENO);
  bool output_ok = true;
  const auto outcome = eventfeed::detail::publish_ndjson(
      in, args.type, {},
      [&](const std::vector<eventfeed::new_event>& batch) {
        return c.publish_batch(args.stream, batch);
      },
      [&](const eventfeed::published& p) { output_ok = emit(published_line(p)) && output_ok; });
  if (outcome.failure) {
    const auto& e = *outcome.failure;
    const bool bad_line = e.code == "invalid_json" || e.code == "io";
    std::fprintf(stderr, "eventfeed: publish: %s%s (%zu event%s published before it)\n",
                 bad_line ? "stdin " : "", e.to_string().c_str(), outcome.events,
                 outcome.events == 1 ? "" : "s");
    return exit_code_for(e) == exit_ok ? exit_failed : exit_code_for(e);
  }
  return output_ok ? exit_ok : exit_failed;
}

// ---- tail --------------------------------------------------------------------------------------

// SIGINT and SIGTERM, taken out of the process's hands and given to a thread of their own, which
// calls `on_stop` (client::cancel, or a stop request) on the first one and ends the process at
// once on a second.
// Construct it before any other thread starts: the threads inherit the blocked signal mask.
class stop_signals {
 public:
  explicit stop_signals(std::function<void()> on_stop) : on_stop_(std::move(on_stop)) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this] { wait_loop(); });
  }
  ~stop_signals() {
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    pthread_kill(thread_.native_handle(), SIGTERM);  // wakes sigwait; blocked, so never fatal
    thread_.join();
  }
  stop_signals(const stop_signals&) = delete;
  stop_signals& operator=(const stop_signals&) = delete;

  bool stopped() {
    std::lock_guard lock(mutex_);
    return stopped_;
  }

  // Sleeps for `d`; true when a signal came first.
  bool sleep_for(milliseconds d) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, d, [this] { return stopped_; });
  }

 private:
  void wait_loop() {
    for (;;) {
      int sig = 0;
      if (sigwait(&set_, &sig) != 0) continue;
      std::unique_lock lock(mutex_);
      if (closing_) return;
      if (stopped_) std::_Exit(128 + sig);  // a second Ctrl-C: the user means it
      stopped_ = true;
      lock.unlock();
      cv_.notify_all();
      on_stop_();
    }
  }

  std::function<void()> on_stop_;
  sigset_t set_{};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopped_ = false;
  bool closing_ = false;
  std::thread thread_;
};

struct tail_args {
  std::vector<std::string> streams;
  std::string after = "now";
  bool after_given = false;  // --after on the command line (starts a missing --cursor-file)
  std::string cursor_file;
  std::vector<std::string> types;
  std::size_t limit = 0;  // per poll; 0: the server's default
  std::size_t count = 0;  // stop after this many events; 0: never
  double timeout_s = 30;  // long-poll hold
};

// What the handler throws when stdout is gone: the loop ends, the cursor before that event.
struct output_closed {};

int run_tail(const remote_args& remote, const tail_args& args) {
  std::stop_source stop;
  stop_signals signals([&stop] { stop.request_stop(); });

  eventfeed::follow_options o;
  o.urls = remote.urls;
  o.key = remote.key;
  o.from = args.after;
  o.types = args.types;
  o.limit = args.limit;
  o.poll_timeout = milliseconds(static_cast<std::int64_t>(args.timeout_s * 1000.0));
  o.cursor_file = args.cursor_file;
  o.start_if_missing = args.after_given;
  o.retry = {.initial = milliseconds(500), .cap = milliseconds(8000)};
  const bool several = remote.urls.size() > 1;
  o.on_retry = [several](const eventfeed::retry_notice& n) {
    std::fprintf(stderr, "eventfeed: tail: %s; retrying%s%s in %s s\n", n.err.to_string().c_str(),
                 several ? " " : "", several ? n.url.c_str() : "",
                 eventfeed::detail::format_seconds(n.delay).c_str());
  };

  std::size_t printed = 0;
  const bool several_streams = args.streams.size() > 1;
  std::string stream_list;
  for (const auto& s : args.streams) stream_list += (stream_list.empty() ? "" : ",") + s;
  auto handler = [&](const eventfeed::delivery& d) {
    if (d.gap) {
      std::fprintf(stderr,
                   "eventfeed: warning: gap in stream%s '%s': events after position %llu were "
                   "removed by retention before they were read\n",
                   several_streams ? "s" : "", stream_list.c_str(),
                   static_cast<unsigned long long>(d.gap_after));
      return;
    }
    if (!emit(eventfeed::to_json(d.ev, several_streams) + "\n")) throw output_closed{};
    if (args.count != 0 && ++printed == args.count) stop.request_stop();
  };
  try {
    auto end = eventfeed::call_on_each_event(args.streams, handler, o, stop.get_token());
    if (!end && end.err().code == "cursor_file_missing") {
      std::fprintf(stderr,
                   "eventfeed: tail: cursor file '%s' does not exist; pass --after (now, 0 or a "
                   "position) to start a new one there\n",
                   args.cursor_file.c_str());
      return exit_usage;
    }
    if (!end) return fail("tail", end.err());
    return exit_ok;
  } catch (const output_closed&) {
    return exit_failed;
  }
}

// ---- demo --------------------------------------------------------------------------------------

struct demo_args {
  std::string stream = "cb:alice";
  std::string broadcaster = "alice";
  double interval_s = 1.0;  // mean time between events
  std::size_t count = 0;    // stop after this many events; 0: until Ctrl-C
  std::uint64_t seed = 0;   // 0: a different show every run
};

// The key `demo` uses when neither --key nor EVENTFEED_KEY gives one: the publisher key of
// examples/demo.toml, so that `make run` and then `eventfeed demo` work as they are.
constexpr const char* demo_key = "demo-publisher-key";

int run_demo(const remote_args& remote, const demo_args& args) {
  eventfeed::client c({.url = remote.url(), .key = remote.key.empty() ? demo_key : remote.key});
  stop_signals signals([&c] { c.cancel(); });
  const std::uint64_t seed = args.seed ? args.seed : std::random_device{}();
  eventfeed::cli::demo_room room(args.broadcaster, seed);
  std::mt19937_64 pace(seed ^ 0x5eed);
  // Intervals between half and one and a half times the mean: lively, but readable.
  std::uniform_real_distribution<double> jitter(0.5, 1.5);
  std::fprintf(stderr,
               "eventfeed: demo: publishing a made-up show of '%s' to %s at %s, about one event "
               "every %.1f s; Ctrl-C ends it\n",
               args.broadcaster.c_str(), args.stream.c_str(), remote.url().c_str(),
               args.interval_s);
  auto publish = [&](const eventfeed::cli::demo_event& e) {
    auto done = c.publish(args.stream, e.method, e.data);
    if (!done) return fail("demo", done.err());
    return emit("[" + e.method + "] " + e.line + "\n") ? exit_ok : exit_failed;
  };
  if (int rc = publish(room.start()); rc != exit_ok) return rc;
  for (std::size_t n = 0; args.count == 0 || n < args.count; ++n) {
    const auto wait =
        milliseconds(static_cast<std::int64_t>(args.interval_s * 1000 * jitter(pace)));
    if (signals.sleep_for(wait)) break;
    if (int rc = publish(room.next()); rc != exit_ok) return signals.stopped() ? exit_ok : rc;
  }
  // The show ends properly, also on Ctrl-C (a fresh client: the first was cancelled).
  eventfeed::client closing(
      {.url = remote.url(), .key = remote.key.empty() ? demo_key : remote.key});
  auto e = room.stop();
  if (auto done = closing.publish(args.stream, e.method, e.data); !done)
    return fail("demo", done.err());
  return emit("[" + e.method + "] " + e.line + "\n") ? exit_ok : exit_failed;
}

// ---- arguments ---------------------------------------------------------------------------------

// CLI11 2.1's own range checks print the whole range of a double; these say it plainly.
// ---- admin ------------------------------------------------------------------------------------

struct admin_key_args {
  std::string name;
  std::vector<std::string> read;
  std::vector<std::string> publish;
  std::string id;
};

// The body of POST /v1/admin/keys.
std::string key_body(const admin_key_args& args) {
  boost::json::object body;
  if (!args.name.empty()) body["name"] = args.name;
  boost::json::array read(args.read.begin(), args.read.end());
  boost::json::array publish(args.publish.begin(), args.publish.end());
  body["read"] = std::move(read);
  body["publish"] = std::move(publish);
  return boost::json::serialize(body);
}

// One admin call; prints the server's answer as one line.
int run_admin(const remote_args& remote, std::string_view method, const std::string& target,
              const std::string& body = {}) {
  eventfeed::client c({.url = remote.url(), .key = remote.key});
  auto answer = c.call(method, target, body);
  if (!answer) return fail("admin", answer.err());
  return emit(*answer + "\n") ? exit_ok : exit_failed;
}

const CLI::Validator positive_integer(
    [](std::string& text) -> std::string {
      const bool digits =
          !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
      if (!digits || text.find_first_not_of('0') == std::string::npos)
        return "must be a positive integer, got '" + text + "'";
      return {};
    },
    "N");

const CLI::Validator poll_seconds(
    [](std::string& text) -> std::string {
      double seconds = -1;
      try {
        std::size_t used = 0;
        seconds = std::stod(text, &used);
        if (used != text.size()) seconds = -1;
      } catch (const std::exception&) {
      }
      if (!(seconds >= 0 && seconds <= 90)) return "must be 0 to 90 seconds, got '" + text + "'";
      return {};
    },
    "SECONDS");

constexpr const char* main_description =
    "eventfeed delivers events to HTTP clients by long-polling. `serve` runs the server. "
    "`publish` appends events to a stream of a running server and `tail` follows a stream, "
    "printing its events as JSON lines; `demo` plays a made-up broadcast room into a stream; "
    "`admin` manages the keys the server keeps in its store (with an admin key). "
    "They speak the native HTTP API at --url with --key (or EVENTFEED_URL and EVENTFEED_KEY).";

constexpr const char* main_footer = R"(
Examples:
  eventfeed serve -c examples/demo.toml
  export EVENTFEED_KEY=demo-publisher-key
  eventfeed tail room:alice                         # new events, one JSON line each; Ctrl-C ends
  eventfeed publish room:alice tip '{"amount":5}'   # prints {"first":P,"last":P}
  eventfeed tail room:alice --after 0 --types tip   # the whole retained stream, tips only
  jq -c '.[]' tips.json | eventfeed publish room:alice tip -   # one event per line of stdin
  eventfeed demo                                    # a lively room in cb:alice (demo config)
  eventfeed admin key add --read 'room:*' --key ADMIN_KEY   # a stored key, its secret shown once

Exit status: 0 success, 1 server or connection error, 2 usage error.)";

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{main_description, "eventfeed"};
  cli.footer(main_footer);
  cli.set_version_flag("--version", std::string("eventfeed ") + EVENTFEED_VERSION,
                       "Print the version and exit");
  cli.require_subcommand(1);
  cli.fallthrough();  // --url/--key also after the subcommand

  remote_args remote;
  cli.add_option("--url", remote.urls,
                 "Server base URL, http://host[:port][/prefix]; repeat it to give tail servers "
                 "to fail over to (publish and demo use the first)")
      ->envname("EVENTFEED_URL")
      ->capture_default_str();
  cli.add_option("--key", remote.key, "API key, sent as 'Authorization: Bearer <key>'")
      ->envname("EVENTFEED_KEY");

  serve_args serve;
  auto* serve_cmd = cli.add_subcommand("serve", "Run the server");
  serve_cmd->footer(
      "\nExamples:\n  eventfeed serve -c examples/demo.toml --listen 127.0.0.1:8080\n"
      "  eventfeed serve -c examples/demo.toml --data-dir /var/lib/eventfeed --durability full\n"
      "  eventfeed serve -c examples/demo.toml --store memory");
  serve_cmd->add_option("--config,-c", serve.config_path, "TOML config file");
  serve_cmd->add_option("--listen", serve.listen, "Address to listen on, host:port");
  serve_cmd
      ->add_option("--store", serve.store,
                   "Store backend: sqlite (durable, the default) or memory (nothing "
                   "survives a restart); overrides store.backend")
      ->check(CLI::IsMember(store_backends));
  serve_cmd->add_option("--data-dir", serve.data_dir,
                        "Where the sqlite store keeps its files (default ./data; overrides "
                        "store.data_dir)");
  serve_cmd
      ->add_option("--durability", serve.durability,
                   "sqlite: normal (survives a process crash) or full (fsync at every commit, "
                   "survives power loss); overrides store.durability")
      ->check(CLI::IsMember({"normal", "full"}));

  publish_args publish;
  auto* publish_cmd = cli.add_subcommand(
      "publish",
      "Publish an event to STREAM, or one event per line of stdin when JSON is '-'. Prints "
      "{\"first\":P,\"last\":Q} per request.");
  publish_cmd->footer(R"(
Examples:
  eventfeed publish room:alice tip '{"amount":5}'
  eventfeed publish user:42 logout
  printf '%s\n' '{"n":1}' '{"n":2}' | eventfeed publish room:alice count -

--url and --key (or EVENTFEED_URL, EVENTFEED_KEY) may also be given here; see eventfeed --help.)");
  publish_cmd->add_option("STREAM", publish.stream, "Stream name, [A-Za-z0-9{}:._-]{1,200}")
      ->required();
  publish_cmd->add_option("TYPE", publish.type, "Event type")->required();
  publish_cmd->add_option("JSON", publish.data,
                          "Event data, a JSON object (default {}); '-' reads NDJSON from stdin, "
                          "sent in batches of up to 1000");

  tail_args tail;
  auto* tail_cmd =
      cli.add_subcommand("tail",
                         "Follow STREAM by long-polling, printing each event as one JSON line "
                         "{\"position\",\"time\",\"type\",\"data\"}; several streams sharing a "
                         "{tag} are followed together with one cursor, each line then starting "
                         "with \"stream\". Ctrl-C ends it (exit 0).");
  tail_cmd->footer(R"(
Examples:
  eventfeed tail room:alice
  eventfeed tail room:alice --after 0 --count 10    # the first 10 retained events, then exit
  eventfeed tail '{acme}user:42' --types tip,join
  eventfeed tail '{acme}user:42' '{acme}public'    # two streams of one {tag}, merged in order
  eventfeed tail room:alice --cursor-file alice.cursor --after now   # first run: starts the file
  eventfeed tail room:alice --cursor-file alice.cursor               # later runs resume from it
  eventfeed tail room:alice --url http://10.0.0.1:8080 --url http://10.0.0.2:8080  # failover

--url and --key (or EVENTFEED_URL, EVENTFEED_KEY) may also be given here; see eventfeed --help.)");
  tail_cmd
      ->add_option("STREAM", tail.streams,
                   "Stream name; several (up to 50) when they share a {tag}, e.g. "
                   "'{acme}user:42' '{acme}public'")
      ->required();
  auto* after_opt =
      tail_cmd
          ->add_option("--after", tail.after,
                       "Start after this position, or 'now' for new events only; with "
                       "--cursor-file, only when the file does not exist yet")
          ->capture_default_str();
  tail_cmd->add_option("--cursor-file", tail.cursor_file,
                       "Keep the cursor in this file (rewritten after each event printed) and "
                       "resume from it; a missing file is an error unless --after is given");
  tail_cmd->add_option("--types", tail.types, "Only these event types, comma-separated")
      ->delimiter(',');
  tail_cmd->add_option("--limit", tail.limit, "At most N events per poll request")
      ->check(positive_integer);
  tail_cmd->add_option("--count", tail.count, "Exit after printing N events")
      ->check(positive_integer);
  tail_cmd->add_option("--timeout", tail.timeout_s, "Seconds the server may hold each poll")
      ->check(poll_seconds)
      ->capture_default_str();

  demo_args demo;
  auto* demo_cmd = cli.add_subcommand(
      "demo",
      "Play a made-up, lively broadcast room into a stream (--stream) through the native API: "
      "people enter "
      "and leave, chat, tip, follow, join the fan club, buy media; one line per event on "
      "stdout. Each event is one of the Chaturbate feed's methods, so a room configured on the "
      "stream serves it at /events/<username>/<token>/. Ctrl-C ends the show (exit 0).");
  demo_cmd->footer(R"(
With `make run` serving examples/demo.toml, in another shell:
  ./build/release/src/eventfeed demo
  curl -s 'http://127.0.0.1:8080/events/alice/demo-token-for-alice-000/?timeout=10'
  (then load the "nextUrl" of each answer to follow the room)

The key is --key or EVENTFEED_KEY, else demo.toml's publisher key (demo-publisher-key).)");
  demo_cmd->add_option("--stream", demo.stream, "Stream to publish to")->capture_default_str();
  demo_cmd->add_option("--broadcaster", demo.broadcaster, "The room's broadcaster (username)")
      ->capture_default_str();
  demo_cmd
      ->add_option("--interval", demo.interval_s, "Mean seconds between two events (0.05 to 60)")
      ->check(CLI::Range(0.05, 60.0))
      ->capture_default_str();
  demo_cmd->add_option("--count", demo.count, "Stop after N events (default: until Ctrl-C)")
      ->check(positive_integer);
  demo_cmd->add_option("--seed", demo.seed, "Play the same show again (any number but 0)");

  admin_key_args admin_key;
  auto* admin_cmd = cli.add_subcommand(
      "admin",
      "Manage the credentials a running server keeps in its store (the admin API, "
      "docs/api/admin.md). --key must be a [[keys]] entry with admin = true.");
  admin_cmd->require_subcommand(1);
  auto* admin_key_cmd = admin_cmd->add_subcommand(
      "key", "Native API keys: the server generates each secret and shows it once");
  admin_key_cmd->require_subcommand(1);
  admin_key_cmd->footer(R"(
Examples:
  export EVENTFEED_KEY=my-admin-key
  eventfeed admin key add --name alice --read 'room:*' --publish room:alice
  eventfeed admin key list
  eventfeed admin key rotate c1f0...        # a new secret; the old one is refused at once
  eventfeed admin key revoke c1f0...        # refused at once; its parked polls answered 401)");
  auto* key_add = admin_key_cmd->add_subcommand(
      "add", "Create a key; prints it with its secret (the only time the secret is shown)");
  key_add->add_option("--name", admin_key.name, "A label for logs and lists (default: its id)");
  key_add->add_option("--read", admin_key.read, "Stream pattern it may read (repeatable)");
  key_add->add_option("--publish", admin_key.publish,
                      "Stream pattern it may publish to (repeatable)");
  auto* key_list = admin_key_cmd->add_subcommand("list", "List the stored keys (no secrets)");
  auto* key_show = admin_key_cmd->add_subcommand("show", "Show one stored key (no secret)");
  auto* key_rotate = admin_key_cmd->add_subcommand(
      "rotate", "Give a key a new secret (printed once); the old one is refused at once");
  auto* key_revoke = admin_key_cmd->add_subcommand(
      "revoke", "Delete a key: refused at once, polls parked with it answered 401");
  for (auto* sub : {key_show, key_rotate, key_revoke})
    sub->add_option("ID", admin_key.id, "The key's id (from add or list)")->required();

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = cli.exit(e);  // prints help, the version, or the error
    return code == 0 ? exit_ok : exit_usage;
  }

  if (serve_cmd->parsed()) return run_serve(serve);
  for (const auto& u : remote.urls) {
    if (auto url = eventfeed::parse_url(u); !url) {
      std::fprintf(stderr, "eventfeed: --url: %s\n", url.err().message.c_str());
      return exit_usage;
    }
  }
  tail.after_given = after_opt->count() > 0;
  if (publish_cmd->parsed()) return run_publish(remote, publish);
  if (demo_cmd->parsed()) return run_demo(remote, demo);
  if (admin_cmd->parsed()) {
    const std::string keys = "/v1/admin/keys";
    if (key_add->parsed()) {
      if (admin_key.read.empty() && admin_key.publish.empty()) {
        std::fprintf(stderr, "eventfeed: admin key add: give it --read and/or --publish\n");
        return exit_usage;
      }
      return run_admin(remote, "POST", keys, key_body(admin_key));
    }
    if (key_list->parsed()) return run_admin(remote, "GET", keys);
    const std::string one = keys + "/" + eventfeed::detail::encode_path_segment(admin_key.id);
    if (key_show->parsed()) return run_admin(remote, "GET", one);
    if (key_rotate->parsed()) return run_admin(remote, "POST", one + "/rotate");
    return run_admin(remote, "DELETE", one);
  }
  return run_tail(remote, tail);
}
