#include "api/native/admin_api.hpp"

#include <boost/json.hpp>

#include "api/common/gateway.hpp"
#include "api/common/routes.hpp"
#include "api/native/native_api.hpp"
#include "http/request_context.hpp"

namespace eventfeed::api::native {

namespace {

namespace bhttp = http::bhttp;
namespace json = boost::json;
namespace net = boost::asio;
using core::errc;
using http::request_context;

constexpr std::size_t max_name_length = 200;
constexpr std::size_t max_patterns = 100;

// A JSON array of non-empty strings (at most max_patterns) into `out`; an error naming `key`.
std::optional<core::error> read_patterns(const json::object& body, std::string_view key,
                                         std::vector<std::string>& out) {
  const json::value* v = body.if_contains(key);
  if (!v) return std::nullopt;
  const json::array* a = v->if_array();
  if (!a || a->size() > max_patterns)
    return core::error{errc::bad_request, "'" + std::string(key) +
                                              "' must be an array of at most 100 stream patterns"};
  for (const auto& item : *a) {
    const json::string* s = item.if_string();
    if (!s || s->empty() || s->size() > max_name_length)
      return core::error{errc::bad_request, "'" + std::string(key) +
                                                "' must hold non-empty strings (stream patterns)"};
    out.emplace_back(*s);
  }
  return std::nullopt;
}

// The body of `POST /v1/admin/keys`: {"name": "...", "read": [...], "publish": [...]}.
core::result<common::stored_credential> parse_key_body(std::string_view text) {
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec) return {errc::invalid_json, "body is not valid JSON: " + ec.message()};
  const json::object* body = doc.if_object();
  if (!body) return {errc::invalid_json, "body must be a JSON object"};
  for (const auto& kv : *body) {
    const std::string_view k = kv.key();
    if (k != "name" && k != "read" && k != "publish")
      return {errc::bad_request,
              "unknown field '" + std::string(k) + "' (allowed: name, read, publish)"};
  }
  common::stored_credential c;
  c.kind = "key";
  if (const json::value* name = body->if_contains("name")) {
    const json::string* s = name->if_string();
    if (!s || s->empty() || s->size() > max_name_length)
      return {errc::bad_request, "'name' must be a string of 1 to 200 characters"};
    c.name = std::string(*s);
  }
  if (auto e = read_patterns(*body, "read", c.read)) return std::move(*e);
  if (auto e = read_patterns(*body, "publish", c.publish)) return std::move(*e);
  if (c.read.empty() && c.publish.empty())
    return {errc::bad_request, "the key grants nothing: give it 'read' and/or 'publish' patterns"};
  return c;
}

json::array patterns(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

// What the admin API shows of a stored key: never its digest; its secret only when `secret`
// is given (the create and rotate answers).
json::object render_key(const common::stored_credential& c, const std::string* secret) {
  json::object o;
  o["id"] = c.id;
  o["name"] = c.name;
  o["read"] = patterns(c.read);
  o["publish"] = patterns(c.publish);
  o["created_at"] = c.created_ms;
  if (c.rotated_ms) o["rotated_at"] = c.rotated_ms;
  if (secret) o["secret"] = *secret;
  return o;
}

http::response json_answer(bhttp::status status, const json::object& body) {
  return http::json_response(status, json::serialize(body));
}

class admin_handlers {
 public:
  admin_handlers(feed::engine& f, const common::key_directory& keys,
                 common::credential_store& stored, const other_credentials& others)
      : gateway_(f, keys, errors(), admission(others)), stored_(stored) {}

  net::awaitable<void> create_key(request_context& ctx) {
    if (!admit(ctx)) co_return;
    auto fields = parse_key_body(ctx.req().body());
    if (!fields) co_return ctx.reply(gateway_.fail(ctx, fields.err()));
    auto made = co_await stored_.create(std::move(*fields));
    if (!made) co_return ctx.reply(gateway_.fail(ctx, made.err()));
    co_return ctx.reply(
        json_answer(bhttp::status::created, render_key(made->credential, &made->secret)));
  }

  net::awaitable<void> list_keys(request_context& ctx) {
    if (!admit(ctx)) co_return;
    json::array keys;
    for (const auto& c : stored_.list("key")) keys.emplace_back(render_key(*c, nullptr));
    json::object body;
    body["keys"] = std::move(keys);
    co_return ctx.reply(json_answer(bhttp::status::ok, body));
  }

  net::awaitable<void> get_key(request_context& ctx) {
    if (!admit(ctx)) co_return;
    auto c = stored_.find("key", ctx.param("id"));
    if (!c)
      co_return ctx.reply(
          gateway_.fail(ctx, {errc::not_found, "no stored key with id '" + ctx.param("id") + "'"}));
    co_return ctx.reply(json_answer(bhttp::status::ok, render_key(*c, nullptr)));
  }

  net::awaitable<void> rotate_key(request_context& ctx) {
    if (!admit(ctx)) co_return;
    auto made = co_await stored_.rotate("key", ctx.param("id"));
    if (!made) co_return ctx.reply(gateway_.fail(ctx, made.err()));
    co_return ctx.reply(
        json_answer(bhttp::status::ok, render_key(made->credential, &made->secret)));
  }

  net::awaitable<void> revoke_key(request_context& ctx) {
    if (!admit(ctx)) co_return;
    auto gone = co_await stored_.revoke("key", ctx.param("id"));
    if (!gone) co_return ctx.reply(gateway_.fail(ctx, gone.err()));
    json::object body = render_key(*gone, nullptr);
    body["revoked"] = true;
    co_return ctx.reply(json_answer(bhttp::status::ok, body));
  }

 private:
  // Admits the caller and checks it is an admin key; otherwise answers (401, 403) and false.
  bool admit(request_context& ctx) const {
    auto who = gateway_.admit(ctx);
    if (!who) return false;
    if (!who->entry->admin) {
      ctx.reply(gateway_.fail(ctx, {errc::forbidden,
                                    "this key may not use the admin API (it needs admin = true "
                                    "in its [[keys]] entry)"}));
      return false;
    }
    return true;
  }

  common::gateway gateway_;
  common::credential_store& stored_;
};

}  // namespace

void register_admin_routes(http::router& routes, feed::engine& feed,
                           const common::key_directory& keys, common::credential_store& stored,
                           const other_credentials& others) {
  common::route_binder<admin_handlers> bind(
      routes, std::make_shared<admin_handlers>(feed, keys, stored, others));
  bind.post("/v1/admin/keys", &admin_handlers::create_key)
      .get("/v1/admin/keys", &admin_handlers::list_keys)
      .get("/v1/admin/keys/{id}", &admin_handlers::get_key)
      .post("/v1/admin/keys/{id}/rotate", &admin_handlers::rotate_key)
      .del("/v1/admin/keys/{id}", &admin_handlers::revoke_key);
}

}  // namespace eventfeed::api::native
