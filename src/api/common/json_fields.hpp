// api/common/json_fields.hpp: checking the fields of a published event's `data` for what a
// dialect's clients need, with messages that name the field by its path.
//
// A dialect whose clients read fields of `data` guards its streams (feed::engine::guard_streams)
// with a check built on this: `json_fields` walks one object, records the first problem as
// "'<path>' <what is wrong>" ("'tip.tokens' must be an integer of at least 1", "'created_by.id'
// must be a string"), and later checks do nothing once one has failed. `nested` checks a
// sub-object with the path extended, so messages read the same at any depth.
//
// Thread-safety: a checker is a local of one check; nothing is shared.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace eventfeed::api::common {

class json_fields {
 public:
  // `prefix` is the path of `obj` followed by a dot ("user."), or empty at the root.
  json_fields(const boost::json::object& obj, std::string prefix)
      : obj_(obj), prefix_(std::move(prefix)) {}

  // The field `key`, or null (with "is required" recorded).
  const boost::json::value* find(std::string_view key);
  // The field `key`, or null when it is absent or JSON null (nothing recorded).
  const boost::json::value* optional(std::string_view key) const;

  void string(std::string_view key);
  // A string, when present and not null.
  void optional_string(std::string_view key);
  // A string equal to `expected`.
  void equals(std::string_view key, std::string_view expected);
  void boolean(std::string_view key);
  void one_of(std::string_view key, std::initializer_list<std::string_view> allowed);
  void number(std::string_view key);
  // A JSON integer, or a string of digits (clients differ on ids; both satisfy them).
  void id(std::string_view key);
  void positive_integer(std::string_view key);
  // The sub-object `key`, or nullptr (with the problem recorded).
  const boost::json::object* object(std::string_view key);
  // An object, when present and not null.
  void optional_object(std::string_view key);
  // The field must not be there (the server sets it).
  void absent(std::string_view key, std::string_view why);

  std::string path(std::string_view key) const { return prefix_ + std::string(key); }
  // Records "'<path of key>' <what>" unless a problem is recorded already.
  void fail(std::string_view key, std::string_view what);

  std::optional<std::string> problem;

 private:
  const boost::json::object& obj_;
  std::string prefix_;
};

// Checks the sub-object `key` of `parent` with `check(json_fields&)`, passing the problem up.
template <class Check>
void nested(json_fields& parent, std::string_view key, Check check) {
  if (parent.problem) return;
  const boost::json::object* obj = parent.object(key);
  if (!obj) return;
  json_fields f(*obj, parent.path(key) + ".");
  check(f);
  if (f.problem && !parent.problem) parent.problem = std::move(f.problem);
}

// The same for a sub-object that may be absent or null.
template <class Check>
void nested_optional(json_fields& parent, std::string_view key, Check check) {
  if (parent.problem || !parent.optional(key)) return;
  nested(parent, key, std::move(check));
}

// `data` parsed as a JSON object, or the problem ("'data' must be a JSON object").
std::optional<boost::json::value> parse_object(std::string_view data, std::string& problem);

}  // namespace eventfeed::api::common
