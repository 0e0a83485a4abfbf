// follow_room_async: follow_room's loop for an Asio program, with co_await. It prints every
// event of a stream after POSITION until Ctrl-C.
//
//   follow_room_async STREAM URL POSITION [--key KEY]
//
// The same loop as call_on_each_event (one implementation in the library), run as a coroutine
// on this program's io_context; eventfeed/follow_async.hpp is the one header that needs Asio.
#include <eventfeed/follow_async.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <stop_token>
#include <string>

namespace net = boost::asio;

net::awaitable<void> follow(std::string stream, eventfeed::follow_options options,
                            std::stop_token stop) {
  auto end = co_await eventfeed::async_call_on_each_event(
      co_await net::this_coro::executor, stream,
      [](const eventfeed::delivery& d) {
        if (!d.gap) std::printf("%s\n", eventfeed::to_json(d.ev).c_str());
      },
      options, stop, net::use_awaitable);
  if (!end) std::fprintf(stderr, "follow_room_async: %s\n", end.err().to_string().c_str());
}

int main(int argc, char** argv) {
  if (argc != 4 && argc != 6) {
    std::fprintf(stderr, "usage: follow_room_async STREAM URL POSITION [--key KEY]\n");
    return 2;
  }
  eventfeed::follow_options options;
  options.urls = {argv[2]};
  options.from = argv[3];
  if (argc == 6) options.key = argv[5];

  net::io_context ioc;
  std::stop_source stop;
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) { stop.request_stop(); });
  net::co_spawn(ioc, follow(argv[1], options, stop.get_token()), [&](std::exception_ptr e) {
    signals.cancel();
    if (e) std::rethrow_exception(e);
  });
  ioc.run();
  return 0;
}
