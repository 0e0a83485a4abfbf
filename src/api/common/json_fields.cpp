#include "api/common/json_fields.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>

namespace eventfeed::api::common {

namespace json = boost::json;

void json_fields::fail(std::string_view key, std::string_view what) {
  if (!problem) problem = "'" + path(key) + "' " + std::string(what);
}

const json::value* json_fields::find(std::string_view key) {
  const json::value* v = obj_.if_contains(key);
  if (!v) fail(key, "is required");
  return v;
}

const json::value* json_fields::optional(std::string_view key) const {
  const json::value* v = obj_.if_contains(key);
  return v && !v->is_null() ? v : nullptr;
}

void json_fields::string(std::string_view key) {
  if (auto* v = find(key); v && !v->is_string()) fail(key, "must be a string");
}

void json_fields::optional_string(std::string_view key) {
  if (auto* v = optional(key); v && !v->is_string()) fail(key, "must be a string or null");
}

void json_fields::equals(std::string_view key, std::string_view expected) {
  auto* v = find(key);
  if (!v) return;
  if (const json::string* s = v->if_string(); !s || std::string_view(*s) != expected)
    fail(key, "must be \"" + std::string(expected) + "\"");
}

void json_fields::boolean(std::string_view key) {
  if (auto* v = find(key); v && !v->is_bool()) fail(key, "must be true or false");
}

void json_fields::one_of(std::string_view key, std::initializer_list<std::string_view> allowed) {
  auto* v = find(key);
  if (!v) return;
  const json::string* s = v->if_string();
  if (s && std::find(allowed.begin(), allowed.end(), std::string_view(*s)) != allowed.end()) return;
  std::string list;
  for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  fail(key, "must be one of " + list);
}

void json_fields::number(std::string_view key) {
  if (auto* v = find(key); v && !v->is_number()) fail(key, "must be a number");
}

void json_fields::id(std::string_view key) {
  auto* v = find(key);
  if (!v) return;
  if (v->is_int64() || v->is_uint64()) return;
  if (const json::string* s = v->if_string();
      s && !s->empty() &&
      std::all_of(s->begin(), s->end(), [](char c) { return c >= '0' && c <= '9'; }))
    return;
  fail(key, "must be an integer or a string of digits");
}

void json_fields::positive_integer(std::string_view key) {
  auto* v = find(key);
  if (!v) return;
  const bool ok =
      (v->is_int64() && v->get_int64() >= 1) || (v->is_uint64() && v->get_uint64() >= 1);
  if (!ok) fail(key, "must be an integer of at least 1");
}

const json::object* json_fields::object(std::string_view key) {
  auto* v = find(key);
  if (!v) return nullptr;
  if (!v->is_object()) {
    fail(key, "must be an object");
    return nullptr;
  }
  return &v->get_object();
}

void json_fields::optional_object(std::string_view key) {
  if (auto* v = optional(key); v && !v->is_object()) fail(key, "must be an object or null");
}

void json_fields::absent(std::string_view key, std::string_view why) {
  if (obj_.contains(key)) fail(key, why);
}

std::optional<json::value> parse_object(std::string_view data, std::string& problem) {
  boost::system::error_code ec;
  json::value v = json::parse(data, ec);
  if (ec || !v.is_object()) {
    problem = "'data' must be a JSON object";
    return std::nullopt;
  }
  return v;
}

}  // namespace eventfeed::api::common
