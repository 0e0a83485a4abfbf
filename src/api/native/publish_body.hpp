// api/native/publish_body.hpp: the bodies of the native API's publish requests.
#pragma once

#include <string_view>
#include <vector>

#include "core/errc.hpp"
#include "core/publish.hpp"

namespace eventfeed::api::native {

inline constexpr std::size_t default_max_batch = 1000;
using core::max_type_length;

// Body of POST /v1/streams/{stream}/events: either {"type", "data"} or {"events": [{"type",
// "data"}, ...]} with 1..max_batch items. `stream` must already be validated.
core::result<std::vector<core::new_event>> parse_stream_publish(
    std::string_view stream, std::string_view body, std::size_t max_batch = default_max_batch);

// Body of POST /v1/events: {"events": [{"stream", "type", "data"}, ...]} with 1..max_batch items.
core::result<std::vector<core::new_event>> parse_multi_publish(
    std::string_view body, std::size_t max_batch = default_max_batch);

}  // namespace eventfeed::api::native
