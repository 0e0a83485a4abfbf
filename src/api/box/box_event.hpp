// api/box/box_event.hpp: Box's view of the event log: stream types, stream positions, and the
// Box event object each published event is rendered as (docs/api/box.md;
// ../shared/spec/box.md sections 3 and 5).
//
// - Stream types: `all` (every event), `changes` and `sync` (the event types of Box's tables
//   that may change the file tree; eventfeed has no synced folders, so `sync` is `changes`).
// - Positions: `next_stream_position` is the store position plus `position_offset`, so it is
//   never 0 (the legacy Node SDK takes 0 for "nothing") and stays below 2^53 (JavaScript
//   numbers, Java's asLong). A position the server never handed out (below the offset) reads
//   from the oldest retained event, like `0`.
// - Events: a publisher puts the event type in the event's `type` and the Box fields in `data`
//   (`created_by`, `source`, `session_id`, `additional_details`, optionally `created_at` and
//   `event_id`); eventfeed adds `type`, `event_type`, `recorded_at` and, when not given,
//   `event_id` (stable: derived from the stream and the position) and `created_at` (the time the
//   event was stored). A Box stream refuses data the SDKs cannot read (check_event).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/cursor.hpp"
#include "core/errc.hpp"
#include "core/event.hpp"
#include "core/filter.hpp"
#include "core/publish.hpp"
#include "core/siphash.hpp"

namespace eventfeed::api::box {

enum class stream_type : std::uint8_t { all, changes, sync };

// "all", "changes", "sync"; nullopt for anything else (admin_logs* included).
std::optional<stream_type> parse_stream_type(std::string_view text) noexcept;
std::string_view to_string(stream_type type) noexcept;
// The events a stream type shows: everything for `all`, the tree-changing types otherwise.
const core::event_filter& filter_for(stream_type type);

// next_stream_position = store position + position_offset.
inline constexpr std::uint64_t position_offset = 1'000'000'000'000;
inline std::uint64_t to_stream_position(core::position p) noexcept {
  return p + position_offset;
}
// `stream_position` as a cursor: absent, empty or "0" -> oldest; "now" -> now; digits ->
// after that position (oldest below the offset). errc::bad_request for anything else.
core::result<core::cursor> parse_stream_position(const std::optional<std::string>& text);

// "2026-01-02T03:04:05+00:00": ISO 8601 with an offset, as Box writes its times.
std::string iso8601(std::int64_t wall_ms);
// The event id eventfeed gives an event whose data has none: 32 hex digits, a hash of the
// stream and the position, the same on every delivery and across restarts.
std::string derived_event_id(const core::event& ev);

// 32 hex digits of keyed hash of `input` (two SipHash-2-4 values, the key's halves swapped for
// the second): event ids, and the realtime channels' ids.
std::string hash_hex(const core::siphash_key& key, std::string_view input);

// The Box event object, cached on the event (core::render_form::box).
const std::string& render_event(const core::event& ev);

// Nothing when `data` is fit for a Box event of type `type`, else what is wrong, naming the
// field ("'created_by.id' must be a string").
std::optional<std::string> check_event(std::string_view type, std::string_view data);
inline std::optional<std::string> check_event(const core::new_event& e) {
  return check_event(e.type, e.data);
}

}  // namespace eventfeed::api::box
