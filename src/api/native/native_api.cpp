#include "api/native/native_api.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <charconv>
#include <cmath>

#include "core/cursor.hpp"
#include "core/publish.hpp"
#include "core/stream_name.hpp"
#include "http/request_context.hpp"

namespace eventfeed::api::native {

namespace bhttp = http::bhttp;
namespace net = boost::asio;
using http::request_context;
using http::response;

bhttp::status status_for(core::errc code) noexcept {
  switch (code) {
    case core::errc::bad_request:
    case core::errc::invalid_json:
    case core::errc::invalid_stream:
      return bhttp::status::bad_request;
    case core::errc::payload_too_large:
      return bhttp::status::payload_too_large;
    case core::errc::unauthorized:
      return bhttp::status::unauthorized;
    case core::errc::forbidden:
      return bhttp::status::forbidden;
    case core::errc::not_found:
      return bhttp::status::not_found;
    case core::errc::unavailable:
    case core::errc::shutting_down:
      return bhttp::status::service_unavailable;
    case core::errc::internal:
      return bhttp::status::internal_server_error;
  }
  return bhttp::status::internal_server_error;
}

const std::string& render_event(const core::event& ev) {
  return ev.cache.get_or_build(core::render_form::native, [&] {
    std::string out;
    out.reserve(64 + ev.type.size() + ev.data.size());
    out += R"({"position":)";
    out += std::to_string(ev.pos);
    out += R"(,"time":)";
    out += std::to_string(ev.time_ms);
    out += R"(,"type":)";
    out += boost::json::serialize(boost::json::string_view(ev.type));
    out += R"(,"data":)";
    out += ev.data;
    out += '}';
    return out;
  });
}

namespace {

response fail(const request_context& ctx, const core::error& err) {
  auto res = ctx.error(status_for(err.code), core::to_string(err.code), err.message);
  if (err.code == core::errc::unauthorized) res.set(bhttp::field::www_authenticate, "Bearer");
  return res;
}

// Resolves the caller's key. Ok: the principal; else the 401 to answer.
core::result<const core::principal*> authenticate(const request_context& ctx,
                                                  const core::key_ring& keys) {
  auto header = ctx.header(bhttp::field::authorization);
  if (header.empty())
    return {core::errc::unauthorized, "missing 'Authorization: Bearer <key>' header"};
  auto token = core::bearer_token(header);
  if (!token) return {core::errc::unauthorized, "Authorization header must be 'Bearer <key>'"};
  const core::principal* who = keys.find(*token);
  if (!who) return {core::errc::unauthorized, "unknown key"};
  return who;
}

// Parses a non-negative number of seconds ("30", "0.5") capped at `max`.
core::result<std::chrono::milliseconds> parse_timeout(const std::optional<std::string>& text,
                                                      const options& o) {
  if (!text || text->empty()) return o.default_timeout;
  double seconds = 0;
  const char* last = text->data() + text->size();
  auto [end, ec] = std::from_chars(text->data(), last, seconds, std::chars_format::fixed);
  if (ec != std::errc{} || end != last || !std::isfinite(seconds) || seconds < 0)
    return {core::errc::bad_request, "'timeout' must be a number of seconds, 0 or more"};
  // Clamp before converting: a huge value must not overflow the integer conversion.
  const double max_ms = static_cast<double>(o.max_timeout.count());
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::min(seconds * 1000.0, max_ms)));
}

core::result<std::size_t> parse_limit(const std::optional<std::string>& text, const options& o) {
  if (!text || text->empty()) return o.default_limit;
  std::uint64_t n = 0;
  if (!core::parse_u64(*text, n) || n == 0)
    return {core::errc::bad_request, "'limit' must be a positive integer"};
  return static_cast<std::size_t>(std::min<std::uint64_t>(n, o.max_limit));
}

// The stream of the path, validated, and the caller's right on it.
enum class access { publish, read };
core::result<std::string> authorize_stream(const request_context& ctx, const core::principal& who,
                                           access kind) {
  auto name = core::parse_stream_name(ctx.param("stream"));
  if (!name) return std::move(name).err();
  const bool allowed = kind == access::publish ? who.may_publish(*name) : who.may_read(*name);
  if (!allowed)
    return {core::errc::forbidden, std::string("this key may not ") +
                                       (kind == access::publish ? "publish to" : "read") +
                                       " stream '" + *name + "'"};
  return name;
}

std::string render_poll(const feed::poll_result& r) {
  std::size_t size = 48;
  for (const auto& ev : r.events) size += render_event(*ev).size() + 1;
  std::string body;
  body.reserve(size);
  body += R"({"events":[)";
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    if (i) body += ',';
    body += render_event(*r.events[i]);
  }
  body += R"(],"next":)";
  body += std::to_string(r.next);
  body += R"(,"gap":)";
  body += r.gap ? "true" : "false";
  body += '}';
  return body;
}

class handlers {
 public:
  core::result<feed::poll_request> parse_poll(const request_context& ctx) const {
    auto who = authenticate(ctx, keys_);
    if (!who) return std::move(who).err();
    auto stream = authorize_stream(ctx, **who, access::read);
    if (!stream) return std::move(stream).err();
    auto cursor = core::parse_native_cursor(ctx.query("after").value_or(""));
    if (!cursor) return std::move(cursor).err();
    auto timeout = parse_timeout(ctx.query("timeout"), opts_);
    if (!timeout) return std::move(timeout).err();
    auto limit = parse_limit(ctx.query("limit"), opts_);
    if (!limit) return std::move(limit).err();
    auto filter = core::parse_type_list(ctx.query("types").value_or(""));
    if (!filter) return std::move(filter).err();
    feed::poll_request req;
    req.streams.push_back(std::move(*stream));
    req.from = *cursor;
    req.filter = std::move(*filter);
    req.limit = *limit;
    req.timeout = *timeout;
    return req;
  }

  static response poll_answer(const request_context& ctx,
                              const core::result<feed::poll_result>& outcome, bool client_gone) {
    if (client_gone) {  // nobody will read this; close rather than keep the connection
      auto res = http::json_response(bhttp::status::ok, "{}");
      res.keep_alive(false);
      return res;
    }
    if (!outcome) return fail(ctx, outcome.err());
    auto res = http::json_response(bhttp::status::ok, render_poll(*outcome));
    if (outcome->reason == feed::wake_reason::shutdown) res.keep_alive(false);
    return res;
  }

  handlers(feed::engine& f, const core::key_ring& keys, options o)
      : feed_(f), keys_(keys), opts_(o) {}

  net::awaitable<void> publish_one(request_context& ctx) {
    auto who = authenticate(ctx, keys_);
    if (!who) co_return ctx.reply(fail(ctx, who.err()));
    auto stream = authorize_stream(ctx, **who, access::publish);
    if (!stream) co_return ctx.reply(fail(ctx, stream.err()));
    auto events = core::parse_stream_publish(*stream, ctx.req().body(), opts_.max_batch);
    if (!events) co_return ctx.reply(fail(ctx, events.err()));
    auto published = co_await feed_.async_publish(std::move(*events));
    if (!published) co_return ctx.reply(fail(ctx, published.err()));
    co_return ctx.reply(http::json_response(
        bhttp::status::ok, R"({"first":)" + std::to_string(published->front()->pos) +
                               R"(,"last":)" + std::to_string(published->back()->pos) + "}"));
  }

  net::awaitable<void> publish_many(request_context& ctx) {
    auto who = authenticate(ctx, keys_);
    if (!who) co_return ctx.reply(fail(ctx, who.err()));
    auto events = core::parse_multi_publish(ctx.req().body(), opts_.max_batch);
    if (!events) co_return ctx.reply(fail(ctx, events.err()));
    for (const auto& ev : *events) {
      if (!(*who)->may_publish(ev.stream))
        co_return ctx.reply(fail(ctx, {core::errc::forbidden,
                                       "this key may not publish to stream '" + ev.stream + "'"}));
    }
    auto published = co_await feed_.async_publish(std::move(*events));
    if (!published) co_return ctx.reply(fail(ctx, published.err()));
    std::string body = R"({"positions":[)";
    for (std::size_t i = 0; i < published->size(); ++i) {
      if (i) body += ',';
      body += std::to_string((*published)[i]->pos);
    }
    body += "]}";
    co_return ctx.reply(http::json_response(bhttp::status::ok, std::move(body)));
  }

  // Kept small on purpose: this coroutine's frame is held by every parked poll, so the
  // parsing and the rendering live in plain functions and only the request and the outcome
  // cross the wait.
  net::awaitable<void> poll(request_context& ctx) {
    auto parsed = parse_poll(ctx);
    if (!parsed) co_return ctx.reply(fail(ctx, parsed.err()));
    ctx.release_request();  // a parked poll keeps no headers, target or captures
    parsed->on_wait = [&ctx](std::function<void()> cancel) { ctx.begin_watch(std::move(cancel)); };
    auto outcome = co_await feed_.async_poll(std::move(*parsed));
    const bool client_gone = co_await ctx.end_watch();
    co_return ctx.reply(poll_answer(ctx, outcome, client_gone));
  }

  net::awaitable<void> stream_info(request_context& ctx) {
    auto who = authenticate(ctx, keys_);
    if (!who) co_return ctx.reply(fail(ctx, who.err()));
    auto stream = authorize_stream(ctx, **who, access::read);
    if (!stream) co_return ctx.reply(fail(ctx, stream.err()));
    auto info = co_await feed_.async_info(*stream);
    if (!info) co_return ctx.reply(fail(ctx, info.err()));
    co_return ctx.reply(http::json_response(
        bhttp::status::ok, R"({"stream":)" +
                               boost::json::serialize(boost::json::string_view(*stream)) +
                               R"(,"head":)" + std::to_string(info->head) + R"(,"oldest":)" +
                               std::to_string(info->oldest) + R"(,"waiters":)" +
                               std::to_string(feed_.waiters(*stream)) + "}"));
  }

  net::awaitable<void> health(request_context& ctx) {
    co_return ctx.reply(http::json_response(
        bhttp::status::ok, R"({"status":"ok","store":")" +
                               std::string(feed_.backing_store().backend_name()) +
                               R"(","waiters":)" + std::to_string(feed_.total_waiters()) + "}"));
  }

 private:
  feed::engine& feed_;
  const core::key_ring& keys_;
  options opts_;
};

}  // namespace

void register_routes(http::router& routes, feed::engine& feed, const core::key_ring& keys,
                     options opts) {
  auto h = std::make_shared<handlers>(feed, keys, opts);
  auto bind = [h](net::awaitable<void> (handlers::*fn)(request_context&)) {
    return [h, fn](request_context& ctx) { return ((*h).*fn)(ctx); };
  };
  routes.add(bhttp::verb::post, "/v1/streams/{stream}/events", bind(&handlers::publish_one));
  routes.add(bhttp::verb::post, "/v1/events", bind(&handlers::publish_many));
  routes.add(bhttp::verb::get, "/v1/streams/{stream}/events", bind(&handlers::poll));
  routes.add(bhttp::verb::get, "/v1/streams/{stream}", bind(&handlers::stream_info));
  routes.add(bhttp::verb::get, "/healthz", bind(&handlers::health));
}

}  // namespace eventfeed::api::native
