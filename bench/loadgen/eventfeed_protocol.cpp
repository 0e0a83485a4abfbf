#include "loadgen/eventfeed_protocol.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace eventfeed::bench {

namespace json = boost::json;

namespace {

// The integer at `key` of `obj`, if it is one.
std::optional<std::int64_t> integer_at(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  return std::nullopt;
}

}  // namespace

eventfeed_protocol::eventfeed_protocol(std::string host, std::string key,
                                       std::chrono::seconds poll_timeout, std::size_t limit)
    : host_(std::move(host)),
      authorization_("Bearer " + std::move(key)),
      timeout_param_(std::to_string(poll_timeout.count())) {
  if (limit > 0) timeout_param_ += "&limit=" + std::to_string(limit);
}

request eventfeed_protocol::base(bhttp::verb method, std::string target) const {
  request req{method, target, 11};
  req.set(bhttp::field::host, host_);
  req.set(bhttp::field::authorization, authorization_);
  req.keep_alive(true);
  return req;
}

request eventfeed_protocol::subscribe_request(std::string_view channel,
                                              std::string_view cursor) const {
  std::string target;
  target.reserve(64 + channel.size() + cursor.size());
  target += "/v1/streams/";
  target += channel;
  target += "/events?after=";
  target += cursor;
  target += "&timeout=";
  target += timeout_param_;
  return base(bhttp::verb::get, std::move(target));
}

poll_answer eventfeed_protocol::parse_subscribe(const response& res,
                                                std::string_view cursor) const {
  poll_answer out;
  out.next = std::string(cursor);
  const unsigned status = res.result_int();
  if (status == 503 || status == 429) {
    out.outcome = poll_outcome::refused;
    return out;
  }
  if (status != 200) {
    if (status >= 400 && status < 500 && status != 408) out.outcome = poll_outcome::rejected;
    out.detail = "status " + std::to_string(status) + ": " + res.body().substr(0, 200);
    return out;
  }
  boost::system::error_code ec;
  json::value v = json::parse(res.body(), ec);
  if (ec || !v.is_object()) {
    out.detail = "body is not a JSON object";
    return out;
  }
  const auto& obj = v.get_object();
  const auto next = integer_at(obj, "next");
  const json::value* events = obj.if_contains("events");
  if (!next || !events || !events->is_array()) {
    out.detail = "body lacks 'events' or 'next'";
    return out;
  }
  out.next = std::to_string(*next);
  if (const json::value* gap = obj.if_contains("gap"); gap && gap->is_bool())
    out.gap = gap->get_bool();
  for (const auto& ev : events->get_array()) {
    const json::value* data = ev.is_object() ? ev.get_object().if_contains("data") : nullptr;
    if (!data || !data->is_object()) {
      out.detail = "an event without a 'data' object";
      return out;
    }
    const auto seq = integer_at(data->get_object(), "seq");
    const auto ts = integer_at(data->get_object(), "ts");
    if (!seq || !ts || *seq < 0) {
      out.detail = "an event whose data lacks 'seq' or 'ts'";
      return out;
    }
    out.messages.push_back({static_cast<std::uint64_t>(*seq), *ts});
  }
  out.outcome = out.messages.empty() ? poll_outcome::empty : poll_outcome::messages;
  return out;
}

request eventfeed_protocol::publish_request(std::string_view channel, const stamp& s) const {
  std::string target = "/v1/streams/";
  target += channel;
  target += "/events";
  request req = base(bhttp::verb::post, std::move(target));
  req.set(bhttp::field::content_type, "application/json");
  req.body() = R"({"type":"bench","data":{"seq":)" + std::to_string(s.seq) + R"(,"ts":)" +
               std::to_string(s.sent_ns) + "}}";
  req.prepare_payload();
  return req;
}

bool eventfeed_protocol::publish_accepted(const response& res, std::string& detail) const {
  if (res.result_int() == 200) return true;
  detail = "status " + std::to_string(res.result_int()) + ": " + res.body().substr(0, 200);
  return false;
}

request eventfeed_protocol::publish_batch_request(std::string_view channel, std::uint64_t first_seq,
                                                  std::size_t count, std::int64_t sent_ns) const {
  std::string target = "/v1/streams/";
  target += channel;
  target += "/events";
  request req = base(bhttp::verb::post, std::move(target));
  req.set(bhttp::field::content_type, "application/json");
  const std::string ts = std::to_string(sent_ns);
  std::string& body = req.body();
  body.reserve(16 + count * (48 + ts.size()));
  auto one = [&](std::uint64_t seq) {
    body += R"({"type":"bench","data":{"seq":)";
    body += std::to_string(seq);
    body += R"(,"ts":)";
    body += ts;
    body += "}}";
  };
  if (count == 1) {
    one(first_seq);
  } else {
    body += R"({"events":[)";
    for (std::size_t i = 0; i < count; ++i) {
      if (i > 0) body += ',';
      one(first_seq + i);
    }
    body += "]}";
  }
  req.prepare_payload();
  return req;
}

publish_ack eventfeed_protocol::parse_publish_ack(const response& res, std::size_t count) const {
  publish_ack ack;
  ack.status = res.result_int();
  if (ack.status != 200) {
    ack.detail = "status " + std::to_string(ack.status) + ": " + res.body().substr(0, 200);
    return ack;
  }
  boost::system::error_code ec;
  json::value v = json::parse(res.body(), ec);
  const auto first = !ec && v.is_object() ? integer_at(v.get_object(), "first") : std::nullopt;
  const auto last = !ec && v.is_object() ? integer_at(v.get_object(), "last") : std::nullopt;
  // One request's events are appended together: positions first..last, exactly `count`.
  if (!first || !last || *first < 1 || *last < *first ||
      static_cast<std::uint64_t>(*last - *first) + 1 != count) {
    ack.malformed = true;
    ack.detail = "200 whose body does not acknowledge " + std::to_string(count) +
                 " event(s): " + res.body().substr(0, 200);
    return ack;
  }
  ack.first = static_cast<std::uint64_t>(*first);
  ack.last = static_cast<std::uint64_t>(*last);
  ack.ok = true;
  return ack;
}

std::optional<request> eventfeed_protocol::parked_request(const parked_query&) const {
  return base(bhttp::verb::get, "/healthz");
}

std::optional<std::size_t> eventfeed_protocol::parse_parked(const response& res) const {
  if (res.result_int() != 200) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(res.body(), ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto n = integer_at(v.get_object(), "waiters");
  if (!n || *n < 0) return std::nullopt;
  return static_cast<std::size_t>(*n);
}

}  // namespace eventfeed::bench
