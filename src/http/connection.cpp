#include "http/connection.hpp"

#include <cstdio>

namespace eventfeed::http {

std::string connection_shared::make_request_id() {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s-%llx", id_prefix.c_str(),
                static_cast<unsigned long long>(next_id.fetch_add(1, std::memory_order_relaxed)));
  return buf;
}

namespace detail {

std::optional<read_failure> classify_read_error(beast::error_code ec, const server_options& o) {
  if (ec == bhttp::error::header_limit)
    return read_failure{
        bhttp::status::request_header_fields_too_large, "headers_too_large",
        "request header block is larger than " + std::to_string(o.max_header_bytes) + " bytes"};
  if (ec == bhttp::error::body_limit)
    return read_failure{
        bhttp::status::payload_too_large, "payload_too_large",
        "request body is larger than " + std::to_string(o.max_body_bytes) + " bytes"};
  // Any other HTTP parse error is the client's malformed request; a connection closed or reset
  // mid-request (end_of_stream, partial_message, socket errors, timeouts) has nobody to answer.
  if (ec.category() == beast::error_code(bhttp::error::header_limit).category() &&
      ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message)
    return read_failure{bhttp::status::bad_request, "malformed_http",
                        "request is not valid HTTP/1.1: " + ec.message()};
  return std::nullopt;
}

void finish_headers(response& res, unsigned version, bool keep_alive, std::string_view id,
                    const server_options& o) {
  res.version(version);
  res.keep_alive(keep_alive);
  res.set(bhttp::field::server, o.server_header);
  res.set("X-Request-Id", id);
  if (res.find(bhttp::field::cache_control) == res.end())
    res.set(bhttp::field::cache_control, "no-store");
  res.prepare_payload();
}

net::awaitable<response> run_handler(connection_shared& shared, const request& req,
                                     std::string_view id, connection_io* io) {
  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));
  auto match = shared.routes.find(req.method(), path);
  if (!match.h) {
    if (match.path_known)
      co_return shared.routes.render_error(path, bhttp::status::method_not_allowed,
                                           "method_not_allowed", "method not allowed on this path");
    co_return shared.routes.render_error(path, bhttp::status::not_found, "not_found",
                                         "no such endpoint");
  }
  request_context ctx(req, std::move(match.params), id, shared.routes, io);
  try {
    co_return co_await (*match.h)(ctx);
  } catch (const std::exception& e) {
    spdlog::error("request {} {} failed: {}", id, target, e.what());
  }
  co_return shared.routes.render_error(path, bhttp::status::internal_server_error, "internal",
                                       "internal error");
}

}  // namespace detail
}  // namespace eventfeed::http
