// api/zulip/narrow.hpp: a register request's `event_types` and `narrow`, as a feed filter.
//
// A narrow is a list of [operator, operand] terms that must all hold for a message event
// (other events are not narrowed), compiled to field predicates on the event's data, which
// carries Zulip's message object under `message` (docs/api/zulip.md):
//   stream|channel  message.display_recipient equals the operand, ignoring case
//   topic           message.subject, lower-cased, equals the operand or has it as a word
//   exact-topic     message.subject equals the operand
//   sender          message.sender_email equals the operand, ignoring case
//   is: private|dm  message.type is "private"; starred, mentioned|alerted: the flag is in
//                   `flags`; unread: "read" is not; resolved: the subject starts with "✔ ";
//                   any other `is` operand matches everything, as Zulip's does
// Other operators are refused ("Operator X not supported."), and `is:followed` too, with
// Zulip's texts. Case folding is ASCII (core/filter.hpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "core/errc.hpp"
#include "core/filter.hpp"

namespace eventfeed::api::zulip {

struct narrow_term {
  std::string op;
  std::string operand;
};

// The terms of a `narrow` parameter's JSON: [["op","operand"], ...] or [{"operator":..,
// "operand":..}, ...]; errors name what is wrong.
core::result<std::vector<narrow_term>> parse_narrow(const boost::json::value& v);

// The filter of a queue: `event_types` (nullopt: every type) and the narrow's predicates,
// scoped to message events.
core::result<core::event_filter> queue_filter(const std::optional<std::vector<std::string>>& types,
                                              const std::vector<narrow_term>& narrow);

}  // namespace eventfeed::api::zulip
