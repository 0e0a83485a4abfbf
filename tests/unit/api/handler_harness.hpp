// tests/unit/api/handler_harness.hpp: calls a router's handlers the way a connection does, but
// with no connection: a request_context without connection_io, on a plain io_context that the
// test polls step by step. A dialect's handlers are tested through it without a socket.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "http/connection.hpp"
#include "http/request_context.hpp"
#include "http/router.hpp"

namespace eventfeed::api::testing {

namespace bhttp = http::bhttp;
namespace net = boost::asio;

// One request being handled. `answer` is set once the handler has replied (or routing answered).
struct pending_call {
  std::string id;  // the request's id, which the context views
  std::unique_ptr<http::request> req;
  std::unique_ptr<http::response> answer;
  std::unique_ptr<http::request_context> ctx;
  bool done = false;
  std::exception_ptr failure;
};

class handler_harness {
 public:
  explicit handler_harness(const http::router& routes) : routes_(routes) {}

  // Routes and starts the request; the handler runs as far as it can when the test polls.
  std::shared_ptr<pending_call> start(bhttp::verb method, std::string target,
                                      std::vector<std::pair<std::string, std::string>> headers = {},
                                      std::string body = {}) {
    auto call = std::make_shared<pending_call>();
    call->req = std::make_unique<http::request>(method, target, 11);
    for (auto& [name, value] : headers) call->req->set(name, value);
    call->req->body() = std::move(body);
    call->req->prepare_payload();
    http::route_params params;
    const std::string id = "test-" + std::to_string(next_id_++);
    const http::handler* h = http::detail::route(routes_, *call->req, params, call->answer, id);
    if (!h) {
      call->done = true;
      return call;
    }
    call->id = id;
    call->ctx = std::make_unique<http::request_context>(call->req, std::move(params), call->id,
                                                        routes_, nullptr, call->answer);
    net::co_spawn(io, (*h)(*call->ctx), [call](std::exception_ptr e) {
      call->failure = e;
      call->done = true;
    });
    poll();
    return call;
  }

  // Runs whatever is ready, without blocking.
  void poll() {
    io.poll();
    io.restart();
  }

  // Polls until `call` is done or `bound` of real time has passed (a test that waits on a
  // publish from another thread); the handler itself never sleeps.
  bool finish(const std::shared_ptr<pending_call>& call,
              std::chrono::milliseconds bound = std::chrono::milliseconds(2000)) {
    const auto until = std::chrono::steady_clock::now() + bound;
    while (!call->done && std::chrono::steady_clock::now() < until) {
      io.run_one_for(std::chrono::milliseconds(10));
      io.restart();
    }
    if (call->failure) std::rethrow_exception(call->failure);
    return call->done;
  }

  // Starts the request and returns its answer (failing the test if there is none).
  http::response call(bhttp::verb method, std::string target,
                      std::vector<std::pair<std::string, std::string>> headers = {},
                      std::string body = {}) {
    auto c = start(method, std::move(target), std::move(headers), std::move(body));
    EXPECT_TRUE(finish(c)) << "the handler did not answer";
    EXPECT_NE(c->answer, nullptr) << "the handler ended without a reply";
    return c->answer ? *c->answer : http::response{};
  }

  net::io_context io{1};

 private:
  const http::router& routes_;
  std::uint64_t next_id_ = 0;
};

inline std::string header(const http::response& res, std::string_view name) {
  auto it = res.find(name);
  return it == res.end() ? std::string() : std::string(it->value());
}

}  // namespace eventfeed::api::testing
