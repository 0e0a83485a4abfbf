#include "api/box/box_api.hpp"

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "api/box/box_event.hpp"
#include "api/common/gateway.hpp"
#include "api/common/params.hpp"
#include "api/common/render.hpp"
#include "api/common/routes.hpp"

namespace eventfeed::api::box {

namespace bhttp = http::bhttp;
namespace json = boost::json;
namespace net = boost::asio;
using http::request_context;
using http::response;

namespace {

constexpr std::string_view help_url =
    "https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/";
constexpr std::string_view invalid_token = "The access token provided is invalid.";

// Box spells a few of the HTTP layer's codes its own way.
std::string_view box_code(std::string_view code) {
  if (code == "internal") return "internal_server_error";
  if (code == "malformed_http" || code == "invalid_json") return "bad_request";
  if (code == "shutting_down") return "unavailable";
  return code;
}

common::error_table errors() {
  using core::errc;
  auto t = common::error_table::base();
  t[errc::unauthorized].headers = {{"WWW-Authenticate",
                                    "Bearer realm=\"Service\", error=\"invalid_token\", "
                                    "error_description=\"" +
                                        std::string(invalid_token) + "\""}};
  t[errc::rate_limited].code = "rate_limit_exceeded";
  t[errc::forbidden].code = "access_denied_insufficient_permissions";
  return t;
}

common::admission_policy admission() {
  common::admission_policy p;
  p.form = common::credential_form::bearer;
  p.missing.message = "An access token is required: Authorization: Bearer <token>.";
  p.wrong_scheme.message = p.missing.message;
  p.malformed.message = std::string(invalid_token);
  p.unknown.message = std::string(invalid_token);
  p.rate_limited.message = "Request rate limit exceeded, please try again later";
  return p;
}

response realtime_message(std::string_view message) {
  return http::json_response(bhttp::status::ok,
                             R"({"version":1,"message":")" + std::string(message) + R"("})");
}

// GET /2.0/events: a page of events and the position after it.
response render_page(const feed::poll_result& r) {
  const std::string next = std::to_string(to_stream_position(r.next));
  std::string body;
  body.reserve(80 + next.size() + common::joined_size(r.events, render_event));
  body += R"({"chunk_size":)";
  body += std::to_string(r.events.size());
  body += R"(,"next_stream_position":)";
  body += next;
  body += R"(,"entries":[)";
  common::append_joined(body, r.events, render_event);
  body += "]}";
  return http::json_response(bhttp::status::ok, std::move(body));
}

// The realtime server: something new (or a scan that moved past events the channel's stream
// type skips, which GET /2.0/events will move past too), else reconnect.
response render_realtime(const feed::poll_result& r) {
  const bool changed = !r.events.empty() || r.reason == feed::wake_reason::scan_limit;
  return realtime_message(changed ? "new_change" : "reconnect");
}

class handlers {
 public:
  handlers(common::platform& p, const common::key_directory& keys, feed::rate_limiter& limiter,
           channel_registry& channels, const options& opts)
      : platform_(p),
        gateway_(p.feed, keys, errors(), admission(), &limiter),
        channels_(channels),
        opts_(opts) {}

  // OPTIONS /2.0/events: a new channel and its realtime server entry.
  net::awaitable<void> realtime_server(request_context& ctx) {
    auto who = gateway_.admit(ctx);
    if (!who) co_return;
    auto type = parse_type(ctx);
    if (!type) co_return;
    const std::string id = channels_.open(std::string(who->who().home_stream()), *type);
    json::object entry{{"type", "realtime_server"},
                       {"url", platform_.public_url + std::string(realtime_path) + "?channel=" +
                                   id + "&stream_type=" + std::string(to_string(*type))},
                       {"ttl", std::to_string(ttl_minutes())},
                       {"max_retries", std::to_string(opts_.channels.max_retries)},
                       {"retry_timeout", opts_.retry_timeout.count()}};
    json::object body{{"chunk_size", 1}, {"entries", json::array{std::move(entry)}}};
    co_return ctx.reply(http::json_response(bhttp::status::ok, json::serialize(body)));
  }

  // GET /2.0/events. Not a coroutine: the poll's frame is the gateway's.
  net::awaitable<void> events(request_context& ctx) {
    auto req = parse_events(ctx);
    if (!req) return common::answered();
    return gateway_.poll(ctx, std::move(*req), render_page);
  }

  // GET /2.0/realtime. Not a coroutine: a parked poll's frame is the gateway's.
  net::awaitable<void> realtime(request_context& ctx) {
    auto req = parse_realtime(ctx);
    if (!req) return common::answered();
    return gateway_.poll(ctx, std::move(*req), render_realtime);
  }

 private:
  // `ttl` as OPTIONS shows it: whole minutes, rounded up.
  std::int64_t ttl_minutes() const {
    return std::max<std::int64_t>(
        1, std::chrono::ceil<std::chrono::minutes>(opts_.channels.ttl).count());
  }

  // `stream_type`: all (default), changes, sync; the enterprise streams are refused with 403.
  std::optional<stream_type> parse_type(request_context& ctx) const {
    const auto text = ctx.query("stream_type");
    if (!text || text->empty()) return stream_type::all;
    if (auto type = box::parse_stream_type(*text)) return type;
    if (*text == "admin_logs" || *text == "admin_logs_streaming")
      return gateway_.refuse(
          ctx, {core::errc::forbidden, "Enterprise events (" + *text +
                                           ") need an admin token; eventfeed serves user events"});
    return gateway_.refuse(
        ctx, {core::errc::bad_request, "'stream_type' must be one of all, changes, sync"});
  }

  std::optional<feed::poll_request> parse_events(request_context& ctx) const {
    auto who = gateway_.admit(ctx);
    if (!who) return std::nullopt;
    auto type = parse_type(ctx);
    if (!type) return std::nullopt;
    auto from = parse_stream_position(ctx.query("stream_position"));
    if (!from) return gateway_.refuse(ctx, from.err());
    // Box clamps any larger limit, however many digits it has.
    const common::count_param limit_param{.name = "limit",
                                          .fallback = opts_.default_limit,
                                          .max = opts_.max_limit,
                                          .clamp_overflow = true};
    auto limit = common::parse_count(ctx.query("limit"), limit_param);
    if (!limit) return gateway_.refuse(ctx, limit.err());
    feed::poll_request req;
    req.streams.emplace_back(who->who().home_stream());
    req.from = *from;
    req.filter = filter_for(*type);
    req.limit = *limit;
    req.timeout = std::chrono::milliseconds(0);
    return req;
  }

  std::optional<feed::poll_request> parse_realtime(request_context& ctx) const {
    // The position first: a refused poll must not count as one of the channel's retries.
    auto position = ctx.query("stream_position");
    if (!position || position->empty()) position = "now";
    auto from = parse_stream_position(position);
    if (!from) return gateway_.refuse(ctx, from.err());
    const auto id = ctx.query("channel");
    const auto grant = id ? channels_.poll(*id) : std::nullopt;
    if (!grant) {
      ctx.reply(realtime_message("reconnect"));
      return std::nullopt;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        grant->expires - platform_.clock.steady_now());
    feed::poll_request req;
    req.streams.push_back(grant->stream);
    req.from = *from;
    req.filter = filter_for(grant->type);
    req.limit = 1;
    req.timeout = std::max(std::chrono::milliseconds(0), std::min(opts_.hold, left));
    return req;
  }

  common::platform& platform_;
  common::gateway gateway_;
  channel_registry& channels_;
  options opts_;
};

}  // namespace

response render_error(const http::error_details& e) {
  json::object body{{"type", "error"},          {"status", static_cast<unsigned>(e.status)},
                    {"code", box_code(e.code)}, {"help_url", help_url},
                    {"message", e.message},     {"request_id", e.request_id},
                    {"context_info", nullptr}};
  auto res = http::json_response(e.status, json::serialize(body));
  if (!e.request_id.empty()) res.set("box-request-id", e.request_id);
  return res;
}

void register_routes(common::platform& p, const common::key_directory& keys,
                     feed::rate_limiter& limiter, channel_registry& channels, const options& opts) {
  p.routes.set_error_renderer("/2.0/", render_error);
  common::route_binder<handlers> bind(p.routes,
                                      std::make_shared<handlers>(p, keys, limiter, channels, opts));
  bind.options("/2.0/events", &handlers::realtime_server)
      .get("/2.0/events", &handlers::events)
      .get(std::string(realtime_path), &handlers::realtime);
}

}  // namespace eventfeed::api::box
