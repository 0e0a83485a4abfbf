#include "api/zulip/narrow.hpp"

namespace eventfeed::api::zulip {

namespace json = boost::json;

core::result<std::vector<narrow_term>> parse_narrow(const json::value& v) {
  const core::error bad{core::errc::bad_request,
                        "narrow must be a list of [operator, operand] pairs"};
  const json::array* terms = v.if_array();
  if (!terms) return bad;
  std::vector<narrow_term> out;
  for (const auto& t : *terms) {
    const json::value* op = nullptr;
    const json::value* operand = nullptr;
    if (const json::array* pair = t.if_array(); pair && pair->size() == 2) {
      op = &(*pair)[0];
      operand = &(*pair)[1];
    } else if (const json::object* obj = t.if_object()) {
      op = obj->if_contains("operator");
      operand = obj->if_contains("operand");
    }
    if (!op || !operand || !op->is_string() || !operand->is_string()) return bad;
    out.push_back({std::string(op->get_string()), std::string(operand->get_string())});
  }
  return out;
}

core::result<core::event_filter> queue_filter(const std::optional<std::vector<std::string>>& types,
                                              const std::vector<narrow_term>& narrow) {
  using core::field_op;
  std::vector<core::field_predicate> predicates;
  auto message = [](std::string field) {
    return std::vector<std::string>{"message", std::move(field)};
  };
  for (const auto& t : narrow) {
    if (t.op == "stream" || t.op == "channel") {
      predicates.push_back({message("display_recipient"), field_op::equals_ci, t.operand});
    } else if (t.op == "topic") {
      predicates.push_back({message("subject"), field_op::has_word_ci, t.operand});
    } else if (t.op == "exact-topic") {
      predicates.push_back({message("subject"), field_op::equals, t.operand});
    } else if (t.op == "sender") {
      predicates.push_back({message("sender_email"), field_op::equals_ci, t.operand});
    } else if (t.op == "is") {
      if (t.operand == "private" || t.operand == "dm")
        predicates.push_back({message("type"), field_op::equals, "private"});
      else if (t.operand == "starred")
        predicates.push_back({{"flags"}, field_op::array_contains, "starred"});
      else if (t.operand == "mentioned" || t.operand == "alerted")
        predicates.push_back({{"flags"}, field_op::array_contains, "mentioned"});
      else if (t.operand == "unread")
        predicates.push_back({{"flags"}, field_op::array_lacks, "read"});
      else if (t.operand == "resolved")
        predicates.push_back({message("subject"), field_op::starts_with, "\xE2\x9C\x94 "});
      else if (t.operand == "followed")
        return core::error{core::errc::bad_request, "Operand followed not supported."};
      // Any other `is` operand matches every message, as Zulip's narrow does.
    } else {
      return core::error{core::errc::bad_request, "Operator " + t.op + " not supported."};
    }
  }
  std::vector<std::string> type_list;
  if (types) type_list = *types;
  // An empty list asks for no type at all: "" is a type no event has (a publish needs one).
  if (types && types->empty()) type_list = {""};
  return core::event_filter(std::move(type_list), std::move(predicates), {"message"});
}

}  // namespace eventfeed::api::zulip
