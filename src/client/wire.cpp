#include "client/wire.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <charconv>

namespace eventfeed {

namespace json = boost::json;

std::string_view to_string(error_kind kind) noexcept {
  switch (kind) {
    case error_kind::invalid_argument:
      return "invalid_argument";
    case error_kind::transport:
      return "transport";
    case error_kind::server:
      return "server";
    case error_kind::protocol:
      return "protocol";
    case error_kind::cancelled:
      return "cancelled";
    case error_kind::local:
      return "local";
  }
  return "unknown";
}

bool error::retryable() const noexcept {
  if (kind == error_kind::transport) return true;
  if (kind == error_kind::server)
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
  return false;
}

std::string error::to_string() const {
  switch (kind) {
    case error_kind::server:
      return "server answered " + std::to_string(status) + " (" + code + "): " + message;
    case error_kind::protocol:
      return "unexpected answer from the server: " + message;
    default:
      return message;
  }
}

namespace {

// Removes the whitespace outside strings of well-formed JSON text.
std::string minify(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < text.size()) {
        out.push_back(text[++i]);
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out.push_back(c);
    } else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      out.push_back(c);
    }
  }
  return out;
}

std::string quoted(std::string_view s) {
  return json::serialize(json::string_view(s));
}

}  // namespace

std::string to_json(const event& ev, bool with_stream) {
  std::string out;
  out.reserve(64 + ev.type.size() + ev.data.size() + (with_stream ? 12 + ev.stream.size() : 0));
  out += '{';
  if (with_stream) {
    out += R"("stream":)";
    out += quoted(ev.stream);
    out += ',';
  }
  out += R"("position":)";
  out += std::to_string(ev.pos);
  out += R"(,"time":)";
  out += std::to_string(ev.time_ms);
  out += R"(,"type":)";
  out += quoted(ev.type);
  out += R"(,"data":)";
  if (ev.data.empty()) {
    out += "{}";
  } else if (ev.data.find_first_of("\r\n") != std::string::npos) {
    out += minify(ev.data);  // one event, one line, whatever the server sent
  } else {
    out += ev.data;
  }
  out += '}';
  return out;
}

namespace detail {

// ---- json_scanner ------------------------------------------------------------------------------

void json_scanner::skip_ws() noexcept {
  while (pos_ < text_.size() &&
         (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\r' || text_[pos_] == '\n'))
    ++pos_;
}

bool json_scanner::enter_object() {
  skip_ws();
  if (pos_ >= text_.size() || text_[pos_] != '{') return false;
  ++pos_;
  return true;
}

bool json_scanner::enter_array() {
  skip_ws();
  if (pos_ >= text_.size() || text_[pos_] != '[') return false;
  ++pos_;
  return true;
}

std::optional<std::string> json_scanner::next_key() {
  skip_ws();
  if (pos_ < text_.size() && text_[pos_] == ',') ++pos_;
  skip_ws();
  if (pos_ >= text_.size() || text_[pos_] == '}') {
    if (pos_ < text_.size()) ++pos_;
    return std::nullopt;
  }
  const std::string_view raw = value();
  skip_ws();
  if (pos_ < text_.size() && text_[pos_] == ':') ++pos_;
  if (raw.size() < 2 || raw.front() != '"') return std::string();
  if (raw.find('\\') == std::string_view::npos) return std::string(raw.substr(1, raw.size() - 2));
  json::error_code ec;
  auto decoded = json::parse(raw, ec);
  if (ec || !decoded.is_string()) return std::string();
  return std::string(decoded.get_string());
}

bool json_scanner::next_element() {
  skip_ws();
  if (pos_ >= text_.size()) return false;
  if (text_[pos_] == ',') {
    ++pos_;
    return true;
  }
  if (text_[pos_] == ']') {
    ++pos_;
    return false;
  }
  return true;
}

std::string_view json_scanner::value() {
  skip_ws();
  const std::size_t start = pos_;
  if (pos_ >= text_.size()) return {};
  auto skip_string = [&] {  // at the opening quote
    ++pos_;
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '\\') {
        ++pos_;
      } else if (c == '"') {
        return;
      }
    }
  };
  const char first = text_[pos_];
  if (first == '"') {
    skip_string();
  } else if (first == '{' || first == '[') {
    int depth = 0;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '"') {
        skip_string();
        continue;
      }
      ++pos_;
      if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        break;
      }
    }
  } else {  // a number, true, false or null
    while (pos_ < text_.size() &&
           std::string_view(",}] \t\r\n").find(text_[pos_]) == std::string_view::npos)
      ++pos_;
  }
  return text_.substr(start, std::min(pos_, text_.size()) - start);
}

// ---- bodies sent -------------------------------------------------------------------------------

std::optional<std::string> check_data_object(std::string_view data) {
  json::error_code ec;
  const json::value v = json::parse(data, ec);
  if (ec) return "not valid JSON (" + ec.message() + ")";
  if (v.is_object()) return std::nullopt;
  const char* got = v.is_array()    ? "an array"
                    : v.is_string() ? "a string"
                    : v.is_bool()   ? "a boolean"
                    : v.is_null()   ? "null"
                                    : "a number";
  return std::string(got) + ", not a JSON object";
}

namespace {

error data_error(std::string_view where, const std::string& why) {
  return error{error_kind::invalid_argument, 0, "invalid_json",
               std::string(where) + "'data' is " + why};
}

std::string_view data_or_empty_object(std::string_view data) {
  return data.find_first_not_of(" \t\r\n") == std::string_view::npos ? "{}" : data;
}

// Appends {"stream"?,"type","data"} for one event, after checking its data.
std::optional<error> append_event(std::string& out, const std::string* stream,
                                  std::string_view type, std::string_view data,
                                  std::string_view where) {
  data = data_or_empty_object(data);
  if (auto why = check_data_object(data)) return data_error(where, *why);
  out += '{';
  if (stream) {
    out += R"("stream":)";
    out += quoted(*stream);
    out += ',';
  }
  out += R"("type":)";
  out += quoted(type);
  out += R"(,"data":)";
  out += data;
  out += '}';
  return std::nullopt;
}

std::string where_in_batch(std::size_t i, std::size_t n) {
  return n == 1 ? std::string() : "events[" + std::to_string(i) + "]: ";
}

}  // namespace

result<std::string> stream_publish_body(const std::vector<new_event>& events) {
  if (events.empty())
    return error{error_kind::invalid_argument, 0, "empty_batch", "no events to publish"};
  std::string body;
  std::size_t size = 16;
  for (const auto& ev : events) size += ev.type.size() + ev.data.size() + 24;
  body.reserve(size);
  if (events.size() == 1) {
    if (auto e = append_event(body, nullptr, events[0].type, events[0].data, "")) return *e;
    return body;
  }
  body += R"({"events":[)";
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i) body += ',';
    if (auto e = append_event(body, nullptr, events[i].type, events[i].data,
                              where_in_batch(i, events.size())))
      return *e;
  }
  body += "]}";
  return body;
}

result<std::string> multi_publish_body(const std::vector<stream_event>& events) {
  if (events.empty())
    return error{error_kind::invalid_argument, 0, "empty_batch", "no events to publish"};
  std::string body = R"({"events":[)";
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i) body += ',';
    if (auto e = append_event(body, &events[i].stream, events[i].type, events[i].data,
                              "events[" + std::to_string(i) + "]: "))
      return *e;
  }
  body += "]}";
  return body;
}

// ---- answers read ------------------------------------------------------------------------------

namespace {

error bad_response(std::string message) {
  return error{error_kind::protocol, 200, "bad_response", std::move(message)};
}

result<json::value> parse_answer(std::string_view body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return bad_response("the body is not JSON (" + ec.message() + ")");
  if (!v.is_object()) return bad_response("the body is not a JSON object");
  return v;
}

bool to_u64(const json::value* v, std::uint64_t& out) {
  if (!v) return false;
  if (v->is_uint64()) {
    out = v->get_uint64();
    return true;
  }
  if (v->is_int64() && v->get_int64() >= 0) {
    out = static_cast<std::uint64_t>(v->get_int64());
    return true;
  }
  return false;
}

template <class Int>
bool to_int(std::string_view text, Int& out) {
  const char* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(text.data(), last, out);
  return !text.empty() && ec == std::errc{} && end == last;
}

std::optional<std::string> decode_string(std::string_view raw) {
  if (raw.size() < 2 || raw.front() != '"') return std::nullopt;
  if (raw.find('\\') == std::string_view::npos) return std::string(raw.substr(1, raw.size() - 2));
  json::error_code ec;
  auto v = json::parse(raw, ec);
  if (ec || !v.is_string()) return std::nullopt;
  return std::string(v.get_string());
}

result<event> scan_event(json_scanner& s, std::size_t index) {
  const std::string where = "events[" + std::to_string(index) + "]";
  if (!s.enter_object()) return bad_response(where + " is not an object");
  event ev;
  bool has_pos = false, has_type = false, has_data = false;
  while (auto key = s.next_key()) {
    const std::string_view raw = s.value();
    if (*key == "position") {
      if (!to_int(raw, ev.pos)) return bad_response(where + ".position is not a position");
      has_pos = true;
    } else if (*key == "time") {
      if (!to_int(raw, ev.time_ms)) return bad_response(where + ".time is not an integer");
    } else if (*key == "type") {
      auto type = decode_string(raw);
      if (!type) return bad_response(where + ".type is not a string");
      ev.type = std::move(*type);
      has_type = true;
    } else if (*key == "data") {
      if (raw.empty() || raw.front() != '{') return bad_response(where + ".data is not an object");
      ev.data = std::string(raw);
      has_data = true;
    } else if (*key == "stream") {
      auto stream = decode_string(raw);
      if (!stream) return bad_response(where + ".stream is not a string");
      ev.stream = std::move(*stream);
    }
  }
  if (!has_pos || !has_type || !has_data)
    return bad_response(where + " lacks one of position, type, data");
  return ev;
}

}  // namespace

result<published> parse_published(std::string_view body) {
  auto v = parse_answer(body);
  if (!v) return std::move(v).err();
  const auto& obj = v->get_object();
  published out;
  if (!to_u64(obj.if_contains("first"), out.first) || !to_u64(obj.if_contains("last"), out.last))
    return bad_response("expected {\"first\":P,\"last\":Q}");
  return out;
}

result<std::vector<position>> parse_positions(std::string_view body) {
  auto v = parse_answer(body);
  if (!v) return std::move(v).err();
  const auto* arr = v->get_object().if_contains("positions");
  if (!arr || !arr->is_array()) return bad_response("expected {\"positions\":[...]}");
  std::vector<position> out;
  out.reserve(arr->get_array().size());
  for (const auto& p : arr->get_array()) {
    position pos = 0;
    if (!to_u64(&p, pos)) return bad_response("a position is not an unsigned integer");
    out.push_back(pos);
  }
  return out;
}

result<poll_result> parse_poll(std::string_view body, const stream_set& streams) {
  const auto& names = streams.names();
  if (auto checked = parse_answer(body); !checked) return std::move(checked).err();
  json_scanner s(body);
  s.enter_object();
  poll_result out;
  bool has_events = false, has_next = false;
  while (auto key = s.next_key()) {
    if (*key == "events") {
      if (!s.enter_array()) return bad_response("'events' is not an array");
      while (s.next_element()) {
        auto ev = scan_event(s, out.events.size());
        if (!ev) return std::move(ev).err();
        if (names.size() == 1) {
          ev->stream = names.front();
        } else if (std::find(names.begin(), names.end(), ev->stream) == names.end()) {
          return bad_response("events[" + std::to_string(out.events.size()) +
                              "].stream is not one of the streams polled");
        }
        out.events.push_back(std::move(*ev));
      }
      has_events = true;
    } else if (*key == "next") {
      if (!to_int(s.value(), out.next)) return bad_response("'next' is not a position");
      has_next = true;
    } else if (*key == "gap") {
      const std::string_view raw = s.value();
      if (raw != "true" && raw != "false") return bad_response("'gap' is not a boolean");
      out.gap = raw == "true";
    } else {
      s.value();
    }
  }
  if (!has_events || !has_next) return bad_response("expected {\"events\":[...],\"next\":P}");
  return out;
}

result<stream_info> parse_stream_info(std::string_view body) {
  auto v = parse_answer(body);
  if (!v) return std::move(v).err();
  const auto& obj = v->get_object();
  stream_info out;
  std::uint64_t waiters = 0;
  const auto* name = obj.if_contains("stream");
  if (!name || !name->is_string() || !to_u64(obj.if_contains("head"), out.head) ||
      !to_u64(obj.if_contains("oldest"), out.oldest) ||
      !to_u64(obj.if_contains("waiters"), waiters))
    return bad_response("expected {\"stream\",\"head\",\"oldest\",\"waiters\"}");
  out.stream = std::string(name->get_string());
  out.waiters = static_cast<std::size_t>(waiters);
  return out;
}

result<server_health> parse_health(std::string_view body) {
  auto v = parse_answer(body);
  if (!v) return std::move(v).err();
  const auto& obj = v->get_object();
  server_health out;
  const auto* status = obj.if_contains("status");
  if (!status || !status->is_string()) return bad_response("expected {\"status\":...}");
  out.status = std::string(status->get_string());
  if (const auto* store = obj.if_contains("store"); store && store->is_string())
    out.store = std::string(store->get_string());
  std::uint64_t waiters = 0;
  if (to_u64(obj.if_contains("waiters"), waiters)) out.waiters = static_cast<std::size_t>(waiters);
  return out;
}

error error_from_answer(int status, std::string_view reason, std::string_view body) {
  json::error_code ec;
  const json::value v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    if (const auto* e = v.get_object().if_contains("error"); e && e->is_object()) {
      const auto* code = e->get_object().if_contains("code");
      const auto* message = e->get_object().if_contains("message");
      if (code && code->is_string() && message && message->is_string())
        return error{error_kind::server, status, std::string(code->get_string()),
                     std::string(message->get_string())};
    }
  }
  // Not the API's error shape: a proxy, or not an eventfeed server at all.
  std::string message = reason.empty() ? "HTTP " + std::to_string(status) : std::string(reason);
  std::string_view excerpt = body.substr(0, 200);
  if (!excerpt.empty()) {
    message += ": ";
    for (char c : excerpt) message.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
    if (body.size() > excerpt.size()) message += "...";
  }
  return error{error_kind::server, status, "http_" + std::to_string(status), std::move(message)};
}

}  // namespace detail
}  // namespace eventfeed
