#include "loadgen/peer_protocols.hpp"

#include <charconv>

namespace eventfeed::bench {

namespace {

std::string stamp_text(std::uint64_t seq, std::int64_t sent_ns) {
  return std::to_string(seq) + " " + std::to_string(sent_ns) + "\n";
}

// Reads "<seq> <ns>" (a trailing newline allowed).
std::optional<stamp> parse_stamp_text(std::string_view body) {
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.remove_suffix(1);
  const auto space = body.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  stamp s;
  const char* a = body.data();
  auto r1 = std::from_chars(a, a + space, s.seq);
  auto r2 = std::from_chars(a + space + 1, a + body.size(), s.sent_ns);
  if (r1.ec != std::errc{} || r1.ptr != a + space || r2.ec != std::errc{} ||
      r2.ptr != a + body.size())
    return std::nullopt;
  return s;
}

request make(bhttp::verb method, std::string target, const std::string& host) {
  request req{method, std::move(target), 11};
  req.set(bhttp::field::host, host);
  req.keep_alive(true);
  return req;
}

std::string status_detail(const response& res) {
  return "status " + std::to_string(res.result_int()) + ": " + res.body().substr(0, 200);
}

// The answer to a subscribe that carries one stamped message, or why not.
poll_answer one_message(const response& res, std::string next) {
  poll_answer out;
  out.next = std::move(next);
  if (auto s = parse_stamp_text(res.body())) {
    out.messages.push_back(*s);
    out.outcome = poll_outcome::messages;
  } else {
    out.detail = "a 200 whose body is not a stamp: " + res.body().substr(0, 100);
  }
  return out;
}

// Publish acknowledgements that name no positions.
publish_ack plain_ack(const response& res, std::size_t count, bool accepted) {
  publish_ack ack;
  ack.status = res.result_int();
  if (count != 1) {
    ack.detail = "this server has no batch publish";
    return ack;
  }
  ack.ok = accepted;
  if (!accepted) ack.detail = status_detail(res);
  return ack;
}

}  // namespace

// ---- Nchan ----

request nchan_protocol::subscribe_request(std::string_view channel, std::string_view cursor) const {
  request req = make(bhttp::verb::get, "/sub/" + std::string(channel), host_);
  if (!cursor.empty()) {
    const auto nl = cursor.find('\n');
    if (nl == std::string_view::npos) {
      req.set(bhttp::field::if_none_match, cursor);  // a whole "<time>:<tag>" id
    } else {
      req.set(bhttp::field::if_none_match, cursor.substr(0, nl));
      req.set(bhttp::field::if_modified_since, cursor.substr(nl + 1));
    }
  }
  return req;
}

poll_answer nchan_protocol::parse_subscribe(const response& res, std::string_view cursor) const {
  const unsigned status = res.result_int();
  if (status == 200) {
    std::string next(res[bhttp::field::etag]);
    next += '\n';
    next += std::string_view(res[bhttp::field::last_modified]);
    return one_message(res, std::move(next));
  }
  poll_answer out;
  out.next = std::string(cursor);
  if (status == 408 || status == 304) {
    out.outcome = poll_outcome::empty;
  } else if (status == 503 || status == 429 || status == 500 || status == 502) {
    out.outcome = poll_outcome::refused;
  } else {
    if (status >= 400 && status < 500) out.outcome = poll_outcome::rejected;
    out.detail = status_detail(res);
  }
  return out;
}

request nchan_protocol::publish_request(std::string_view channel, const stamp& s) const {
  return publish_batch_request(channel, s.seq, 1, s.sent_ns);
}

bool nchan_protocol::publish_accepted(const response& res, std::string& detail) const {
  if (res.result_int() == 201 || res.result_int() == 202) return true;
  detail = status_detail(res);
  return false;
}

request nchan_protocol::publish_batch_request(std::string_view channel, std::uint64_t first_seq,
                                              std::size_t, std::int64_t sent_ns) const {
  request req = make(bhttp::verb::post, "/pub/" + std::string(channel), host_);
  req.set(bhttp::field::content_type, "text/plain");  // else the form type is echoed
  req.body() = stamp_text(first_seq, sent_ns);
  req.prepare_payload();
  return req;
}

publish_ack nchan_protocol::parse_publish_ack(const response& res, std::size_t count) const {
  std::string ignored;
  return plain_ack(res, count, publish_accepted(res, ignored));
}

std::optional<request> nchan_protocol::parked_request(const parked_query&) const {
  return make(bhttp::verb::get, "/nchan_status", host_);
}

std::optional<std::size_t> nchan_protocol::parse_parked(const response& res) const {
  if (res.result_int() != 200) return std::nullopt;
  const std::string_view body = res.body();
  constexpr std::string_view key = "subscribers: ";
  const auto at = body.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t n = 0;
  const char* first = body.data() + at + key.size();
  auto r = std::from_chars(first, body.data() + body.size(), n);
  if (r.ec != std::errc{}) return std::nullopt;
  return n;
}

// ---- Pushpin ----

request pushpin_protocol::subscribe_request(std::string_view channel, std::string_view) const {
  return make(bhttp::verb::get, "/poll/" + std::string(channel), host_);
}

poll_answer pushpin_protocol::parse_subscribe(const response& res, std::string_view cursor) const {
  const unsigned status = res.result_int();
  poll_answer out;
  out.next = std::string(cursor);
  if (status == 200) {
    if (res.body() == "timeout\n") {
      out.outcome = poll_outcome::empty;
      return out;
    }
    return one_message(res, std::string(cursor));
  }
  if (status == 500 || status == 502 || status == 503 || status == 429) {
    out.outcome = poll_outcome::refused;  // "Accept service unavailable", "Error while proxying"
  } else {
    if (status >= 400 && status < 500) out.outcome = poll_outcome::rejected;
    out.detail = status_detail(res);
  }
  return out;
}

request pushpin_protocol::publish_request(std::string_view channel, const stamp& s) const {
  return publish_batch_request(channel, s.seq, 1, s.sent_ns);
}

bool pushpin_protocol::publish_accepted(const response& res, std::string& detail) const {
  if (res.result_int() == 200) return true;
  detail = status_detail(res);
  return false;
}

request pushpin_protocol::publish_batch_request(std::string_view channel, std::uint64_t first_seq,
                                                std::size_t, std::int64_t sent_ns) const {
  request req = make(bhttp::verb::post, "/publish", host_);
  req.set(bhttp::field::content_type, "application/json");
  // Channel names and stamps are [A-Za-z0-9_ \n]: no JSON escaping needed beyond the newline.
  std::string body = R"({"items":[{"channel":")";
  body += channel;
  body += R"(","formats":{"http-response":{"code":200,"body":")";
  body += std::to_string(first_seq) + " " + std::to_string(sent_ns);
  body += R"(\n"}}}]})";
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

publish_ack pushpin_protocol::parse_publish_ack(const response& res, std::size_t count) const {
  std::string ignored;
  return plain_ack(res, count, publish_accepted(res, ignored));
}

std::optional<request> pushpin_protocol::parked_request(const parked_query& q) const {
  std::string target = "/_parked?prefix=";
  target += q.channel_prefix;  // [A-Za-z0-9_]: nothing to escape
  target += "&published=";
  target += std::to_string(q.published);
  return make(bhttp::verb::get, std::move(target), host_);
}

std::optional<std::size_t> pushpin_protocol::parse_parked(const response& res) const {
  if (res.result_int() != 200) return std::nullopt;
  std::size_t n = 0;
  const std::string_view body = res.body();
  auto r = std::from_chars(body.data(), body.data() + body.size(), n);
  if (r.ec != std::errc{}) return std::nullopt;
  return n;
}

// ---- fixed ----

request fixed_protocol::subscribe_request(std::string_view, std::string_view) const {
  return make(bhttp::verb::get, path_, host_);
}

poll_answer fixed_protocol::parse_subscribe(const response& res, std::string_view cursor) const {
  poll_answer out;
  out.next = std::string(cursor);
  if (res.result_int() == 200 && res.body().size() == body_size_) {
    out.outcome = poll_outcome::messages;
    out.messages.push_back({});
  } else {
    out.detail =
        "expected 200 with " + std::to_string(body_size_) + " bytes, got " + status_detail(res);
  }
  return out;
}

request fixed_protocol::publish_request(std::string_view channel, const stamp&) const {
  return subscribe_request(channel, {});
}
bool fixed_protocol::publish_accepted(const response&, std::string& detail) const {
  detail = "the fixed protocol has no publish";
  return false;
}
request fixed_protocol::publish_batch_request(std::string_view channel, std::uint64_t, std::size_t,
                                              std::int64_t) const {
  return subscribe_request(channel, {});
}
publish_ack fixed_protocol::parse_publish_ack(const response&, std::size_t) const {
  publish_ack ack;
  ack.detail = "the fixed protocol has no publish";
  return ack;
}

// ---- catch-up ----

bool catchup_protocol::publish_accepted(const response& res, std::string& detail) const {
  auto a = inner_.parse_subscribe(res, cursor_);
  if (a.outcome == poll_outcome::messages) {
    if (!expect_seq_ || a.messages.front().seq == *expect_seq_) return true;
    detail = "a catch-up read answered message " + std::to_string(a.messages.front().seq) +
             ", not " + std::to_string(*expect_seq_);
    return false;
  }
  detail = a.detail.empty() ? "a catch-up read without messages: " + status_detail(res) : a.detail;
  return false;
}

publish_ack catchup_protocol::parse_publish_ack(const response& res, std::size_t) const {
  publish_ack ack;
  ack.status = res.result_int();
  ack.ok = publish_accepted(res, ack.detail);
  if (!ack.ok && ack.status == 200) ack.malformed = true;
  return ack;
}

}  // namespace eventfeed::bench
