// http/server_options.hpp: limits and timeouts of the HTTP layer (see connection.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace eventfeed::http {

struct server_options {
  std::string address = "127.0.0.1";
  unsigned short port = 8080;  // 0: pick a free port (see server::port())
  unsigned threads = 0;        // 0: one per core
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds idle_timeout{60'000};  // to receive a request's headers (keep-alive)
  std::chrono::milliseconds read_timeout{30'000};  // to receive a request body
  std::chrono::milliseconds write_timeout{30'000};
  bool access_log = true;
  std::string server_header = "eventfeed";
};

}  // namespace eventfeed::http
