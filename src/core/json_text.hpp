// core/json_text.hpp: compact JSON text of a parsed value, numbers written the way people write
// them. (Boost.JSON 1.81 writes doubles as "5.5E0"; event data is returned to clients as stored,
// so it is stored as "5.5".)
#pragma once

#include <boost/json/value.hpp>
#include <string>

namespace eventfeed::core {

// Appends the compact JSON text of `v` to `out`: no spaces, strings escaped by Boost.JSON,
// doubles in their shortest round-trip form (std::to_chars).
void append_compact_json(std::string& out, const boost::json::value& v);

inline std::string to_compact_json(const boost::json::value& v) {
  std::string out;
  append_compact_json(out, v);
  return out;
}

}  // namespace eventfeed::core
