#include "server/config.hpp"

#include <toml++/toml.h>
#include <boost/asio/ip/address.hpp>
#include <fstream>
#include <sstream>

#include "api/common/config_table.hpp"
#include "core/cursor.hpp"

namespace eventfeed::server {

namespace {

using api::common::config_table;
using core::errc;

bool parse_server(const config_table& t, config& cfg) {
  if (!t.only({"listen", "public_url", "threads", "access_log", "max_header_bytes",
               "max_body_bytes", "idle_timeout", "read_timeout", "write_timeout",
               "shutdown_grace"}))
    return false;
  std::string listen;
  if (!t.get("listen", listen)) return false;
  if (!listen.empty()) {
    auto hp = parse_listen(listen);
    if (!hp) return t.fail("listen", hp.err().message);
    cfg.http.address = hp->first;
    cfg.http.port = hp->second;
  }
  std::string url;
  if (!t.get("public_url", url)) return false;
  if (!url.empty()) {
    auto parsed = parse_public_url(url);
    if (!parsed) return t.fail("public_url", parsed.err().message);
    cfg.public_url = std::move(*parsed);
  }
  return t.integer("threads", 0, 256, cfg.http.threads) &&
         t.get("access_log", cfg.http.access_log) &&
         t.integer("max_header_bytes", 1024, 1 << 20, cfg.http.max_header_bytes) &&
         t.integer("max_body_bytes", 1024, 64 << 20, cfg.http.max_body_bytes) &&
         t.seconds("idle_timeout", 1, 3600, cfg.http.idle_timeout) &&
         t.seconds("read_timeout", 1, 3600, cfg.http.read_timeout) &&
         t.seconds("write_timeout", 1, 3600, cfg.http.write_timeout) &&
         t.seconds("shutdown_grace", 0, 60, cfg.shutdown_grace);
}

bool parse_store(const config_table& t, config& cfg) {
  if (!t.only({"backend", "data_dir", "durability"})) return false;
  if (!t.get("backend", cfg.store_backend)) return false;
  if (cfg.store_backend != "memory" && cfg.store_backend != "sqlite")
    return t.fail("backend",
                  "must be \"sqlite\" or \"memory\" (got \"" + cfg.store_backend + "\")");
  std::string dir = cfg.data_dir.string();
  if (!t.get("data_dir", dir)) return false;
  if (dir.empty()) return t.fail("data_dir", "must not be empty");
  cfg.data_dir = dir;
  if (!t.get("durability", cfg.durability)) return false;
  if (cfg.durability != "normal" && cfg.durability != "full")
    return t.fail("durability", "must be \"normal\" or \"full\" (got \"" + cfg.durability + "\")");
  return true;
}

bool parse_retention_limits(const config_table& t, store::retention_rule& rule) {
  return t.integer("max_events", 1, std::int64_t{1} << 40, rule.max_events) &&
         t.seconds("max_age", 1, 10.0 * 365 * 86400, rule.max_age);
}

bool parse_retention(const config_table& t, config& cfg) {
  if (!t.only({"max_age", "max_events", "rules"})) return false;
  if (!parse_retention_limits(t, cfg.retention.fallback)) return false;
  std::vector<config_table> rules;
  if (!t.tables("rules", rules)) return false;
  for (const auto& rt : rules) {
    if (!rt.only({"streams", "max_age", "max_events"})) return false;
    std::string pattern;
    if (!rt.get("streams", pattern)) return false;
    if (pattern.empty()) return rt.fail("streams", "is required (a stream pattern)");
    store::retention_rule rule = cfg.retention.fallback;
    rule.pattern = core::stream_pattern(pattern);
    if (!parse_retention_limits(rt, rule)) return false;
    cfg.retention.rules.push_back(std::move(rule));
  }
  return true;
}

// The sections of the server itself, each with its parser.
struct server_section {
  std::string_view name;
  bool (*parse)(const config_table&, config&);
};
constexpr server_section server_sections[] = {
    {"server", parse_server}, {"store", parse_store}, {"retention", parse_retention}};

}  // namespace

core::result<std::pair<std::string, unsigned short>> parse_listen(std::string_view text) {
  std::string host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return {errc::bad_request, "must be host:port, e.g. 127.0.0.1:8080 or [::1]:8080"};
    host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
      return {errc::bad_request, "must be host:port, e.g. 127.0.0.1:8080"};
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  std::uint64_t port = 0;
  if (!core::parse_u64(port_text, port) || port > 65535)
    return {errc::bad_request, "port must be a number from 0 to 65535"};
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  if (ec) return {errc::bad_request, "'" + host + "' is not an IP address"};
  return std::pair{host, static_cast<unsigned short>(port)};
}

core::result<std::string> parse_public_url(std::string_view text) {
  const core::error bad{errc::bad_request,
                        "must be an absolute http:// or https:// URL without a query, e.g. "
                        "https://events.example.com"};
  std::string_view rest = text;
  if (rest.starts_with("https://"))
    rest.remove_prefix(8);
  else if (rest.starts_with("http://"))
    rest.remove_prefix(7);
  else
    return bad;
  const auto host_end = rest.find('/');
  const std::string_view host = rest.substr(0, host_end);
  if (host.empty() || text.find_first_of("?# \t") != std::string_view::npos) return bad;
  std::string out(text);
  while (out.back() == '/') out.pop_back();
  return out;
}

std::string default_public_url(const std::string& address, unsigned short port) {
  const bool v6 = address.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

core::result<config> parse_config(std::string_view toml_text, std::string_view origin,
                                  const dialect_registry& registry) {
  toml::table doc;
  try {
    doc = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << origin << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return {errc::bad_request, msg.str()};
  }
  config cfg;
  api::common::config_errors errors{std::string(origin)};
  const config_table root(doc, "", errors);
  for (const auto& make : registry.factories) cfg.dialects.push_back(make());

  // Every top-level key belongs to the server or to one dialect.
  for (const auto& [key, value] : doc) {
    bool owned = false;
    for (const auto& s : server_sections) owned = owned || key.str() == s.name;
    for (const auto& d : cfg.dialects)
      for (const auto& s : d->sections()) owned = owned || key.str() == s;
    if (!owned) return {errc::bad_request, (root.fail(key.str(), "unknown key"), errors.message())};
  }
  for (const auto& s : server_sections) {
    if (auto t = root.table(s.name)) {
      if (!s.parse(*t, cfg)) break;
    }
    if (errors.failed()) break;
  }
  for (const auto& d : cfg.dialects) {
    if (errors.failed()) break;
    if (!d->configure(root) && !errors.failed())
      errors.fail(d->name(), "the dialect refused its configuration");
  }
  if (errors.failed()) return {errc::bad_request, errors.message()};
  return cfg;
}

core::result<config> load_config(const std::filesystem::path& file,
                                 const dialect_registry& registry) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return {errc::not_found, file.string() + ": cannot open the config file"};
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), file.string(), registry);
}

}  // namespace eventfeed::server
