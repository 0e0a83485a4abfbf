// client/wire.hpp: the native API's bodies, both ways, without any I/O: the publish bodies the
// client sends, and the answers it reads (events with their `data` kept byte for byte, stream
// info, health, and the `{"error":{"code","message"}}` body of a failed call).
//
// Answers are parsed in two passes. Boost.JSON first checks that the whole body is well-formed
// JSON; then json_scanner walks the same text and hands out the exact span of each value, so an
// event's `data` reaches the caller as the server rendered it (Boost.JSON would re-serialise
// 5.5 as 5.5E0), and nothing is copied into a DOM and back.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventfeed/client.hpp"

namespace eventfeed::detail {

// Walks JSON text that is known to be well-formed. Each call skips leading whitespace.
class json_scanner {
 public:
  explicit json_scanner(std::string_view text) : text_(text) {}

  // Consumes '{' or '['; false (consuming nothing) when the next value is something else.
  bool enter_object();
  bool enter_array();
  // In an object: the next member's key, decoded, consuming it and its ':'; nullopt after
  // consuming the closing '}'.
  std::optional<std::string> next_key();
  // In an array: true when another element follows (consuming a ',' before it); false after
  // consuming the closing ']'.
  bool next_element();
  // The exact text of the next value, which is consumed.
  std::string_view value();

 private:
  void skip_ws() noexcept;
  std::string_view text_;
  std::size_t pos_ = 0;
};

// The body of POST /v1/streams/{s}/events for `events` (1 or more; one event is sent in the
// {"type","data"} form). Fails with invalid_argument/"invalid_json" when a `data` is not a JSON
// object, naming its index in a batch.
result<std::string> stream_publish_body(const std::vector<new_event>& events);

// The body of POST /v1/events.
result<std::string> multi_publish_body(const std::vector<stream_event>& events);

// Checks that `data` is one JSON object (whitespace around it allowed). Else says what it is, to
// follow "... is": "not valid JSON (syntax error)", "an array, not a JSON object".
std::optional<std::string> check_data_object(std::string_view data);

// Answers of successful calls. Failures are error_kind::protocol, code "bad_response".
result<published> parse_published(std::string_view body);
result<std::vector<position>> parse_positions(std::string_view body);
// The answer of a poll of `streams`: each event's `stream` is the one stream polled, or, for
// several, the one the answer names (which must be one of them).
result<poll_result> parse_poll(std::string_view body, const stream_set& streams);
result<stream_info> parse_stream_info(std::string_view body);
result<server_health> parse_health(std::string_view body);

// The error of an answer with status `status` (not 2xx): kind server with the body's code and
// message; when the body is not the API's error shape (a proxy's HTML page), the code is
// "http_<status>" and the message the reason phrase and the start of the body.
error error_from_answer(int status, std::string_view reason, std::string_view body);

}  // namespace eventfeed::detail
