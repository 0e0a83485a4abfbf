#include "api/native/publish_body.hpp"

#include <boost/json.hpp>

#include "core/json_text.hpp"
#include "core/stream_name.hpp"

namespace eventfeed::api::native {

using core::errc;
using core::error;
using core::new_event;
using core::parse_stream_name;
using core::result;
using core::to_compact_json;

namespace json = boost::json;

namespace {

result<json::value> parse_object_body(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return {errc::invalid_json, "body is not valid JSON: " + ec.message()};
  if (!v.is_object()) return {errc::invalid_json, "body must be a JSON object"};
  return v;
}

// Reads "type" and "data" of one event object; `where` prefixes messages ("events[3]: ").
result<new_event> parse_event_fields(const json::object& obj, std::string where) {
  new_event ev;
  auto* type = obj.if_contains("type");
  if (!type || !type->is_string() || type->get_string().empty())
    return {errc::bad_request, where + "'type' must be a non-empty string"};
  if (type->get_string().size() > max_type_length)
    return {errc::bad_request, where + "'type' is longer than 200 characters"};
  ev.type = std::string(type->get_string());
  if (auto* data = obj.if_contains("data"); data && !data->is_null()) {
    if (!data->is_object()) return {errc::bad_request, where + "'data' must be a JSON object"};
    ev.data = to_compact_json(*data);
  } else {
    ev.data = "{}";
  }
  return ev;
}

result<const json::array*> events_array(const json::object& obj, std::size_t max_batch) {
  auto* events = obj.if_contains("events");
  if (!events || !events->is_array()) return {errc::bad_request, "'events' must be an array"};
  const auto& arr = events->get_array();
  if (arr.empty()) return {errc::bad_request, "'events' must not be empty"};
  if (arr.size() > max_batch)
    return {errc::payload_too_large, "'events' has " + std::to_string(arr.size()) +
                                         " items; at most " + std::to_string(max_batch) +
                                         " are allowed in one publish"};
  return &arr;
}

std::string item_prefix(std::size_t i) {
  return "events[" + std::to_string(i) + "]: ";
}

}  // namespace

result<std::vector<new_event>> parse_stream_publish(std::string_view stream, std::string_view body,
                                                    std::size_t max_batch) {
  auto v = parse_object_body(body);
  if (!v) return std::move(v).err();
  const auto& obj = v->get_object();
  std::vector<new_event> out;
  if (!obj.contains("events")) {
    auto ev = parse_event_fields(obj, "");
    if (!ev) return std::move(ev).err();
    ev->stream = std::string(stream);
    out.push_back(std::move(*ev));
    return out;
  }
  auto arr = events_array(obj, max_batch);
  if (!arr) return std::move(arr).err();
  out.reserve((*arr)->size());
  for (std::size_t i = 0; i < (*arr)->size(); ++i) {
    const auto& item = (**arr)[i];
    if (!item.is_object()) return {errc::bad_request, item_prefix(i) + "must be an object"};
    auto ev = parse_event_fields(item.get_object(), item_prefix(i));
    if (!ev) return std::move(ev).err();
    ev->stream = std::string(stream);
    out.push_back(std::move(*ev));
  }
  return out;
}

result<std::vector<new_event>> parse_multi_publish(std::string_view body, std::size_t max_batch) {
  auto v = parse_object_body(body);
  if (!v) return std::move(v).err();
  auto arr = events_array(v->get_object(), max_batch);
  if (!arr) return std::move(arr).err();
  std::vector<new_event> out;
  out.reserve((*arr)->size());
  for (std::size_t i = 0; i < (*arr)->size(); ++i) {
    const auto& item = (**arr)[i];
    if (!item.is_object()) return {errc::bad_request, item_prefix(i) + "must be an object"};
    const auto& obj = item.get_object();
    auto* stream = obj.if_contains("stream");
    if (!stream || !stream->is_string())
      return {errc::bad_request, item_prefix(i) + "'stream' must be a string"};
    auto name = parse_stream_name(stream->get_string());
    if (!name) return error{errc::invalid_stream, item_prefix(i) + name.err().message};
    auto ev = parse_event_fields(obj, item_prefix(i));
    if (!ev) return std::move(ev).err();
    ev->stream = std::move(*name);
    out.push_back(std::move(*ev));
  }
  return out;
}

}  // namespace eventfeed::api::native
