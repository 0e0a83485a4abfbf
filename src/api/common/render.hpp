// api/common/render.hpp: rendering an event once per dialect, and joining the cached renderings
// of a poll's events into an answer body.
//
// Each dialect renders an event its own way and caches the text on the event
// (core::render_cache, one slot per dialect: `render_once`); an answer is those texts joined by
// commas inside the dialect's envelope. The body is sized before it is filled, so it is one
// allocation.
#pragma once

#include <string>
#include <vector>

#include "core/event.hpp"

namespace eventfeed::api::common {

// The rendering of `ev` in `form`, cached on the event: built on first use by `build(out)`,
// which appends to a string with room reserved for `overhead` bytes besides the event's type
// and data.
template <class Build>
const std::string& render_once(const core::event& ev, core::render_form form, std::size_t overhead,
                               Build&& build) {
  return ev.cache.get_or_build(form, [&] {
    std::string out;
    out.reserve(overhead + ev.type.size() + ev.data.size());
    build(out);
    return out;
  });
}

// The bytes the joined renderings take (their sizes and the commas between them).
template <class Render>
std::size_t joined_size(const std::vector<core::event_ptr>& events, Render&& render) {
  std::size_t size = events.empty() ? 0 : events.size() - 1;
  for (const auto& ev : events) size += render(*ev).size();
  return size;
}

// Appends the renderings of `events`, comma-separated (a JSON array's elements, without the
// brackets).
template <class Render>
void append_joined(std::string& out, const std::vector<core::event_ptr>& events, Render&& render) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i) out += ',';
    out += render(*events[i]);
  }
}

}  // namespace eventfeed::api::common
