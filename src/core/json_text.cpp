#include "core/json_text.hpp"

#include <boost/json/serialize.hpp>
#include <charconv>

namespace eventfeed::core {

namespace {
template <class Number>
void append_number(std::string& out, Number n) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, ec == std::errc{} ? end : buf);
}
}  // namespace

void append_compact_json(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out += "null";
      break;
    case boost::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case boost::json::kind::int64:
      append_number(out, v.get_int64());
      break;
    case boost::json::kind::uint64:
      append_number(out, v.get_uint64());
      break;
    case boost::json::kind::double_: {
      const auto start = out.size();
      append_number(out, v.get_double());
      // "5" would read back as an integer; keep the value a double ("5.0").
      if (out.find_first_of(".eE", start) == std::string::npos) out += ".0";
      break;
    }
    case boost::json::kind::string:
      out += boost::json::serialize(v.get_string());
      break;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out += ',';
        first = false;
        append_compact_json(out, item);
      }
      out += ']';
      break;
    }
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : v.get_object()) {
        if (!first) out += ',';
        first = false;
        out += boost::json::serialize(boost::json::string_view(key));
        out += ':';
        append_compact_json(out, item);
      }
      out += '}';
      break;
    }
  }
}

}  // namespace eventfeed::core
