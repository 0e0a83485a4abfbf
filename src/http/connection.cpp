#include "http/connection.hpp"

#include <charconv>
#include <cstdio>

namespace eventfeed::http {

std::string connection_shared::make_request_id() {
  // "<prefix>-<hex counter>", built without printf: this runs for every request.
  char digits[17];
  const auto n = next_id.fetch_add(1, std::memory_order_relaxed);
  const char* end = std::to_chars(digits, digits + sizeof digits, n, 16).ptr;
  std::string id;
  id.reserve(id_prefix.size() + 1 + static_cast<std::size_t>(end - digits));
  id.append(id_prefix).append(1, '-').append(std::string_view(digits, end));
  return id;
}

namespace detail {

void log_access(std::string_view id, std::string_view what, const response& res, std::size_t bytes,
                std::chrono::steady_clock::time_point started, beast::error_code write_error) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  spdlog::info("{} {} {} {} {}us{}", id, what, static_cast<unsigned>(res.result_int()), bytes, us,
               write_error ? " write failed: " + write_error.message() : "");
}

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

namespace {
void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}
}  // namespace

void serialize_head(const response& res, unsigned version, bool keep_alive, std::string_view id,
                    const server_options& o, std::string& out) {
  out.clear();
  out.reserve(256);  // enough for our header blocks: one allocation
  const unsigned code = res.result_int();
  out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, code).ptr);
  out.push_back(' ');
  out.append(std::string_view(bhttp::obsolete_reason(res.result())));
  out.append("\r\n");
  bool has_cache_control = false;
  for (const auto& f : res) {
    switch (f.name()) {
      case bhttp::field::connection:
      case bhttp::field::content_length:
      case bhttp::field::transfer_encoding:
      case bhttp::field::server:
        continue;  // ours, below
      case bhttp::field::cache_control:
        has_cache_control = true;
        break;
      default:
        break;
    }
    append_field(out, std::string_view(f.name_string()), std::string_view(f.value()));
  }
  append_field(out, "Server", o.server_header);
  append_field(out, "X-Request-Id", id);
  if (!has_cache_control) append_field(out, "Cache-Control", "no-store");
  // 1xx, 204 and 304 answers have no body and no length (RFC 9110 8.6).
  if (code >= 200 && code != 204 && code != 304) {
    const char* end = std::to_chars(digits, digits + sizeof digits, res.body().size()).ptr;
    append_field(out, "Content-Length", std::string_view(digits, end));
  }
  if (version >= 11 && !keep_alive) append_field(out, "Connection", "close");
  if (version < 11 && keep_alive) append_field(out, "Connection", "keep-alive");
  out.append("\r\n");
}

const handler* route(const router& routes, const request& req, route_params& params,
                     std::unique_ptr<response>& res, std::string_view id) {
  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));
  auto match = routes.find(req.method(), path);
  if (match.h) {
    params = std::move(match.params);
    return match.h;
  }
  res = std::make_unique<response>(
      match.path_known
          ? routes.render_error(path, {bhttp::status::method_not_allowed, "method_not_allowed",
                                       "method not allowed on this path", id})
          : routes.render_error(path,
                                {bhttp::status::not_found, "not_found", "no such endpoint", id}));
  return nullptr;
}

std::string describe(const request& req) {
  std::string out(req.method_string());
  out += ' ';
  out += std::string_view(req.target());
  return out;
}

response handler_failed(const request_context& ctx, std::string_view what,
                        const std::exception& e) {
  spdlog::error("request {} {} failed: {}", ctx.request_id(), what, e.what());
  return ctx.error(bhttp::status::internal_server_error, "internal", "internal error");
}

}  // namespace detail
}  // namespace eventfeed::http
