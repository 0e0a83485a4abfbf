// http/router.hpp: maps (method, path) to a handler, with `{name}` captures, and renders errors
// in the shape of the API that owns the path.
//
// Handlers are coroutines on the connection's executor. The http layer knows no events: a
// handler gets the request and its captures, and answers with `ctx.reply(response)`.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eventfeed::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

using request = bhttp::request<bhttp::string_body>;
using response = bhttp::response<bhttp::string_body>;

class request_context;
// A handler answers through `request_context::reply` (written `co_return ctx.reply(...)`); one
// that ends without a reply is answered 500. Why not return the response: every awaitable<T>
// frame reserves room for a T, and the caller keeps the T it gets back as a temporary of its
// own, so a parked long-poll would hold two extra responses (2 x 120 bytes) for its whole wait.
using handler = std::function<net::awaitable<void>(request_context&)>;

// What an error answer says, for the renderer of the API that owns the path to spell out.
struct error_details {
  bhttp::status status = bhttp::status::internal_server_error;
  std::string_view code;        // a stable machine code ("not_found", "BAD_EVENT_QUEUE_ID")
  std::string_view message;     // for people
  std::string_view request_id;  // the X-Request-Id of the answer (Box puts it in the body)
  // When the caller may try again (a spent rate budget); zero when there is nothing to say.
  std::chrono::milliseconds retry_after{0};
};

// Renders an error answer (its body and any header of the API's error shape).
using error_renderer = std::function<response(const error_details& e)>;

// The default error shape: {"error": {"code": "...", "message": "..."}}.
response render_json_error(const error_details& e);

// Builds a response with a JSON body (Content-Type: application/json).
response json_response(bhttp::status status, std::string body);

// Captures of one match, by name; values are percent-decoded.
class route_params {
 public:
  void add(std::string_view name, std::string value) {
    items_.emplace_back(name, std::move(value));
  }
  const std::string* find(std::string_view name) const;
  void reserve(std::size_t n) { items_.reserve(n); }

 private:
  std::vector<std::pair<std::string_view, std::string>> items_;
};

class router {
 public:
  // `pattern` is an absolute path whose segments are literals or `{name}` captures.
  void add(bhttp::verb method, std::string pattern, handler h);
  // Errors for paths starting with `prefix` use `render` (longest prefix wins).
  void set_error_renderer(std::string prefix, error_renderer render);

  struct match {
    const handler* h = nullptr;  // null: no route (see `path_known`)
    route_params params;
    bool path_known = false;  // some route has this path with another method
  };
  match find(bhttp::verb method, std::string_view path) const;

  response render_error(std::string_view path, const error_details& e) const;
  // The renderer owning `path` (null: the default shape), and rendering with one.
  const error_renderer* renderer_for(std::string_view path) const;
  static response render_with(const error_renderer* render, const error_details& e);

 private:
  struct route {
    bhttp::verb method;
    std::vector<std::string> segments;
    handler h;
    std::size_t captures = 0;  // `{name}` segments among `segments`
  };
  std::vector<route> routes_;
  std::vector<std::pair<std::string, error_renderer>> renderers_;
};

}  // namespace eventfeed::http
