// core/filter.hpp: which events a consumer wants: a set of event types, and predicates on fields
// of the event's `data` (what a Zulip narrow compiles to).
//
// Mechanism. A filter is built once per poll or queue by a dialect, then copied into the hub's
// waiter (its types, predicates and scope are one immutable block shared between copies:
// copying a filter is one reference count, and a filter is one pointer wide, which every parked
// poll pays for twice, in its request and in its waiter), and evaluated by `hub::notify` under a
// shard lock for every parked waiter of a stream on every publish: 10,000 evaluations of one event
// are normal. So evaluation allocates nothing and parses nothing per waiter:
// - the type test is a binary search in a sorted vector;
// - predicates read `parsed_data(ev)`, the event's `data` parsed once per event and cached on it
//   (core/event.hpp), walk their path with object lookups, and compare string views;
// - case-insensitive operands are folded once, at construction, and the field's text is folded
//   character by character while comparing.
//
// An event is accepted when its type is accepted, and either its type lies outside the filter's
// scope (the types the predicates apply to; empty = every type) or every predicate holds. A
// `data` that does not parse (or is not an object) makes every predicate false.
//
// Case folding is ASCII only: 'A'-'Z' fold to 'a'-'z', and every other byte, including each
// byte of a non-ASCII letter, compares exactly ("É" does not match "é").
//
// Thread-safety: a filter is immutable after construction; any thread may evaluate it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/errc.hpp"
#include "core/event.hpp"

namespace eventfeed::core {

enum class field_op : std::uint8_t {
  equals,          // a string equal to the operand
  equals_ci,       // a string equal to the operand, ignoring ASCII case
  has_word_ci,     // ignoring ASCII case, a string equal to the operand or having it as one of
                   // its words (runs of bytes between ASCII whitespace)
  starts_with,     // a string starting with the operand (bytes, case-sensitive)
  array_contains,  // an array with a string element equal to the operand
  array_lacks,     // an array with no string element equal to the operand, or no field at all
};

// A test of the field of `data` at `path` (object keys from `data`'s root; empty = `data`
// itself). The field is *missing* when an object on the path lacks the next key; a path that
// runs into a value that is not an object, or a field of the wrong JSON type for `op`, fails.
// A missing field fails every op but array_lacks, which holds.
struct field_predicate {
  std::vector<std::string> path;
  field_op op = field_op::equals;
  std::string operand;
};

class event_filter {
 public:
  event_filter() = default;  // accepts everything
  explicit event_filter(std::vector<std::string> types);
  // `scope` lists the event types the predicates apply to (empty = every type); events of other
  // types are tested on their type alone. With no predicates, `scope` is ignored. Operands of
  // the case-insensitive ops are stored folded.
  event_filter(std::vector<std::string> types, std::vector<field_predicate> predicates,
               std::vector<std::string> scope = {});

  // True only with no types and no predicates: every event is accepted without looking at it.
  bool accepts_all() const noexcept { return !spec_; }
  // The type test alone: whether events of `type` can pass (every type, if there are no types).
  // An event of such a type may still fail the predicates: use accepts(event) for the verdict.
  bool accepts(std::string_view type) const noexcept;
  // The verdict on one event. Parses the event's data on first use (see data_cache), so it can
  // allocate once per event; running out of memory there terminates.
  bool accepts(const event& ev) const noexcept {
    return !spec_ || (accepts(std::string_view(ev.type)) &&
                      (spec_->predicates.empty() || narrow_accepts(ev)));
  }

  const std::vector<std::string>& types() const noexcept;
  std::span<const field_predicate> predicates() const noexcept;
  std::span<const std::string> scope() const noexcept;
  // Whether the predicates apply to events of `type` (false if there are none).
  bool in_scope(std::string_view type) const noexcept;

 private:
  struct spec {
    std::vector<std::string> types;           // sorted, unique; empty = every type
    std::vector<field_predicate> predicates;  // empty = none
    std::vector<std::string> scope;           // sorted, unique; empty = every type
  };

  bool narrow_accepts(const event& ev) const noexcept;

  std::shared_ptr<const spec> spec_;  // null = accepts everything; shared by copies
};

// Parses a comma-separated list ("tip,follow"). Empty items are rejected; an empty or absent
// list means "every type".
result<event_filter> parse_type_list(std::string_view csv);

// A filter as JSON text, for keeping it with a durable queue:
// {"types":[...],"predicates":[{"path":[...],"op":"equals_ci","operand":"..."}],"scope":[...]},
// and back. Operands are kept as stored (already folded); a round trip gives an equal filter.
std::string filter_to_json(const event_filter& f);
result<event_filter> filter_from_json(std::string_view text);

}  // namespace eventfeed::core
