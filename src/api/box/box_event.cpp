#include "api/box/box_event.hpp"

#include <array>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdio>
#include <ctime>
#include <utility>

#include "api/common/json_fields.hpp"
#include "core/json_text.hpp"
#include "core/siphash.hpp"

namespace eventfeed::api::box {

namespace json = boost::json;

namespace {

// The user event types of Box's tables that appear in all three streams (guide "for-user"):
// the ones that may change the file tree. Types only in `all` (comments, downloads, previews,
// tasks, shared links, tags, ...) and any type eventfeed does not know are `all` only.
const std::vector<std::string>& tree_changing_types() {
  static const std::vector<std::string> types = {"ITEM_CREATE",
                                                 "ITEM_UPLOAD",
                                                 "ITEM_MOVE",
                                                 "ITEM_COPY",
                                                 "LOCK_CREATE",
                                                 "LOCK_DESTROY",
                                                 "ITEM_TRASH",
                                                 "ITEM_UNDELETE_VIA_TRASH",
                                                 "COLLAB_ADD_COLLABORATOR",
                                                 "COLLAB_ROLE_CHANGE",
                                                 "COLLAB_INVITE_COLLABORATOR",
                                                 "COLLAB_REMOVE_COLLABORATOR",
                                                 "ITEM_SYNC",
                                                 "ITEM_UNSYNC",
                                                 "ITEM_RENAME",
                                                 "ITEM_MAKE_CURRENT_VERSION",
                                                 "GROUP_ADD_USER",
                                                 "GROUP_REMOVE_USER"};
  return types;
}

bool digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

// YYYY-MM-DDTHH:MM:SS, optional fraction, then Z or +HH:MM / -HH:MM.
bool is_iso8601(std::string_view s) {
  if (s.size() < 20) return false;
  auto at = [&](std::size_t i, std::size_t n) { return digits(s.substr(i, n)); };
  if (!at(0, 4) || s[4] != '-' || !at(5, 2) || s[7] != '-' || !at(8, 2) || s[10] != 'T' ||
      !at(11, 2) || s[13] != ':' || !at(14, 2) || s[16] != ':' || !at(17, 2))
    return false;
  std::size_t i = 19;
  if (s[i] == '.') {
    const std::size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
  }
  const std::string_view zone = s.substr(i);
  if (zone == "Z") return true;
  return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && digits(zone.substr(1, 2)) &&
         zone[3] == ':' && digits(zone.substr(4, 2));
}

void check_time(common::json_fields& f, const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  if (!v || v->is_null()) return;
  const json::string* s = v->if_string();
  if (!s || !is_iso8601(*s))
    f.fail(key, "must be an ISO 8601 date-time with an offset (2026-01-02T03:04:05+00:00)");
}

void check_user(common::json_fields& u) {
  u.equals("type", "user");
  u.string("id");
  u.optional_string("name");
  u.optional_string("login");
}

bool is_string(const json::value* v, std::string_view text) {
  const json::string* s = v ? v->if_string() : nullptr;
  return s && std::string_view(*s) == text;
}

// A file, folder, user or app item ({type, id}; an app item also needs app_item_type); an
// enterprise event source ({item_type, item_id}; of a file or folder also item_name); or any
// other object (the SDKs keep it as a generic source). The generated SDKs (box-node-sdk 10,
// box-typescript-sdk-gen) pick the schema by these fields and throw when a required one is
// missing or not a string.
void check_source(common::json_fields& s) {
  if (const json::value* type = s.optional("type")) {
    s.string("type");
    s.string("id");
    if (is_string(type, "app_item")) s.string("app_item_type");
  } else if (const json::value* item_type = s.optional("item_type")) {
    s.string("item_type");
    s.string("item_id");
    if (is_string(item_type, "file") || is_string(item_type, "folder")) s.string("item_name");
  }
}

// The fields eventfeed writes itself, in Box's order; the rest of `data` follows them.
constexpr std::array<std::string_view, 9> own_fields = {
    "type",       "event_id", "event_type", "created_at",        "recorded_at",
    "created_by", "source",   "session_id", "additional_details"};

}  // namespace

std::optional<stream_type> parse_stream_type(std::string_view text) noexcept {
  if (text == "all") return stream_type::all;
  if (text == "changes") return stream_type::changes;
  if (text == "sync") return stream_type::sync;
  return std::nullopt;
}

std::string_view to_string(stream_type type) noexcept {
  static constexpr std::array<std::string_view, 3> names = {"all", "changes", "sync"};
  return names[static_cast<std::size_t>(type)];
}

const core::event_filter& filter_for(stream_type type) {
  static const core::event_filter all;
  static const core::event_filter changes(tree_changing_types());
  return type == stream_type::all ? all : changes;
}

core::result<core::cursor> parse_stream_position(const std::optional<std::string>& text) {
  if (!text || text->empty() || *text == "0") return core::cursor::oldest();
  if (*text == "now") return core::cursor::now();
  std::uint64_t given = 0;
  if (!core::parse_u64(*text, given))
    return core::error{core::errc::bad_request,
                       "'stream_position' must be 'now', 0 or a next_stream_position"};
  if (given <= position_offset) return core::cursor::oldest();
  return core::cursor::after_position(given - position_offset);
}

std::string iso8601(std::int64_t wall_ms) {
  const std::time_t seconds = static_cast<std::time_t>(wall_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char out[64];  // room for any int the fields could hold
  std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d+00:00", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return out;
}

std::string derived_event_id(const core::event& ev) {
  // A fixed key: the id must be the same after a restart. It is not a secret; ids only need
  // to be distinct and stable.
  static constexpr core::siphash_key key = {0x626f782d6576656eULL, 0x742d69642d763100ULL};
  return hash_hex(key, ev.stream + '\n' + std::to_string(ev.pos));
}

std::string hash_hex(const core::siphash_key& key, std::string_view input) {
  const std::uint64_t halves[2] = {core::siphash24(key, input),
                                   core::siphash24({key[1], key[0]}, input)};
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (std::size_t i = 0; i < 32; ++i) out[i] = hex[(halves[i / 16] >> (60 - 4 * (i % 16))) & 0xf];
  return out;
}

const std::string& render_event(const core::event& ev) {
  return ev.cache.get_or_build(core::render_form::box, [&] {
    static const json::object no_fields;
    const json::object* data = core::parsed_data(ev).if_object();
    if (!data) data = &no_fields;
    // A given value only of the type the SDKs expect: an event stored before its stream had a
    // Box token was not checked, and one wrong type makes an SDK throw on every page.
    auto given = [&](std::string_view key, json::kind kind) -> const json::value* {
      const json::value* v = data->if_contains(key);
      return v && v->kind() == kind ? v : nullptr;
    };
    json::object out;
    out.reserve(own_fields.size() + data->size());
    out["type"] = "event";
    const json::value* id = given("event_id", json::kind::string);
    out["event_id"] = id ? *id : json::value(derived_event_id(ev));
    out["event_type"] = ev.type;
    const json::value* created = given("created_at", json::kind::string);
    out["created_at"] = created ? *created : json::value(iso8601(ev.time_ms));
    const json::value* recorded = given("recorded_at", json::kind::string);
    out["recorded_at"] = recorded ? *recorded : json::value(iso8601(ev.time_ms));
    using field = std::pair<std::string_view, json::kind>;
    for (auto [key, kind] :
         {field{"created_by", json::kind::object}, field{"source", json::kind::object},
          field{"session_id", json::kind::string},
          field{"additional_details", json::kind::object}}) {
      const json::value* v = given(key, kind);
      out[key] = v ? *v : json::value(nullptr);
    }
    for (const auto& [key, value] : *data)
      if (std::find(own_fields.begin(), own_fields.end(), std::string_view(key)) ==
          own_fields.end())
        out[key] = value;
    return core::to_compact_json(out);
  });
}

std::optional<std::string> check_event(std::string_view type, std::string_view data) {
  std::string problem;
  const auto v = common::parse_object(data, problem);
  if (!v) return problem;
  const json::object& obj = v->get_object();
  common::json_fields f(obj, "");
  if (f.optional("type")) f.equals("type", "event");
  if (f.optional("event_type")) f.equals("event_type", type);
  if (f.optional("event_id")) {
    f.string("event_id");
    if (const json::string* s = obj.at("event_id").if_string(); s && s->empty())
      f.fail("event_id", "must not be empty");
  }
  check_time(f, obj, "created_at");
  check_time(f, obj, "recorded_at");
  common::nested(f, "created_by", check_user);
  if (f.problem) return f.problem;
  if (const json::string* id = obj.at("created_by").at("id").if_string(); id && id->empty())
    return "'created_by.id' must not be empty";
  common::nested_optional(f, "source", check_source);
  f.optional_string("session_id");
  f.optional_object("additional_details");
  return f.problem;
}

}  // namespace eventfeed::api::box
