#include "loadgen/chaturbate_protocol.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace eventfeed::bench {

namespace json = boost::json;

chaturbate_protocol::chaturbate_protocol(std::string host, std::string username,
                                         std::string token, std::chrono::seconds poll_timeout)
    : host_(std::move(host)),
      path_("/events/" + username + "/" + token + "/?i="),
      timeout_param_("&timeout=" + std::to_string(poll_timeout.count())) {}

request chaturbate_protocol::subscribe_request(std::string_view, std::string_view cursor) const {
  std::string target;
  target.reserve(path_.size() + cursor.size() + timeout_param_.size());
  target += path_;
  target += cursor;
  target += timeout_param_;
  request req{bhttp::verb::get, std::move(target), 11};
  req.set(bhttp::field::host, host_);
  req.keep_alive(true);
  return req;
}

poll_answer chaturbate_protocol::parse_subscribe(const response& res,
                                                 std::string_view cursor) const {
  poll_answer out;
  out.next = std::string(cursor);
  const unsigned status = res.result_int();
  if (status == 503 || status == 429) {
    out.outcome = poll_outcome::refused;
    return out;
  }
  if (status != 200) {
    if (status >= 400 && status < 500) out.outcome = poll_outcome::rejected;
    out.detail = "status " + std::to_string(status) + ": " + res.body().substr(0, 200);
    return out;
  }
  boost::system::error_code ec;
  json::value v = json::parse(res.body(), ec);
  const json::object* obj = ec ? nullptr : v.if_object();
  const json::value* events = obj ? obj->if_contains("events") : nullptr;
  const json::value* next_url = obj ? obj->if_contains("nextUrl") : nullptr;
  if (!events || !events->is_array() || !next_url || !next_url->is_string()) {
    out.detail = "body lacks 'events' or 'nextUrl'";
    return out;
  }
  const std::string_view url = next_url->get_string();
  const auto i = url.find("?i=");
  const auto amp = url.find('&', i);
  if (i == std::string_view::npos || amp == std::string_view::npos) {
    out.detail = "a nextUrl without i and timeout: " + std::string(url);
    return out;
  }
  out.next = std::string(url.substr(i + 3, amp - i - 3));
  for (const auto& ev : events->get_array()) {
    const json::value* object = ev.is_object() ? ev.get_object().if_contains("object") : nullptr;
    const json::object* data = object ? object->if_object() : nullptr;
    const json::value* seq = data ? data->if_contains("seq") : nullptr;
    const json::value* ts = data ? data->if_contains("ts") : nullptr;
    if (!seq || !ts || !seq->is_int64() || !ts->is_int64() || seq->get_int64() < 0) {
      out.detail = "an event whose object lacks 'seq' or 'ts'";
      return out;
    }
    out.messages.push_back({static_cast<std::uint64_t>(seq->get_int64()), ts->get_int64()});
  }
  out.outcome = out.messages.empty() ? poll_outcome::empty : poll_outcome::messages;
  return out;
}

request chaturbate_protocol::publish_request(std::string_view channel, const stamp&) const {
  return subscribe_request(channel, {});
}
bool chaturbate_protocol::publish_accepted(const response&, std::string& detail) const {
  detail = "the chaturbate protocol has no publish (fill the room through the native API)";
  return false;
}
request chaturbate_protocol::publish_batch_request(std::string_view channel, std::uint64_t,
                                                   std::size_t, std::int64_t) const {
  return subscribe_request(channel, {});
}
publish_ack chaturbate_protocol::parse_publish_ack(const response&, std::size_t) const {
  publish_ack ack;
  ack.detail = "the chaturbate protocol has no publish (fill the room through the native API)";
  return ack;
}

}  // namespace eventfeed::bench
