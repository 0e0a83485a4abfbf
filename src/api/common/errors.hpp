// api/common/errors.hpp: how a dialect answers a failure.
//
// Below `api/`, a failure is a `core::error` (an `errc` and a message). A dialect turns it into
// an HTTP answer through an error table: for each `errc`, the status, the machine code its
// clients key on, and any headers that go with it (`WWW-Authenticate` on a 401). `base()` is
// the table every dialect starts from; a dialect overrides the rows where its API differs
// (Zulip's codes are upper case, Box answers 429 as `rate_limit_exceeded`). The body's shape is
// the error renderer the dialect registered for its path prefix (http/router.hpp), so a table
// only says *what* to answer, never how to spell it.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/errc.hpp"
#include "http/request_context.hpp"

namespace eventfeed::api::common {

namespace bhttp = http::bhttp;

// Header fields added to an answer, by name (not all are in Beast's field enum).
using header_list = std::vector<std::pair<std::string, std::string>>;

void add_headers(http::response& res, const header_list& headers);

// One kind of error answer: status, machine code, extra headers.
struct error_shape {
  bhttp::status status = bhttp::status::internal_server_error;
  std::string code;
  header_list headers;
};

class error_table {
 public:
  // The common mapping, codes as `core::to_string` spells them:
  //   bad_request, invalid_json, invalid_stream -> 400; payload_too_large -> 413;
  //   unauthorized -> 401; forbidden -> 403; not_found -> 404; rate_limited -> 429;
  //   unavailable, shutting_down -> 503; internal -> 500.
  static error_table base();

  error_shape& operator[](core::errc code) noexcept { return rows_[index(code)]; }
  const error_shape& operator[](core::errc code) const noexcept { return rows_[index(code)]; }

  // The answer for `err` (its row, its message), in the shape of the API owning the path.
  http::response render(const http::request_context& ctx, const core::error& err) const;

 private:
  static std::size_t index(core::errc code) noexcept { return static_cast<std::size_t>(code); }
  std::array<error_shape, core::errc_count> rows_;
};

// An answer of `shape` with `message`, in the shape of the API owning the path; `retry_after`
// for a refusal the caller may try again after (a spent rate budget).
http::response render_error(const http::request_context& ctx, const error_shape& shape,
                            std::string_view message, std::chrono::milliseconds retry_after = {});

}  // namespace eventfeed::api::common
