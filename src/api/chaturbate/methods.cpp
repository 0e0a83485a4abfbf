#include "api/chaturbate/methods.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <initializer_list>

namespace eventfeed::api::chaturbate {

namespace json = boost::json;

namespace {

// Checks one object's fields, collecting the first problem with the field's full path.
class fields {
 public:
  fields(const json::object& obj, std::string prefix) : obj_(obj), prefix_(std::move(prefix)) {}

  const json::value* find(std::string_view key) {
    const json::value* v = obj_.if_contains(key);
    if (!v) fail(key, "is required");
    return v;
  }
  void string(std::string_view key) {
    if (auto* v = find(key); v && !v->is_string()) fail(key, "must be a string");
  }
  void boolean(std::string_view key) {
    if (auto* v = find(key); v && !v->is_bool()) fail(key, "must be true or false");
  }
  void one_of(std::string_view key, std::initializer_list<std::string_view> allowed) {
    auto* v = find(key);
    if (!v) return;
    const json::string* s = v->if_string();
    if (s && std::find(allowed.begin(), allowed.end(), std::string_view(*s)) != allowed.end())
      return;
    std::string list;
    for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    fail(key, "must be one of " + list);
  }
  void number(std::string_view key) {
    if (auto* v = find(key); v && !v->is_number()) fail(key, "must be a number");
  }
  // A JSON integer, or a string of digits (clients differ on media ids; both satisfy them).
  void id(std::string_view key) {
    auto* v = find(key);
    if (!v) return;
    if (v->is_int64() || v->is_uint64()) return;
    if (const json::string* s = v->if_string();
        s && !s->empty() &&
        std::all_of(s->begin(), s->end(), [](char c) { return c >= '0' && c <= '9'; }))
      return;
    fail(key, "must be an integer or a string of digits");
  }
  void positive_integer(std::string_view key) {
    auto* v = find(key);
    if (!v) return;
    const bool ok =
        (v->is_int64() && v->get_int64() >= 1) || (v->is_uint64() && v->get_uint64() >= 1);
    if (!ok) fail(key, "must be an integer of at least 1");
  }
  // The sub-object `key`, or nullptr (with the problem recorded).
  const json::object* object(std::string_view key) {
    auto* v = find(key);
    if (!v) return nullptr;
    if (!v->is_object()) {
      fail(key, "must be an object");
      return nullptr;
    }
    return &v->get_object();
  }
  std::string path(std::string_view key) const { return prefix_ + std::string(key); }

  std::optional<std::string> problem;

 private:
  void fail(std::string_view key, std::string_view what) {
    if (!problem) problem = "'" + path(key) + "' " + std::string(what);
  }
  const json::object& obj_;
  std::string prefix_;
};

// Checks the sub-object `key` of `parent` with `check`, passing the problem up.
template <class Check>
void nested(fields& parent, std::string_view key, Check check) {
  if (parent.problem) return;
  const json::object* obj = parent.object(key);
  if (!obj) return;
  fields f(*obj, parent.path(key) + ".");
  check(f);
  if (f.problem && !parent.problem) parent.problem = std::move(f.problem);
}

void check_user(fields& f) {
  f.string("username");
  f.boolean("inFanclub");
  f.boolean("hasTokens");
  f.boolean("isMod");
  f.one_of("recentTips", {"none", "some", "few", "lots", "tons"});
  f.one_of("gender", {"m", "f", "t", "c"});
}

void check_message(fields& f, bool is_private) {
  f.string("color");
  f.string("message");
  f.string("font");
  if (is_private) {
    f.string("fromUser");
    f.string("toUser");
  }
}

}  // namespace

bool is_method(std::string_view type) noexcept {
  return std::find(methods.begin(), methods.end(), type) != methods.end();
}

std::optional<std::string> check_event(std::string_view type, std::string_view data) {
  if (!is_method(type)) {
    std::string list;
    for (auto m : methods) list += (list.empty() ? "" : ", ") + std::string(m);
    return "the type must be one of the feed's methods (" + list + ")";
  }
  boost::system::error_code ec;
  const json::value v = json::parse(data, ec);
  if (ec || !v.is_object()) return "'data' must be a JSON object";
  fields f(v.get_object(), "");
  f.string("broadcaster");
  if (type == "roomSubjectChange") {
    f.string("subject");
    return f.problem;
  }
  nested(f, "user", check_user);
  if (type == "chatMessage" || type == "privateMessage")
    nested(f, "message", [&](fields& m) { check_message(m, type == "privateMessage"); });
  if (type == "tip")
    nested(f, "tip", [](fields& t) {
      t.positive_integer("tokens");
      t.boolean("isAnon");
      t.string("message");
    });
  if (type == "mediaPurchase")
    nested(f, "media", [](fields& m) {
      m.id("id");
      m.one_of("type", {"photos", "video"});
      m.string("name");
      m.number("tokens");
    });
  return f.problem;
}

}  // namespace eventfeed::api::chaturbate
