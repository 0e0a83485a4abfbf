#include "api/common/errors.hpp"

namespace eventfeed::api::common {

void add_headers(http::response& res, const header_list& headers) {
  for (const auto& [name, value] : headers) res.set(name, value);
}

error_table error_table::base() {
  using core::errc;
  error_table t;
  auto row = [&t](errc code, bhttp::status status) {
    t[code] = error_shape{status, std::string(core::to_string(code)), {}};
  };
  row(errc::bad_request, bhttp::status::bad_request);
  row(errc::invalid_json, bhttp::status::bad_request);
  row(errc::invalid_stream, bhttp::status::bad_request);
  row(errc::payload_too_large, bhttp::status::payload_too_large);
  row(errc::unauthorized, bhttp::status::unauthorized);
  row(errc::forbidden, bhttp::status::forbidden);
  row(errc::not_found, bhttp::status::not_found);
  row(errc::rate_limited, bhttp::status::too_many_requests);
  row(errc::unavailable, bhttp::status::service_unavailable);
  row(errc::shutting_down, bhttp::status::service_unavailable);
  row(errc::internal, bhttp::status::internal_server_error);
  return t;
}

http::response render_error(const http::request_context& ctx, const error_shape& shape,
                            std::string_view message, std::chrono::milliseconds retry_after) {
  auto res = ctx.error(shape.status, shape.code, message, retry_after);
  add_headers(res, shape.headers);
  return res;
}

http::response error_table::render(const http::request_context& ctx, const core::error& err) const {
  return render_error(ctx, (*this)[err.code], err.message);
}

}  // namespace eventfeed::api::common
