// core/publish.hpp: the events a publisher hands us, before the store gives them positions,
// and the parsers of the native publish bodies.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/errc.hpp"

namespace eventfeed::core {

inline constexpr std::size_t default_max_batch = 1000;
inline constexpr std::size_t max_type_length = 200;

struct new_event {
  std::string stream;
  std::string type;
  std::string data;  // a JSON object as compact text; "{}" when the publisher gave none
};

// Body of POST /v1/streams/{stream}/events: either {"type", "data"} or {"events": [{"type",
// "data"}, ...]} with 1..max_batch items. `stream` must already be validated.
result<std::vector<new_event>> parse_stream_publish(std::string_view stream, std::string_view body,
                                                    std::size_t max_batch = default_max_batch);

// Body of POST /v1/events: {"events": [{"stream", "type", "data"}, ...]} with 1..max_batch items.
result<std::vector<new_event>> parse_multi_publish(std::string_view body,
                                                   std::size_t max_batch = default_max_batch);

}  // namespace eventfeed::core
