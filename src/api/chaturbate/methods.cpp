#include "api/chaturbate/methods.hpp"

#include <algorithm>

#include "api/common/json_fields.hpp"

namespace eventfeed::api::chaturbate {

namespace {

using common::json_fields;
using common::nested;

void check_user(json_fields& f) {
  f.string("username");
  f.boolean("inFanclub");
  f.boolean("hasTokens");
  f.boolean("isMod");
  f.one_of("recentTips", {"none", "some", "few", "lots", "tons"});
  f.one_of("gender", {"m", "f", "t", "c"});
}

void check_message(json_fields& f, bool is_private) {
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
  std::string problem;
  const auto v = common::parse_object(data, problem);
  if (!v) return problem;
  json_fields f(v->get_object(), "");
  f.string("broadcaster");
  if (type == "roomSubjectChange") {
    f.string("subject");
    return f.problem;
  }
  nested(f, "user", check_user);
  if (type == "chatMessage" || type == "privateMessage")
    nested(f, "message", [&](json_fields& m) { check_message(m, type == "privateMessage"); });
  if (type == "tip")
    nested(f, "tip", [](json_fields& t) {
      t.positive_integer("tokens");
      t.boolean("isAnon");
      t.string("message");
    });
  if (type == "mediaPurchase")
    nested(f, "media", [](json_fields& m) {
      m.id("id");
      m.one_of("type", {"photos", "video"});
      m.string("name");
      m.number("tokens");
    });
  return f.problem;
}

}  // namespace eventfeed::api::chaturbate
