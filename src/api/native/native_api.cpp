#include "api/native/native_api.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "api/common/gateway.hpp"
#include "api/common/params.hpp"
#include "api/common/render.hpp"
#include "api/common/routes.hpp"
#include "api/native/native_cursor.hpp"
#include "api/native/publish_body.hpp"
#include "core/filter.hpp"
#include "core/stream_name.hpp"
#include "http/request_context.hpp"

namespace eventfeed::api::native {

namespace bhttp = http::bhttp;
namespace net = boost::asio;
using http::request_context;
using http::response;

common::error_table errors() {
  auto t = common::error_table::base();
  t[core::errc::unauthorized].headers = {{"WWW-Authenticate", "Bearer"}};
  return t;
}

const std::string& render_event(const core::event& ev) {
  return common::render_once(ev, core::render_form::native, 64, [&](std::string& out) {
    out += R"({"position":)";
    out += std::to_string(ev.pos);
    out += R"(,"time":)";
    out += std::to_string(ev.time_ms);
    out += R"(,"type":)";
    out += boost::json::serialize(boost::json::string_view(ev.type));
    out += R"(,"data":)";
    out += ev.data;
    out += '}';
  });
}

common::admission_policy admission(const other_credentials& others) {
  common::admission_policy p;
  p.stored = others.stored;
  p.revocations = others.revocations;
  if (const common::jwt_trust* jwt = others.jwt)
    p.vouch = [jwt](const common::credential& c, std::string& why) { return jwt->vouch(c, why); };
  p.form = common::credential_form::bearer;
  p.missing.message = "missing 'Authorization: Bearer <key>' header";
  p.wrong_scheme.message = "Authorization header must be 'Bearer <key>'";
  p.malformed.message = p.wrong_scheme.message;
  p.unknown.message = "unknown key";
  return p;
}

namespace {

// {"events":[...],"next":N,"gap":B}, each event written by `item(out, event)` from its native
// rendering, built once and cached on the event; `extra` is the bytes `item` adds to it.
template <class Item>
response render_events(const feed::poll_result& r, std::size_t extra, Item item) {
  std::string body;
  body.reserve(48 + common::joined_size(r.events, render_event) + extra * r.events.size());
  body += R"({"events":[)";
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    if (i) body += ',';
    item(body, *r.events[i]);
  }
  body += R"(],"next":)";
  body += std::to_string(r.next);
  body += R"(,"gap":)";
  body += r.gap ? "true" : "false";
  body += '}';
  return http::json_response(bhttp::status::ok, std::move(body));
}

response render_poll(const feed::poll_result& r) {
  return render_events(r, 0,
                       [](std::string& out, const core::event& ev) { out += render_event(ev); });
}

// A poll of several streams (GET /v1/events): each event carries its stream,
// `{"stream":"s",` followed by the cached native rendering without its opening brace. Not
// cached itself: a multi-stream rendering would cost every event a cache slot it rarely uses.
response render_multi_poll(const feed::poll_result& r) {
  return render_events(r, 16, [](std::string& out, const core::event& ev) {
    out += R"({"stream":)";
    out += boost::json::serialize(boost::json::string_view(ev.stream));
    out += ',';
    out += std::string_view(render_event(ev)).substr(1);
  });
}

// The `streams` parameter of GET /v1/events: comma-separated names (a name holds no comma),
// each valid, at most `max_poll_streams`; duplicates are left to the engine, which reads each
// stream once. Whether they share a {tag} is the engine's check.
core::result<std::vector<std::string>> parse_stream_list(std::string_view text) {
  if (text.empty())
    return core::error{core::errc::bad_request,
                       "'streams' is required: the streams to poll, comma-separated"};
  std::vector<std::string> out;
  for (std::size_t start = 0;;) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    if (out.size() == max_poll_streams)
      return core::error{core::errc::bad_request,
                         "'streams' names more than " + std::to_string(max_poll_streams) +
                             " streams; at most " + std::to_string(max_poll_streams) +
                             " may be polled together"};
    auto name = core::parse_stream_name(text.substr(start, comma - start));
    if (!name) {
      core::error e = std::move(name).err();
      e.message = "streams[" + std::to_string(out.size()) + "]: " + e.message;
      return e;
    }
    out.push_back(std::move(*name));
    if (comma == text.size()) return out;
    start = comma + 1;
  }
}

class handlers {
 public:
  handlers(feed::engine& f, const common::key_directory& keys, options o,
           const other_credentials& others)
      : gateway_(f, keys, errors(), admission(others)), opts_(o) {}

  net::awaitable<void> publish_one(request_context& ctx) {
    auto who = gateway_.admit(ctx);
    if (!who) co_return;
    auto stream = authorize_stream(ctx, who->who(), access::publish);
    if (!stream) co_return ctx.reply(gateway_.fail(ctx, stream.err()));
    auto events = parse_stream_publish(*stream, ctx.req().body(), opts_.max_batch);
    if (!events) co_return ctx.reply(gateway_.fail(ctx, events.err()));
    auto published = co_await gateway_.feed().async_publish(std::move(*events));
    if (!published) co_return ctx.reply(gateway_.fail(ctx, published.err()));
    co_return ctx.reply(http::json_response(
        bhttp::status::ok, R"({"first":)" + std::to_string(published->front()->pos) +
                               R"(,"last":)" + std::to_string(published->back()->pos) + "}"));
  }

  net::awaitable<void> publish_many(request_context& ctx) {
    auto who = gateway_.admit(ctx);
    if (!who) co_return;
    auto events = parse_multi_publish(ctx.req().body(), opts_.max_batch);
    if (!events) co_return ctx.reply(gateway_.fail(ctx, events.err()));
    for (const auto& ev : *events) {
      if (!who->who().may_publish(ev.stream))
        co_return ctx.reply(gateway_.fail(
            ctx,
            {core::errc::forbidden, "this key may not publish to stream '" + ev.stream + "'"}));
    }
    auto published = co_await gateway_.feed().async_publish(std::move(*events));
    if (!published) co_return ctx.reply(gateway_.fail(ctx, published.err()));
    std::string body = R"({"positions":[)";
    for (std::size_t i = 0; i < published->size(); ++i) {
      if (i) body += ',';
      body += std::to_string((*published)[i]->pos);
    }
    body += "]}";
    co_return ctx.reply(http::json_response(bhttp::status::ok, std::move(body)));
  }

  // Not a coroutine: the parked poll's frame is the gateway's, and this adds none.
  net::awaitable<void> poll(request_context& ctx) {
    std::uint64_t serial = 0;
    auto req = parse_poll(ctx, streams_of::path, serial);
    if (!req) return common::answered();
    return gateway_.poll(ctx, std::move(*req), &render_poll, serial);
  }

  // GET /v1/events?streams=a,b: several streams sharing a {tag}, one cursor.
  net::awaitable<void> poll_many(request_context& ctx) {
    std::uint64_t serial = 0;
    auto req = parse_poll(ctx, streams_of::query, serial);
    if (!req) return common::answered();
    return gateway_.poll(ctx, std::move(*req), &render_multi_poll, serial);
  }

  net::awaitable<void> stream_info(request_context& ctx) {
    auto who = gateway_.admit(ctx);
    if (!who) co_return;
    auto stream = authorize_stream(ctx, who->who(), access::read);
    if (!stream) co_return ctx.reply(gateway_.fail(ctx, stream.err()));
    auto info = co_await gateway_.feed().async_info(*stream);
    if (!info) co_return ctx.reply(gateway_.fail(ctx, info.err()));
    co_return ctx.reply(http::json_response(
        bhttp::status::ok, R"({"stream":)" +
                               boost::json::serialize(boost::json::string_view(*stream)) +
                               R"(,"head":)" + std::to_string(info->head) + R"(,"oldest":)" +
                               std::to_string(info->oldest) + R"(,"waiters":)" +
                               std::to_string(gateway_.feed().waiters(*stream)) + "}"));
  }

 private:
  // The stream of the path, validated, and the caller's right on it.
  enum class access { publish, read };
  static core::result<std::string> authorize_stream(const request_context& ctx,
                                                    const core::principal& who, access kind) {
    auto name = core::parse_stream_name(ctx.param("stream"));
    if (!name) return std::move(name).err();
    const bool allowed = kind == access::publish ? who.may_publish(*name) : who.may_read(*name);
    if (!allowed)
      return {core::errc::forbidden, std::string("this key may not ") +
                                         (kind == access::publish ? "publish to" : "read") +
                                         " stream '" + *name + "'"};
    return name;
  }

  // The streams a poll reads: the path's one, or the `streams` parameter's list, each with the
  // read right.
  enum class streams_of { path, query };
  static core::result<std::vector<std::string>> poll_streams(const request_context& ctx,
                                                             const core::principal& who,
                                                             streams_of where) {
    std::vector<std::string> streams;
    if (where == streams_of::path) {
      auto stream = authorize_stream(ctx, who, access::read);
      if (!stream) return std::move(stream).err();
      streams.push_back(std::move(*stream));
      return streams;
    }
    auto listed = parse_stream_list(ctx.query("streams").value_or(""));
    if (!listed) return listed;
    for (const auto& name : *listed)
      if (!who.may_read(name))
        return core::error{core::errc::forbidden, "this key may not read stream '" + name + "'"};
    return listed;
  }

  // The request as a feed::poll_request; nullopt with the error answered in `ctx`. `serial`:
  // the caller's key_entry::serial (a stored key's, for revocation).
  std::optional<feed::poll_request> parse_poll(request_context& ctx, streams_of where,
                                               std::uint64_t& serial) const {
    auto who = gateway_.admit(ctx);
    if (!who) return std::nullopt;
    serial = who->entry->serial;
    auto streams = poll_streams(ctx, who->who(), where);
    if (!streams) return gateway_.refuse(ctx, streams.err());
    auto cursor = parse_native_cursor(ctx.query("after").value_or(""));
    if (!cursor) return gateway_.refuse(ctx, cursor.err());
    auto timeout = common::parse_seconds(ctx.query("timeout"),
                                         {"timeout", opts_.default_timeout, opts_.max_timeout});
    if (!timeout) return gateway_.refuse(ctx, timeout.err());
    auto limit =
        common::parse_count(ctx.query("limit"), {"limit", opts_.default_limit, opts_.max_limit});
    if (!limit) return gateway_.refuse(ctx, limit.err());
    auto filter = core::parse_type_list(ctx.query("types").value_or(""));
    if (!filter) return gateway_.refuse(ctx, filter.err());
    feed::poll_request req;
    req.streams = std::move(*streams);
    req.from = *cursor;
    req.filter = std::move(*filter);
    req.limit = *limit;
    req.timeout = *timeout;
    return req;
  }

  common::gateway gateway_;
  options opts_;
};

}  // namespace

void register_routes(http::router& routes, feed::engine& feed, const common::key_directory& keys,
                     options opts, other_credentials others) {
  common::route_binder<handlers> bind(routes, std::make_shared<handlers>(feed, keys, opts, others));
  bind.post("/v1/streams/{stream}/events", &handlers::publish_one)
      .post("/v1/events", &handlers::publish_many)
      .get("/v1/events", &handlers::poll_many)
      .get("/v1/streams/{stream}/events", &handlers::poll)
      .get("/v1/streams/{stream}", &handlers::stream_info);
}

}  // namespace eventfeed::api::native
