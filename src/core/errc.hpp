// core/errc.hpp: protocol-neutral error codes and the result<T> carrier used between layers.
//
// Every layer below the dialects reports failure as a value: an `errc` plus a human message.
// Each dialect maps `errc` to its own HTTP status and error body; nothing below `api/` knows
// what a status code is. Exceptions are reserved for start-up (config, files, ports).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace eventfeed::core {

enum class errc {
  bad_request,        // a parameter is missing or has the wrong shape
  invalid_json,       // a body that is not JSON, or not the JSON object expected
  invalid_stream,     // a stream name outside [A-Za-z0-9{}:._-]{1,200}
  payload_too_large,  // body or batch over its limit
  unauthorized,       // no credential, or one we do not know
  forbidden,          // a known credential without the right for this stream
  not_found,          // no such route, stream or queue
  rate_limited,       // the caller spent its request budget for the current window
  unavailable,        // the store cannot accept writes right now (disk full, I/O error)
  shutting_down,      // the server is stopping; retry elsewhere
  internal,           // a bug or an unexpected library failure
};

// How many codes there are (tables indexed by errc are this long); `internal` stays the last.
inline constexpr std::size_t errc_count = static_cast<std::size_t>(errc::internal) + 1;

// Short stable name of a code, used in logs and in the native API's error bodies.
std::string_view to_string(errc code) noexcept;

struct error {
  errc code;
  std::string message;
};

// A value or an error. Deliberately tiny: C++20 has no std::expected yet.
template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  result(error err) : v_(std::in_place_index<1>, std::move(err)) {}  // NOLINT
  result(errc code, std::string message)
      : v_(std::in_place_index<1>, error{code, std::move(message)}) {}

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const error& err() const& { return std::get<1>(v_); }
  error&& err() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, error> v_;
};

}  // namespace eventfeed::core
