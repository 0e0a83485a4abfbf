#include "api/chaturbate/chaturbate_api.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include "api/common/gateway.hpp"
#include "api/common/params.hpp"
#include "api/common/render.hpp"
#include "api/common/routes.hpp"
#include "core/cursor.hpp"
#include "http/url_codec.hpp"

namespace eventfeed::api::chaturbate {

namespace bhttp = http::bhttp;
namespace net = boost::asio;
using http::request_context;
using http::response;

std::string event_id(const core::event& ev) {
  return std::to_string(ev.time_ms) + "-" + std::to_string(ev.pos);
}

std::optional<core::position> parse_event_id(std::string_view id) {
  const auto dash = id.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::uint64_t ms = 0;
  std::uint64_t pos = 0;
  if (!core::parse_u64(id.substr(0, dash), ms) || !core::parse_u64(id.substr(dash + 1), pos))
    return std::nullopt;
  return pos;
}

const std::string& render_event(const core::event& ev) {
  return common::render_once(ev, core::render_form::chaturbate, 48, [&](std::string& out) {
    out += R"({"method":)";
    out += boost::json::serialize(boost::json::string_view(ev.type));
    out += R"(,"id":")";
    out += event_id(ev);
    out += R"(","object":)";
    out += ev.data;
    out += '}';
  });
}

namespace {

// {"status": "<message>", "code": "<code>"}: clients read nothing but the status code, and a
// person reads the status.
response render_error(const http::error_details& e) {
  boost::json::value v = {{"status", e.message}, {"code", e.code}};
  return http::json_response(e.status, boost::json::serialize(v));
}

common::admission_policy admission() {
  common::admission_policy p;
  p.form = common::credential_form::path;
  p.login_param = "username";
  p.token_param = "token";
  const std::string refused = "invalid token or username";
  p.missing.message = refused;
  p.malformed.message = refused;
  p.unknown.message = refused;
  p.rate_limited.message = "rate limited: too many requests for this token";
  return p;
}

// Builds each answer's body and nextUrl. Lives in the parked poll's frame: the URL up to the
// cursor, what follows it, and the request's own `i` (an empty answer hands it back).
struct answer_builder {
  std::string url_head;  // ".../events/alice/TOKEN/?i="
  std::string url_tail;  // "&timeout=10"
  std::string given_i;   // the request's i, or empty
  core::position given_pos = 0;
  const core::clock* clock = nullptr;

  response operator()(const feed::poll_result& r) const {
    std::string body;
    body.reserve(64 + url_head.size() + url_tail.size() +
                 common::joined_size(r.events, render_event));
    body += R"({"events":[)";
    common::append_joined(body, r.events, render_event);
    body += R"(],"nextUrl":")";
    body += url_head;
    if (!r.events.empty())
      body += event_id(*r.events.back());
    else if (!given_i.empty() && r.next == given_pos)
      body += given_i;  // nothing new: the same cursor, as the client sent it
    else
      body += std::to_string(clock->wall_ms()) + "-" + std::to_string(r.next);
    body += url_tail;
    body += R"("})";
    return http::json_response(bhttp::status::ok, std::move(body));
  }
};

class handlers {
 public:
  handlers(common::platform& p, const common::key_directory& keys, feed::rate_limiter& limiter,
           const options& opts)
      : platform_(p),
        gateway_(p.feed, keys, common::error_table::base(), admission(), &limiter),
        opts_(opts) {}

  // Not a coroutine: the parked poll's frame is the gateway's.
  net::awaitable<void> poll(request_context& ctx) {
    answer_builder answer;
    auto req = parse_poll(ctx, answer);
    if (!req) return common::answered();
    return gateway_.poll(ctx, std::move(*req), std::move(answer));
  }

 private:
  std::optional<feed::poll_request> parse_poll(request_context& ctx, answer_builder& answer) const {
    auto who = gateway_.admit(ctx);
    if (!who) return std::nullopt;
    auto timeout = common::parse_seconds(
        ctx.query("timeout"),
        {"timeout", std::chrono::seconds(10), std::chrono::seconds(90), false, true});
    if (!timeout) return gateway_.refuse(ctx, timeout.err());
    feed::poll_request req;
    req.streams.emplace_back(who->who().home_stream());
    req.timeout = *timeout;
    req.limit = opts_.max_batch;
    req.from = core::cursor::latest(opts_.latest_events);
    if (auto i = ctx.query("i"); i && !i->empty()) {
      auto pos = parse_event_id(*i);
      if (!pos)
        return gateway_.refuse(ctx, {core::errc::bad_request,
                                     "'i' must be an event id as nextUrl gives it (<ms>-<n>)"});
      req.from = core::cursor::after_position(*pos);
      answer.given_i = std::move(*i);
      answer.given_pos = *pos;
    }
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(*timeout).count();
    answer.url_head = platform_.public_url + "/events/" +
                      http::percent_encode_segment(ctx.param("username")) + "/" +
                      http::percent_encode_segment(ctx.param("token")) + "/?i=";
    answer.url_tail = "&timeout=" + std::to_string(seconds);
    answer.clock = &platform_.clock;
    return req;
  }

  common::platform& platform_;
  common::gateway gateway_;
  options opts_;
};

}  // namespace

void register_routes(common::platform& p, const common::key_directory& keys,
                     feed::rate_limiter& limiter, const options& opts) {
  p.routes.set_error_renderer("/events/", render_error);
  common::route_binder<handlers> bind(p.routes, std::make_shared<handlers>(p, keys, limiter, opts));
  bind.get("/events/{username}/{token}", &handlers::poll);
}

}  // namespace eventfeed::api::chaturbate
