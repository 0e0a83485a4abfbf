// core/publish.hpp: an event as a publisher hands it to the feed, before the store gives it a
// position and a time. Each dialect that accepts publishes parses its own bodies into these
// (api/native/publish_body.hpp for the native API).
#pragma once

#include <string>

namespace eventfeed::core {

inline constexpr std::size_t max_type_length = 200;

struct new_event {
  std::string stream;
  std::string type;
  std::string data;  // a JSON object as compact text; "{}" when the publisher gave none
};

}  // namespace eventfeed::core
