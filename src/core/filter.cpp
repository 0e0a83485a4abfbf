#include "core/filter.hpp"

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <optional>

namespace eventfeed::core {

namespace {

namespace json = boost::json;

std::vector<std::string> sorted_unique(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  return items;
}

bool contains_sorted(const std::vector<std::string>& items, std::string_view item) noexcept {
  return std::binary_search(items.begin(), items.end(), item, std::less<>{});
}

constexpr char fold(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
}

constexpr bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_case_insensitive(field_op op) noexcept {
  return op == field_op::equals_ci || op == field_op::has_word_ci;
}

// `text` equals `folded` (already folded) once `text` is folded.
bool equals_folded(std::string_view text, std::string_view folded) noexcept {
  return text.size() == folded.size() && std::equal(text.begin(), text.end(), folded.begin(),
                                                    [](char a, char b) { return fold(a) == b; });
}

bool has_word_folded(std::string_view text, std::string_view folded) noexcept {
  if (equals_folded(text, folded)) return true;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    std::size_t end = i;
    while (end < text.size() && !is_space(text[end])) ++end;
    if (end > i && equals_folded(text.substr(i, end - i), folded)) return true;
    i = end;
  }
  return false;
}

std::string_view view(const json::string& s) noexcept {
  return {s.data(), s.size()};
}

bool array_has(const json::array& items, std::string_view wanted) noexcept {
  return std::any_of(items.begin(), items.end(), [wanted](const json::value& item) {
    const json::string* s = item.if_string();
    return s && view(*s) == wanted;
  });
}

// The field of `data` at `path`; nullptr if it is not there, with `missing` set if an object on
// the way lacks a key (rather than the path running into a non-object).
const json::value* find_field(const json::value& data, const std::vector<std::string>& path,
                              bool& missing) noexcept {
  const json::value* at = &data;
  for (const std::string& key : path) {
    const json::object* object = at->if_object();
    if (!object) return nullptr;
    at = object->if_contains(key);
    if (!at) {
      missing = true;
      return nullptr;
    }
  }
  return at;
}

bool holds(const field_predicate& p, const json::value& data) noexcept {
  bool missing = false;
  const json::value* field = find_field(data, p.path, missing);
  if (!field) return missing && p.op == field_op::array_lacks;
  if (p.op == field_op::array_contains || p.op == field_op::array_lacks) {
    const json::array* items = field->if_array();
    return items && array_has(*items, p.operand) == (p.op == field_op::array_contains);
  }
  const json::string* s = field->if_string();
  if (!s) return false;
  switch (p.op) {
    case field_op::equals:
      return view(*s) == p.operand;
    case field_op::equals_ci:
      return equals_folded(view(*s), p.operand);
    case field_op::has_word_ci:
      return has_word_folded(view(*s), p.operand);
    case field_op::starts_with:
      return view(*s).starts_with(p.operand);
    case field_op::array_contains:
    case field_op::array_lacks:
      break;  // answered above
  }
  return false;
}

}  // namespace

event_filter::event_filter(std::vector<std::string> types)
    : event_filter(std::move(types), {}, {}) {}

event_filter::event_filter(std::vector<std::string> types, std::vector<field_predicate> predicates,
                           std::vector<std::string> scope) {
  if (types.empty() && predicates.empty()) return;
  for (field_predicate& p : predicates) {
    if (is_case_insensitive(p.op)) {
      std::transform(p.operand.begin(), p.operand.end(), p.operand.begin(), fold);
    }
  }
  if (predicates.empty()) scope.clear();
  spec_ = std::make_shared<const spec>(spec{sorted_unique(std::move(types)), std::move(predicates),
                                            sorted_unique(std::move(scope))});
}

bool event_filter::accepts(std::string_view type) const noexcept {
  return !spec_ || spec_->types.empty() || contains_sorted(spec_->types, type);
}

const std::vector<std::string>& event_filter::types() const noexcept {
  static const std::vector<std::string> none;
  return spec_ ? spec_->types : none;
}

std::span<const field_predicate> event_filter::predicates() const noexcept {
  if (!spec_) return {};
  return spec_->predicates;
}

std::span<const std::string> event_filter::scope() const noexcept {
  if (!spec_) return {};
  return spec_->scope;
}

bool event_filter::in_scope(std::string_view type) const noexcept {
  return spec_ && !spec_->predicates.empty() &&
         (spec_->scope.empty() || contains_sorted(spec_->scope, type));
}

bool event_filter::narrow_accepts(const event& ev) const noexcept {
  if (!in_scope(ev.type)) return true;
  const json::value& data = parsed_data(ev);
  if (!data.is_object()) return false;  // did not parse (or is not an object)
  return std::all_of(spec_->predicates.begin(), spec_->predicates.end(),
                     [&data](const field_predicate& p) { return holds(p, data); });
}

result<event_filter> parse_type_list(std::string_view csv) {
  std::vector<std::string> types;
  if (csv.empty()) return event_filter{};
  std::size_t start = 0;
  while (true) {
    auto comma = csv.find(',', start);
    auto item = csv.substr(start, comma == std::string_view::npos ? csv.npos : comma - start);
    if (item.empty()) return {errc::bad_request, "event type list has an empty item"};
    if (item.size() > 200) return {errc::bad_request, "event type is longer than 200 characters"};
    types.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return event_filter{std::move(types)};
}

namespace {

constexpr std::array<std::pair<field_op, std::string_view>, 6> op_names = {{
    {field_op::equals, "equals"},
    {field_op::equals_ci, "equals_ci"},
    {field_op::has_word_ci, "has_word_ci"},
    {field_op::starts_with, "starts_with"},
    {field_op::array_contains, "array_contains"},
    {field_op::array_lacks, "array_lacks"},
}};

json::array strings_json(std::span<const std::string> items) {
  json::array out;
  for (const auto& s : items) out.emplace_back(s);
  return out;
}

// The strings of `v` (an array of strings), or nullopt.
std::optional<std::vector<std::string>> strings_of(const json::value* v) {
  std::vector<std::string> out;
  if (!v) return out;
  const json::array* arr = v->if_array();
  if (!arr) return std::nullopt;
  for (const auto& item : *arr) {
    const json::string* s = item.if_string();
    if (!s) return std::nullopt;
    out.emplace_back(*s);
  }
  return out;
}

}  // namespace

std::string filter_to_json(const event_filter& f) {
  json::array predicates;
  for (const auto& p : f.predicates()) {
    std::string_view op;
    for (const auto& [code, name] : op_names)
      if (code == p.op) op = name;
    predicates.push_back({{"path", strings_json(p.path)}, {"op", op}, {"operand", p.operand}});
  }
  return json::serialize(json::value{{"types", strings_json(f.types())},
                                     {"predicates", std::move(predicates)},
                                     {"scope", strings_json(f.scope())}});
}

result<event_filter> filter_from_json(std::string_view text) {
  const error bad{errc::bad_request, "not a stored filter"};
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  const json::object* obj = ec ? nullptr : v.if_object();
  if (!obj) return bad;
  auto types = strings_of(obj->if_contains("types"));
  auto scope = strings_of(obj->if_contains("scope"));
  if (!types || !scope) return bad;
  std::vector<field_predicate> predicates;
  if (const json::value* ps = obj->if_contains("predicates")) {
    const json::array* arr = ps->if_array();
    if (!arr) return bad;
    for (const auto& item : *arr) {
      const json::object* p = item.if_object();
      const json::value* op = p ? p->if_contains("op") : nullptr;
      const json::value* operand = p ? p->if_contains("operand") : nullptr;
      auto path = strings_of(p ? p->if_contains("path") : nullptr);
      if (!op || !op->is_string() || !operand || !operand->is_string() || !path) return bad;
      field_predicate fp;
      fp.path = std::move(*path);
      fp.operand = std::string(operand->get_string());
      bool known = false;
      for (const auto& [code, name] : op_names)
        if (name == std::string_view(op->get_string())) fp.op = code, known = true;
      if (!known) return bad;
      predicates.push_back(std::move(fp));
    }
  }
  // Operands were stored folded; folding again changes nothing.
  return event_filter(std::move(*types), std::move(predicates), std::move(*scope));
}

}  // namespace eventfeed::core
