#include "core/errc.hpp"

namespace eventfeed::core {

std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::bad_request:
      return "bad_request";
    case errc::invalid_json:
      return "invalid_json";
    case errc::invalid_stream:
      return "invalid_stream";
    case errc::payload_too_large:
      return "payload_too_large";
    case errc::unauthorized:
      return "unauthorized";
    case errc::forbidden:
      return "forbidden";
    case errc::not_found:
      return "not_found";
    case errc::rate_limited:
      return "rate_limited";
    case errc::unavailable:
      return "unavailable";
    case errc::shutting_down:
      return "shutting_down";
    case errc::internal:
      return "internal";
  }
  return "internal";
}

}  // namespace eventfeed::core
