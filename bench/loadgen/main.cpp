// bench/loadgen/main.cpp: eventfeed-loadgen, the long-poll load generator (docs/benchmarks.md).
// Thin: parses the command line, builds the protocol, runs coordinator.hpp's run_load.
#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>
#include <cstdio>
#include <memory>
#include <optional>

#include "loadgen/coordinator.hpp"
#include "loadgen/chaturbate_protocol.hpp"
#include "loadgen/eventfeed_protocol.hpp"
#include "loadgen/peer_protocols.hpp"
#include "loadgen/publisher.hpp"

namespace bench = eventfeed::bench;

int main(int argc, char** argv) {
  CLI::App cli{
      "eventfeed-loadgen: long-poll fan-out latency, delivery checks, memory per parked poll "
      "and publish throughput/acknowledgement latency, against a server on this machine "
      "(loopback only)"};
  bench::run_options o;
  std::string mode = "fanout", protocol = "eventfeed", host = "127.0.0.1", key;
  unsigned short port = 8080, publish_port = 0, parked_port = 0;
  long long poll_timeout = 60, max_seconds = 180, drain = 10;
  double hold = 0, settle = 10;
  std::vector<int> pids;
  bool no_wait = false;
  bench::publish_options po;
  double duration = 10;
  o.channel_prefix = "lg" + std::to_string(::getpid());

  std::string cursor, fixed_path = "/fixed", room, room_token;
  std::size_t fixed_size = 0, read_limit = 0;
  std::optional<std::uint64_t> expect_seq;
  cli.add_option("--mode", mode,
                 "fanout: latency and exactly-once delivery; idle: hold polls; publish: "
                 "publish throughput and acknowledgement latency; catchup: reads of buffered "
                 "messages from --cursor, closed loop over --publishers connections")
      ->check(CLI::IsMember({"fanout", "idle", "publish", "catchup"}));
  cli.add_option("--protocol", protocol,
                 "server API: eventfeed (native), nchan, pushpin (see peer_protocols.hpp), "
                 "chaturbate (catchup only: eventfeed's Chaturbate-style feed of --room with "
                 "--room-token), fixed (catchup only: GET --fixed-path answered with "
                 "--fixed-size bytes)")
      ->check(CLI::IsMember({"eventfeed", "nchan", "pushpin", "chaturbate", "fixed"}));
  cli.add_option("--cursor", cursor,
                 "catchup: where every read starts (eventfeed: a position; chaturbate: an event "
                 "id <ms>-<n>; nchan: a message id <time>:<tag>)");
  cli.add_option("--expect-seq", expect_seq,
                 "catchup: the stamp sequence number the first message of every answer must "
                 "carry (the message after --cursor)");
  cli.add_option("--limit", read_limit, "eventfeed: events per answer (&limit=N)");
  cli.add_option("--room", room, "chaturbate: the room's username");
  cli.add_option("--room-token", room_token, "chaturbate: a token of the room");
  cli.add_option("--fixed-path", fixed_path, "fixed: the path to GET");
  cli.add_option("--fixed-size", fixed_size, "fixed: the expected body size");
  cli.add_option("--host", host, "server address (loopback only)");
  cli.add_option("--port", port, "server port")->required();
  cli.add_option("--publish-port", publish_port, "publish port (default: --port)");
  cli.add_option("--parked-port", parked_port, "parked-count probe port (default: --port)");
  cli.add_option("--key", key, "bearer key that may publish and read every channel");
  cli.add_option("--subscribers,-n", o.subscribers, "parked polls / subscribers")
      ->check(CLI::Range(1, 200'000));
  auto* channels_opt =
      cli.add_option("--channels,-m", o.channels, "channels (streams); subscriber i polls i % m")
          ->check(CLI::Range(1, 200'000));
  cli.add_option("--messages,-k", o.messages, "fanout: rounds, one message per channel each")
      ->check(CLI::Range(1, 100'000));
  auto* workers_opt = cli.add_option(
      "--workers,-p", o.workers,
      "subscriber processes (0: as few as sockets allow); publish: publisher processes (2)");
  cli.add_option("--max-per-worker", o.max_connections_per_worker,
                 "most connections one worker process holds")
      ->check(CLI::Range(1, 18'000));
  cli.add_option("--publishers,-c", o.publishers,
                 "publisher connections (publish: concurrent publishers, default 64)")
      ->check(CLI::Range(1, 4096));
  cli.add_option("--batch,-b", po.batch, "publish: messages per request")
      ->check(CLI::Range(1, 1000));
  cli.add_option("--rate,-r", po.rate,
                 "publish: open loop at this many requests/s over all publishers, latency "
                 "from each request's due time (default 0: closed loop)")
      ->check(CLI::Range(0.0, 1e7));
  cli.add_option("--duration,-d", duration, "publish: measured window, seconds (0: until --count)")
      ->check(CLI::Range(0.0, 600.0));
  cli.add_option("--count", po.count, "publish: stop after this many requests in all");
  cli.add_option("--connect-lanes", o.connect_lanes, "connects in flight per worker")
      ->check(CLI::Range(1, 1024));
  cli.add_flag("--no-wait-parked", no_wait, "fanout: publish rounds back to back");
  cli.add_option("--poll-timeout", poll_timeout,
                 "server-side hold asked for, seconds (eventfeed, chaturbate; 0: answer at once, "
                 "for catch-up reads; with every protocol the client waits this + 15 s for an "
                 "answer)")
      ->check(CLI::Range(0, 600));
  cli.add_option("--hold", hold, "idle: seconds to hold the parked polls")
      ->check(CLI::Range(0.0, 3600.0));
  cli.add_option("--settle", settle,
                 "idle: most seconds to wait, after closing the polls, for the server to count "
                 "them gone (a server that cannot tell, e.g. Pushpin, makes this a plain wait)")
      ->check(CLI::Range(0.0, 600.0));
  cli.add_option("--drain", drain, "fanout: seconds to wait for deliveries after the last publish")
      ->check(CLI::Range(1, 600));
  cli.add_option("--max-seconds", max_seconds, "bound on the whole run")
      ->check(CLI::Range(1, 3600));
  cli.add_option("--server-pid", pids, "server process(es) to read RSS and CPU time of");
  cli.add_option("--channel-prefix", o.channel_prefix, "channel names are <prefix>_<i>");
  cli.add_flag("--quiet,-q", o.quiet, "print only the JSON line");
  CLI11_PARSE(cli, argc, argv);

  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  if (ec || !address.is_loopback()) {
    std::fprintf(stderr, "eventfeed-loadgen: --host must be a loopback address, not '%s'\n",
                 host.c_str());
    return 2;
  }
  if (o.subscribers * o.messages > 50'000'000) {
    std::fprintf(stderr, "eventfeed-loadgen: subscribers x messages is capped at 50,000,000\n");
    return 2;
  }
  const std::string host_header = host + ":" + std::to_string(port);
  std::unique_ptr<bench::protocol> proto;
  if (protocol == "eventfeed") {
    if (key.empty()) {
      std::fprintf(stderr, "eventfeed-loadgen: --key is required for the eventfeed protocol\n");
      return 2;
    }
    proto = std::make_unique<bench::eventfeed_protocol>(
        host_header, key, std::chrono::seconds(poll_timeout), read_limit);
  } else if (protocol == "nchan") {
    proto = std::make_unique<bench::nchan_protocol>(host_header);
  } else if (protocol == "pushpin") {
    proto = std::make_unique<bench::pushpin_protocol>(host_header);
  } else if (protocol == "chaturbate") {
    if (mode != "catchup" || room.empty() || room_token.empty()) {
      std::fprintf(stderr,
                   "eventfeed-loadgen: the chaturbate protocol is for --mode catchup with --room "
                   "and --room-token\n");
      return 2;
    }
    proto = std::make_unique<bench::chaturbate_protocol>(host_header, room, room_token,
                                                         std::chrono::seconds(poll_timeout));
  } else {
    if (mode != "catchup" || fixed_size == 0) {
      std::fprintf(stderr,
                   "eventfeed-loadgen: the fixed protocol is for --mode catchup with "
                   "--fixed-size\n");
      return 2;
    }
    proto = std::make_unique<bench::fixed_protocol>(host_header, fixed_path, fixed_size);
  }
  if (mode == "publish" || mode == "catchup") {
    po.connections = cli.get_option("--publishers")->count() ? o.publishers : 64;
    po.processes = workers_opt->count() && o.workers > 0 ? o.workers : 2;
    po.channels = channels_opt->count() ? o.channels : 0;
    po.duration = std::chrono::milliseconds(static_cast<long long>(duration * 1000));
    po.max_seconds = std::chrono::seconds(max_seconds);
    for (int p : pids) po.server_pids.push_back(static_cast<pid_t>(p));
    po.endpoint = {address, publish_port ? publish_port : port};
    po.channel_prefix = o.channel_prefix;
    po.quiet = o.quiet;
    try {
      if (mode == "publish") return bench::run_publish(po, *proto);
      // Catch-up: every connection reads channel <prefix>_0 from the same cursor, on the
      // subscribe port, one message expected per answer.
      if (cursor.empty() && protocol != "fixed") {
        std::fprintf(stderr, "eventfeed-loadgen: --mode catchup needs --cursor\n");
        return 2;
      }
      po.channels = 1;
      po.batch = 1;
      po.endpoint = {address, port};
      bench::catchup_protocol reads(*proto, cursor, expect_seq);
      return bench::run_publish(po, reads);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "eventfeed-loadgen: %s\n", e.what());
      return 2;
    }
  }
  o.mode =
      mode == "idle" ? bench::run_options::run_mode::idle : bench::run_options::run_mode::fanout;
  o.wait_parked = !no_wait;
  o.poll_timeout = std::chrono::seconds(poll_timeout);
  o.max_seconds = std::chrono::seconds(max_seconds);
  o.drain = std::chrono::seconds(drain);
  o.hold = std::chrono::milliseconds(static_cast<long long>(hold * 1000));
  o.settle = std::chrono::milliseconds(static_cast<long long>(settle * 1000));
  for (int p : pids) o.server_pids.push_back(static_cast<pid_t>(p));
  o.subscribe_endpoint = {address, port};
  o.publish_endpoint = {address, publish_port ? publish_port : port};
  o.parked_endpoint = {address, parked_port ? parked_port : port};

  try {
    return bench::run_load(o, *proto);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "eventfeed-loadgen: %s\n", e.what());
    return 2;
  }
}
