#include "api/zulip/zulip_api.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <random>

#include <spdlog/spdlog.h>

#include "api/common/gateway.hpp"
#include "api/common/render.hpp"
#include "api/common/routes.hpp"
#include "api/zulip/narrow.hpp"
#include "http/form.hpp"

namespace eventfeed::api::zulip {

namespace bhttp = http::bhttp;
namespace json = boost::json;
namespace net = boost::asio;
using http::request_context;
using http::response;

const std::string& render_event(const core::event& ev) {
  return ev.cache.get_or_build(core::render_form::zulip, [&] {
    std::string out;
    out.reserve(48 + ev.type.size() + ev.data.size());
    out += R"({"type":)";
    out += json::serialize(json::string_view(ev.type));
    // The data's own members follow (the data is a compact object: "{...}").
    if (ev.data.size() > 2) {
      out += ',';
      out.append(ev.data, 1, ev.data.size() - 2);
    }
    out += R"(,"id":)";
    out += std::to_string(ev.pos);
    out += '}';
    return out;
  });
}

bool well_formed_api_key(std::string_view key) {
  if (key.size() != 32) return false;
  for (char c : key)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  return true;
}

namespace {

// The fields a message object must carry for the clients (../shared/spec/zulip.md, 9.10).
std::optional<std::string> check_message(const json::object& m) {
  auto need = [&](std::string_view key, bool (json::value::*is)() const noexcept,
                  std::string_view what) -> std::optional<std::string> {
    const json::value* v = m.if_contains(key);
    if (!v) return "'message." + std::string(key) + "' is required";
    if (!(v->*is)()) return "'message." + std::string(key) + "' must be " + std::string(what);
    return std::nullopt;
  };
  for (auto [key, is, what] : {std::tuple{"id", &json::value::is_int64, "an integer"},
                               std::tuple{"sender_id", &json::value::is_int64, "an integer"},
                               std::tuple{"timestamp", &json::value::is_int64, "an integer"},
                               std::tuple{"content", &json::value::is_string, "a string"},
                               std::tuple{"sender_email", &json::value::is_string, "a string"},
                               std::tuple{"sender_full_name", &json::value::is_string, "a string"},
                               std::tuple{"subject", &json::value::is_string, "a string"}}) {
    if (auto problem = need(key, is, what)) return problem;
  }
  const json::value* type = m.if_contains("type");
  if (!type || !type->is_string() ||
      (type->get_string() != "stream" && type->get_string() != "private"))
    return "'message.type' must be \"stream\" or \"private\"";
  const json::value* recipient = m.if_contains("display_recipient");
  if (!recipient || !(recipient->is_string() || recipient->is_array()))
    return "'message.display_recipient' must be a channel name or a list of users";
  if (type->get_string() == "stream") {
    if (auto problem = need("stream_id", &json::value::is_int64, "an integer")) return problem;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> check_event(const core::new_event& e) {
  boost::system::error_code ec;
  const json::value v = json::parse(e.data, ec);
  const json::object* data = ec ? nullptr : v.if_object();
  if (!data) return "'data' must be a JSON object";
  if (data->contains("id") || data->contains("type"))
    return "'data' must not carry 'id' or 'type': the server sets them";
  if (e.type == "heartbeat" || e.type == "restart")
    return "'" + e.type + "' events are the server's own";
  if (e.type == "message") {
    const json::value* m = data->if_contains("message");
    if (!m || !m->is_object()) return "'message' (the message object) is required";
    if (auto problem = check_message(m->get_object())) return problem;
    const json::value* flags = data->if_contains("flags");
    if (flags && !flags->is_array()) return "'flags' must be a list";
  }
  return std::nullopt;
}

namespace {

// Zulip's error body: {"result":"error","msg":...,"code":...}, with "retry-after" (seconds) on a
// rate limit. Codes are Zulip's, upper case (the HTTP layer's own "not_found" too).
response render_error(const http::error_details& e) {
  std::string code(e.code);
  for (char& c : code) c = c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
  json::object body{{"result", "error"}, {"msg", e.message}, {"code", code}};
  if (e.retry_after.count() > 0)
    body["retry-after"] = static_cast<double>(e.retry_after.count()) / 1000.0;
  return http::json_response(e.status, json::serialize(body) + "\n");
}

common::error_table errors() {
  using core::errc;
  auto t = common::error_table::base();
  const common::header_list challenge = {{"WWW-Authenticate", R"(Basic realm="zulip")"}};
  t[errc::bad_request] = {bhttp::status::bad_request, "BAD_REQUEST", {}};
  t[errc::invalid_json] = {bhttp::status::bad_request, "INVALID_JSON", {}};
  t[errc::invalid_stream] = {bhttp::status::bad_request, "BAD_REQUEST", {}};
  t[errc::payload_too_large] = {bhttp::status::bad_request, "BAD_REQUEST", {}};
  t[errc::unauthorized] = {bhttp::status::unauthorized, "UNAUTHORIZED", challenge};
  t[errc::forbidden] = {bhttp::status::forbidden, "BAD_REQUEST", {}};
  t[errc::not_found] = {bhttp::status::not_found, "NOT_FOUND", {}};
  t[errc::rate_limited] = {bhttp::status::too_many_requests, "RATE_LIMIT_HIT", {}};
  return t;
}

common::admission_policy admission() {
  common::admission_policy p;
  p.form = common::credential_form::basic;
  p.missing.message = "Not logged in: API authentication or user session required";
  p.wrong_scheme = {"This endpoint requires HTTP basic authentication.",
                    common::error_shape{bhttp::status::bad_request, "BAD_REQUEST", {}}};
  p.malformed.message = "Invalid authorization header for basic auth";
  const common::error_shape invalid_key{bhttp::status::unauthorized, "INVALID_API_KEY", {}};
  p.unknown = {"Invalid API key", invalid_key};
  p.rate_limited.message = "API usage exceeded rate limit";
  p.vet = [invalid_key](const common::credential& c) -> std::optional<common::refusal> {
    if (!well_formed_api_key(c.secret))
      return common::refusal{"Malformed API key", invalid_key};
    return std::nullopt;
  };
  return p;
}

// {"result":"success","msg":""<fields>}: `fields` is empty or starts with a comma.
response success(std::string_view fields) {
  std::string body = R"({"result":"success","msg":"")";
  body += fields;
  body += "}\n";
  return http::json_response(bhttp::status::ok, std::move(body));
}

std::string json_text(std::string_view s) {
  return json::serialize(json::string_view(s));
}

// A typed parameter's value: JSON text inside the form field.
struct param_error {
  core::error error;
};
core::result<std::optional<json::value>> json_param(const http::form& f, std::string_view name) {
  const std::string* text = f.find(name);
  if (!text) return std::optional<json::value>{};
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec)
    return core::error{core::errc::bad_request,
                       "Argument \"" + std::string(name) + "\" is not valid JSON."};
  return std::optional<json::value>(std::move(v));
}

core::result<std::optional<bool>> bool_param(const http::form& f, std::string_view name) {
  auto v = json_param(f, name);
  if (!v) return std::move(v).err();
  if (!*v) return std::optional<bool>{};
  if (!(*v)->is_bool())
    return core::error{core::errc::bad_request, std::string(name) + " is not a boolean"};
  return std::optional<bool>((*v)->get_bool());
}

core::result<std::optional<std::int64_t>> int_param(const http::form& f, std::string_view name) {
  auto v = json_param(f, name);
  if (!v) return std::move(v).err();
  if (!*v) return std::optional<std::int64_t>{};
  if (!(*v)->is_int64())
    return core::error{core::errc::bad_request, std::string(name) + " is not an integer"};
  return std::optional<std::int64_t>((*v)->get_int64());
}

// Ends a queue's poll however the poll ends (answered, failed, client gone): it lives in the
// poll's frame, inside the answer builder.
class poll_guard {
 public:
  poll_guard(feed::queue_registry& q, std::string id) : queues_(&q), id_(std::move(id)) {
    queues_->begin_poll(id_);
  }
  poll_guard(poll_guard&& o) noexcept
      : queues_(std::exchange(o.queues_, nullptr)), id_(std::move(o.id_)) {}
  poll_guard& operator=(poll_guard&&) = delete;
  ~poll_guard() {
    if (queues_) queues_->end_poll(id_);
  }
  feed::queue_registry& queues() const { return *queues_; }
  const std::string& id() const { return id_; }

 private:
  feed::queue_registry* queues_;
  std::string id_;
};

// Builds a poll's answer: the events, a heartbeat when the poll waited in vain, the restart
// event a restored queue owes its client; and records what it handed out.
struct answer_builder {
  poll_guard guard;
  const settings* s;
  std::optional<feed::rate_decision> rate;
  std::int64_t server_generation = 0;
  core::position from = 0;  // where the poll reads from (its acknowledged cursor)
  bool restart = false;     // this answer carries the restart event
  bool waited = true;       // the poll could wait (not dont_block)

  response operator()(const feed::poll_result& r) {
    std::string events;
    core::position last = 0;
    // A poll that waited in vain answers a heartbeat (a dont_block poll did not wait: it
    // answers nothing). So does a poll that stopped at its scan cap among events the filter
    // refused: the heartbeat's id lets the client acknowledge past them.
    const bool heartbeat =
        r.events.empty() && ((r.reason == feed::wake_reason::timeout && waited) ||
                             r.reason == feed::wake_reason::scan_limit);
    if (restart) {
      events += R"({"type":"restart","zulip_version":)" + json_text(s->zulip_version) +
                R"(,"zulip_merge_base":)" + json_text(s->zulip_merge_base) +
                R"(,"zulip_feature_level":)" + std::to_string(s->zulip_feature_level) +
                R"(,"server_generation":)" + std::to_string(server_generation) + R"(,"id":)" +
                std::to_string(from) + "}";
      last = from;
    }
    if (!r.events.empty()) {
      if (!events.empty()) events += ',';
      common::append_joined(events, r.events, render_event);
      last = r.events.back()->pos;
    } else if (heartbeat) {
      // Its id is where the queue has read to: acknowledging it moves past skipped events.
      if (!events.empty()) events += ',';
      events += R"({"type":"heartbeat","id":)" + std::to_string(r.next) + "}";
      last = r.next;
    }
    if (!events.empty()) guard.queues().delivered(guard.id(), last);
    auto res = success(R"(,"events":[)" + events + R"(],"queue_id":)" + json_text(guard.id()));
    if (rate) common::add_headers(res, common::rate_headers(*rate));
    return res;
  }
};

class handlers {
 public:
  handlers(common::platform& p, const common::key_directory& users, feed::rate_limiter& limiter,
           feed::queue_registry& queues, const settings& s)
      : platform_(p),
        gateway_(p.feed, users, errors(), admission(), &limiter),
        queues_(queues),
        settings_(s),
        generation_(p.clock.wall_ms() / 1000) {}

  net::awaitable<void> server_settings(request_context& ctx) {
    co_return ctx.reply(success(
        R"(,"zulip_version":)" + json_text(settings_.zulip_version) + R"(,"zulip_feature_level":)" +
        std::to_string(settings_.zulip_feature_level) + R"(,"zulip_merge_base":)" +
        json_text(settings_.zulip_merge_base) + R"(,"push_notifications_enabled":false)" +
        R"(,"realm_uri":)" + json_text(platform_.public_url) + R"(,"realm_url":)" +
        json_text(platform_.public_url) + R"(,"realm_name":"eventfeed")"));
  }

  net::awaitable<void> register_queue(request_context& ctx) {
    auto who = gateway_.admit(ctx);
    if (!who) co_return;
    auto spec = parse_register(ctx, *who);
    if (!spec) co_return ctx.reply(with_rate(*who, gateway_.fail(ctx, spec.err())));
    core::position base = 0;
    for (const auto& stream : spec->first.streams) {
      auto info = co_await gateway_.feed().async_info(stream);
      if (!info) co_return ctx.reply(with_rate(*who, gateway_.fail(ctx, info.err())));
      base = std::max(base, info->head);
    }
    auto created = co_await queues_.async_create(std::move(spec->first), base);
    if (!created) co_return ctx.reply(with_rate(*who, gateway_.fail(ctx, created.err())));
    std::string fields = R"(,"queue_id":)" + json_text(created->id) +
                         R"(,"last_event_id":-1,"max_message_id":-1)" +
                         R"(,"event_queue_longpoll_timeout_seconds":90)" + versions();
    if (!spec->second.empty()) {
      json::array ignored;
      for (const auto& name : spec->second) ignored.emplace_back(name);
      fields += R"(,"ignored_parameters_unsupported":)" + json::serialize(ignored);
    }
    co_return ctx.reply(with_rate(*who, success(fields)));
  }

  // Not a coroutine: the parked poll's frame is the gateway's.
  net::awaitable<void> get_events(request_context& ctx) {
    std::optional<answer_builder> answer;
    auto req = parse_get(ctx, answer);
    if (!req) return common::answered();
    return gateway_.poll(ctx, std::move(*req), std::move(*answer));
  }

  net::awaitable<void> delete_queue(request_context& ctx) {
    auto who = gateway_.admit(ctx);
    if (!who) co_return;
    http::form f;
    if (auto bad = f.add_body(ctx.header(bhttp::field::content_type), ctx.req().body()))
      co_return ctx.reply(with_rate(*who, gateway_.fail(ctx, {core::errc::bad_request, *bad})));
    f.add_query(ctx.query_string());
    const std::string* id = f.find("queue_id");
    if (!id)
      co_return ctx.reply(with_rate(
          *who, gateway_.fail(ctx, {core::errc::bad_request, "Missing 'queue_id' argument"})));
    const std::string queue_id = *id;
    auto q = queues_.find(queue_id);
    if (!q || q->spec.owner != who->who().name) co_return ctx.reply(bad_queue(queue_id, q, *who));
    // Its parked poll, if any, answers at once with what it has (nothing).
    gateway_.feed().end_wait(queue_id);
    co_await queues_.async_remove(queue_id);
    co_return ctx.reply(with_rate(*who, success("")));
  }

 private:
  std::string versions() const {
    return R"(,"zulip_version":)" + json_text(settings_.zulip_version) +
           R"(,"zulip_feature_level":)" + std::to_string(settings_.zulip_feature_level) +
           R"(,"zulip_merge_base":)" + json_text(settings_.zulip_merge_base);
  }

  static response with_rate(const common::caller& who, response res) {
    if (who.rate) common::add_headers(res, common::rate_headers(*who.rate));
    return res;
  }

  // Zulip's answer for a queue that is unknown, expired, or another user's; the last is
  // worth a warning (a client mixing up credentials, or probing).
  static response bad_queue(const std::string& id, const std::optional<feed::queue_snapshot>& q,
                            const common::caller& who) {
    if (q)
      spdlog::warn("zulip: {} asked for queue {}, which is {}'s", who.who().name, id,
                   q->spec.owner);
    json::object body{{"result", "error"},
                      {"msg", "Bad event queue ID: " + id},
                      {"queue_id", id},
                      {"code", "BAD_EVENT_QUEUE_ID"}};
    return with_rate(who,
                     http::json_response(bhttp::status::bad_request, json::serialize(body) + "\n"));
  }

  // The queue a register request asks for, and the parameters it ignored.
  core::result<std::pair<feed::queue_spec, std::vector<std::string>>> parse_register(
      request_context& ctx, const common::caller& who) const {
    http::form f;
    if (auto bad = f.add_body(ctx.header(bhttp::field::content_type), ctx.req().body()))
      return core::error{core::errc::bad_request, *bad};
    f.add_query(ctx.query_string());
    static const std::vector<std::string_view> known = {
        "event_types",         "narrow",
        "all_public_streams",  "queue_lifespan_secs",
        "fetch_event_types",   "apply_markdown",
        "client_gravatar",     "slim_presence",
        "include_subscribers", "presence_history_limit_days",
        "client_capabilities", "user_client",
        "user_settings_object"};
    std::vector<std::string> ignored;
    for (const auto& [name, value] : f.fields())
      if (std::find(known.begin(), known.end(), name) == known.end() &&
          std::find(ignored.begin(), ignored.end(), name) == ignored.end())
        ignored.push_back(name);

    auto types_v = json_param(f, "event_types");
    if (!types_v) return std::move(types_v).err();
    std::optional<std::vector<std::string>> types;
    if (*types_v && !(*types_v)->is_null()) {  // absent or null: every type
      const json::array* arr = (*types_v)->if_array();
      if (!arr) return core::error{core::errc::bad_request, "event_types is not a list"};
      types.emplace();
      for (const auto& t : *arr) {
        if (!t.is_string())
          return core::error{core::errc::bad_request, "event_types[] is not a string"};
        types->emplace_back(t.get_string());
      }
    }
    auto narrow_v = json_param(f, "narrow");
    if (!narrow_v) return std::move(narrow_v).err();
    std::vector<narrow_term> narrow;
    if (*narrow_v && !(*narrow_v)->is_null()) {
      auto terms = parse_narrow(**narrow_v);
      if (!terms) return std::move(terms).err();
      narrow = std::move(*terms);
    }
    auto all_public = bool_param(f, "all_public_streams");
    if (!all_public) return std::move(all_public).err();
    auto lifespan = int_param(f, "queue_lifespan_secs");
    if (!lifespan) return std::move(lifespan).err();
    auto filter = queue_filter(types, narrow);
    if (!filter) return std::move(filter).err();

    feed::queue_spec spec;
    spec.owner = who.who().name;
    spec.streams.emplace_back(who.who().home_stream());
    if ((all_public->value_or(false) || !narrow.empty()) && !settings_.public_stream.empty())
      spec.streams.push_back(settings_.public_stream);
    spec.filter = std::move(*filter);
    spec.lifespan = settings_.queue_lifespan;
    if (*lifespan && **lifespan > 0)
      spec.lifespan = std::min(settings_.max_queue_lifespan, std::chrono::seconds(**lifespan));
    const bool accepts_restart =
        !types || std::find(types->begin(), types->end(), "restart") != types->end();
    spec.attributes = json::serialize(json::value{{"restart", accepts_restart}});
    return std::pair{std::move(spec), std::move(ignored)};
  }

  // Admits, acknowledges and builds the poll; on failure the answer is in `ctx`.
  std::optional<feed::poll_request> parse_get(request_context& ctx,
                                              std::optional<answer_builder>& answer) {
    auto who = gateway_.admit(ctx);
    if (!who) return std::nullopt;
    auto refuse = [&](std::string message) {
      ctx.reply(with_rate(*who, gateway_.fail(ctx, {core::errc::bad_request, std::move(message)})));
      return std::nullopt;
    };
    http::form f;
    if (auto bad = f.add_body(ctx.header(bhttp::field::content_type), ctx.req().body()))
      return refuse(*bad);
    f.add_query(ctx.query_string());
    const std::string* id = f.find("queue_id");
    if (!id) return refuse("Missing 'queue_id' argument");
    auto last = int_param(f, "last_event_id");
    if (!last) return refuse(last.err().message);
    if (!*last) return refuse("Missing 'last_event_id' argument");
    auto dont_block = bool_param(f, "dont_block");
    if (!dont_block) return refuse(dont_block.err().message);
    const std::string queue_id = *id;
    auto q = queues_.find(queue_id);
    if (!q || q->spec.owner != who->who().name) {
      ctx.reply(bad_queue(queue_id, q, *who));
      return std::nullopt;
    }
    // -1 is "nothing yet": the queue's start.
    const core::position to = **last < 0 ? q->base : static_cast<core::position>(**last);
    core::position acked = 0;
    switch (queues_.acknowledge(queue_id, to, &acked)) {
      case feed::ack_outcome::ok:
        break;
      case feed::ack_outcome::behind:
        return refuse("An event newer than " +
                      (acked == q->base ? std::string("-1") : std::to_string(acked)) +
                      " has already been pruned!");
      case feed::ack_outcome::ahead:
        return refuse("Event " + std::to_string(**last) + " was not in this queue");
      case feed::ack_outcome::unknown:  // collected or deleted since it was found
        ctx.reply(bad_queue(queue_id, std::nullopt, *who));
        return std::nullopt;
    }
    feed::poll_request req;
    req.streams = q->spec.streams;
    req.filter = q->spec.filter;
    req.from = core::cursor::after_position(acked);
    req.limit = settings_.max_batch;
    req.key = queue_id;
    if (dont_block->value_or(false)) {
      req.timeout = std::chrono::milliseconds(0);
    } else {
      thread_local std::mt19937 random{std::random_device{}()};
      const auto jitter = settings_.heartbeat_jitter.count();
      req.timeout =
          settings_.heartbeat +
          std::chrono::seconds(
              jitter > 0 ? std::uniform_int_distribution<std::int64_t>(0, jitter)(random) : 0);
    }
    const bool accepts_restart = q->spec.attributes.find(R"("restart":true)") != std::string::npos;
    answer.emplace(answer_builder{poll_guard(queues_, queue_id), &settings_, who->rate, generation_,
                                  acked, false});
    answer->restart = queues_.take_restart(queue_id) && accepts_restart;
    answer->waited = req.timeout.count() > 0;
    return req;
  }

  common::platform& platform_;
  common::gateway gateway_;
  feed::queue_registry& queues_;
  const settings& settings_;
  std::int64_t generation_;  // when this server started, in seconds: Zulip's server_generation
};

}  // namespace

void register_routes(common::platform& p, const common::key_directory& users,
                     feed::rate_limiter& limiter, feed::queue_registry& queues, const settings& s) {
  p.routes.set_error_renderer("/api/", render_error);
  common::route_binder<handlers> bind(p.routes,
                                      std::make_shared<handlers>(p, users, limiter, queues, s));
  bind.get("/api/v1/server_settings", &handlers::server_settings)
      .post("/api/v1/register", &handlers::register_queue)
      .get("/api/v1/events", &handlers::get_events)
      .del("/api/v1/events", &handlers::delete_queue);
}

}  // namespace eventfeed::api::zulip
