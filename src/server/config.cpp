#include "server/config.hpp"

#include <toml++/toml.h>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "core/cursor.hpp"

namespace eventfeed::server {

namespace {

using core::errc;

struct checker {
  std::string origin;
  std::string error;  // first error wins

  bool fail(std::string_view where, std::string_view what) {
    if (error.empty()) error = origin + ": " + std::string(where) + ": " + std::string(what);
    return false;
  }

  // Rejects keys of `table` outside `allowed`.
  bool only(const toml::table& table, std::string_view where,
            std::initializer_list<std::string_view> allowed) {
    for (const auto& [k, v] : table) {
      bool known = false;
      for (auto a : allowed) known = known || k.str() == a;
      if (!known) {
        std::string full =
            where.empty() ? std::string(k.str()) : std::string(where) + "." + std::string(k.str());
        return fail(full, "unknown key");
      }
    }
    return true;
  }

  template <class T>
  bool get(const toml::table& t, std::string_view key, std::string_view where, T& out) {
    auto node = t.get(key);
    if (!node) return true;
    const std::string full = std::string(where) + "." + std::string(key);
    if constexpr (std::is_same_v<T, std::string>) {
      if (auto v = node->value<std::string>()) return out = *v, true;
      return fail(full, "must be a string");
    } else if constexpr (std::is_same_v<T, bool>) {
      if (auto v = node->value<bool>()) return out = *v, true;
      return fail(full, "must be true or false");
    } else {
      auto v = node->value<std::int64_t>();
      if (!v || !node->is_integer()) return fail(full, "must be an integer");
      out = static_cast<T>(*v);
      return true;
    }
  }

  bool integer(const toml::table& t, std::string_view key, std::string_view where, std::int64_t lo,
               std::int64_t hi, std::int64_t& out) {
    if (!get(t, key, where, out)) return false;
    if (out < lo || out > hi)
      return fail(std::string(where) + "." + std::string(key),
                  "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return true;
  }

  // A duration in seconds, integer or float, within [lo, hi] seconds.
  bool seconds(const toml::table& t, std::string_view key, std::string_view where, double lo,
               double hi, std::chrono::milliseconds& out) {
    auto node = t.get(key);
    if (!node) return true;
    const std::string full = std::string(where) + "." + std::string(key);
    std::optional<double> v;
    if (node->is_integer()) v = static_cast<double>(*node->value<std::int64_t>());
    if (node->is_floating_point()) v = *node->value<double>();
    if (!v) return fail(full, "must be a number of seconds");
    if (*v < lo || *v > hi)
      return fail(full, "must be between " + std::to_string(static_cast<long long>(lo)) + " and " +
                            std::to_string(static_cast<long long>(hi)) + " seconds");
    out = std::chrono::milliseconds(static_cast<std::int64_t>(*v * 1000.0));
    return true;
  }

  bool patterns(const toml::table& t, std::string_view key, std::string_view where,
                std::vector<std::string>& out) {
    auto node = t.get(key);
    if (!node) return true;
    const std::string full = std::string(where) + "." + std::string(key);
    auto* arr = node->as_array();
    if (!arr) return fail(full, "must be an array of stream patterns");
    for (const auto& item : *arr) {
      auto s = item.value<std::string>();
      if (!s || s->empty()) return fail(full, "must be an array of non-empty strings");
      out.push_back(*s);
    }
    return true;
  }
};

bool parse_server(checker& c, const toml::table& t, config& cfg) {
  if (!c.only(t, "server",
              {"listen", "threads", "access_log", "max_header_bytes", "max_body_bytes",
               "idle_timeout", "read_timeout", "write_timeout", "shutdown_grace"}))
    return false;
  std::string listen;
  if (!c.get(t, "listen", "server", listen)) return false;
  if (!listen.empty()) {
    auto hp = parse_listen(listen);
    if (!hp) return c.fail("server.listen", hp.err().message);
    cfg.http.address = hp->first;
    cfg.http.port = hp->second;
  }
  std::int64_t v = cfg.http.threads;
  if (!c.integer(t, "threads", "server", 0, 256, v)) return false;
  cfg.http.threads = static_cast<unsigned>(v);
  if (!c.get(t, "access_log", "server", cfg.http.access_log)) return false;
  v = static_cast<std::int64_t>(cfg.http.max_header_bytes);
  if (!c.integer(t, "max_header_bytes", "server", 1024, 1 << 20, v)) return false;
  cfg.http.max_header_bytes = static_cast<std::size_t>(v);
  v = static_cast<std::int64_t>(cfg.http.max_body_bytes);
  if (!c.integer(t, "max_body_bytes", "server", 1024, 64 << 20, v)) return false;
  cfg.http.max_body_bytes = static_cast<std::size_t>(v);
  return c.seconds(t, "idle_timeout", "server", 1, 3600, cfg.http.idle_timeout) &&
         c.seconds(t, "read_timeout", "server", 1, 3600, cfg.http.read_timeout) &&
         c.seconds(t, "write_timeout", "server", 1, 3600, cfg.http.write_timeout) &&
         c.seconds(t, "shutdown_grace", "server", 0, 60, cfg.shutdown_grace);
}

bool parse_store(checker& c, const toml::table& t, config& cfg) {
  if (!c.only(t, "store", {"backend", "data_dir", "durability"})) return false;
  if (!c.get(t, "backend", "store", cfg.store_backend)) return false;
  if (cfg.store_backend != "memory" && cfg.store_backend != "sqlite")
    return c.fail("store.backend",
                  "must be \"sqlite\" or \"memory\" (got \"" + cfg.store_backend + "\")");
  std::string dir = cfg.data_dir.string();
  if (!c.get(t, "data_dir", "store", dir)) return false;
  if (dir.empty()) return c.fail("store.data_dir", "must not be empty");
  cfg.data_dir = dir;
  if (!c.get(t, "durability", "store", cfg.durability)) return false;
  if (cfg.durability != "normal" && cfg.durability != "full")
    return c.fail("store.durability",
                  "must be \"normal\" or \"full\" (got \"" + cfg.durability + "\")");
  return true;
}

bool parse_retention_limits(checker& c, const toml::table& t, std::string_view where,
                            store::retention_rule& rule) {
  std::int64_t n = static_cast<std::int64_t>(rule.max_events);
  if (!c.integer(t, "max_events", where, 1, std::int64_t{1} << 40, n)) return false;
  rule.max_events = static_cast<std::size_t>(n);
  return c.seconds(t, "max_age", where, 1, 10.0 * 365 * 86400, rule.max_age);
}

bool parse_retention(checker& c, const toml::table& t, config& cfg) {
  if (!c.only(t, "retention", {"max_age", "max_events", "rules"})) return false;
  if (!parse_retention_limits(c, t, "retention", cfg.retention.fallback)) return false;
  auto rules = t.get("rules");
  if (!rules) return true;
  auto* arr = rules->as_array();
  if (!arr) return c.fail("retention.rules", "must be an array of tables ([[retention.rules]])");
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const std::string where = "retention.rules[" + std::to_string(i) + "]";
    auto* rt = (*arr)[i].as_table();
    if (!rt) return c.fail(where, "must be a table");
    if (!c.only(*rt, where, {"streams", "max_age", "max_events"})) return false;
    std::string pattern;
    if (!c.get(*rt, "streams", where, pattern)) return false;
    if (pattern.empty()) return c.fail(where + ".streams", "is required (a stream pattern)");
    store::retention_rule rule = cfg.retention.fallback;
    rule.pattern = core::stream_pattern(pattern);
    if (!parse_retention_limits(c, *rt, where, rule)) return false;
    cfg.retention.rules.push_back(std::move(rule));
  }
  return true;
}

bool parse_keys(checker& c, const toml::node& node, config& cfg) {
  auto* arr = node.as_array();
  if (!arr) return c.fail("keys", "must be an array of tables ([[keys]])");
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const std::string where = "keys[" + std::to_string(i) + "]";
    auto* kt = (*arr)[i].as_table();
    if (!kt) return c.fail(where, "must be a table");
    if (!c.only(*kt, where, {"name", "key", "key_env", "publish", "read"})) return false;
    key_config k;
    std::string env;
    if (!c.get(*kt, "name", where, k.name) || !c.get(*kt, "key", where, k.key) ||
        !c.get(*kt, "key_env", where, env) || !c.patterns(*kt, "publish", where, k.publish) ||
        !c.patterns(*kt, "read", where, k.read))
      return false;
    if (!env.empty()) {
      if (!k.key.empty()) return c.fail(where, "set either 'key' or 'key_env', not both");
      const char* value = std::getenv(env.c_str());
      if (!value || !*value)
        return c.fail(where + ".key_env", "environment variable " + env + " is not set");
      k.key = value;
    }
    if (k.key.size() < 8) return c.fail(where + ".key", "must be at least 8 characters");
    if (k.name.empty()) k.name = "key" + std::to_string(i);
    if (k.publish.empty() && k.read.empty())
      return c.fail(where, "grants nothing: give it 'publish' and/or 'read' stream patterns");
    cfg.keys.push_back(std::move(k));
  }
  return true;
}

bool parse_native(checker& c, const toml::table& t, config& cfg) {
  if (!c.only(t, "native", {"default_timeout", "max_timeout", "max_batch", "max_limit"}))
    return false;
  std::int64_t batch = static_cast<std::int64_t>(cfg.native.max_batch);
  std::int64_t limit = static_cast<std::int64_t>(cfg.native.max_limit);
  if (!c.seconds(t, "default_timeout", "native", 0, 3600, cfg.native.default_timeout) ||
      !c.seconds(t, "max_timeout", "native", 0, 3600, cfg.native.max_timeout) ||
      !c.integer(t, "max_batch", "native", 1, 100'000, batch) ||
      !c.integer(t, "max_limit", "native", 1, 100'000, limit))
    return false;
  cfg.native.max_batch = static_cast<std::size_t>(batch);
  cfg.native.max_limit = static_cast<std::size_t>(limit);
  cfg.native.default_limit = std::min(cfg.native.default_limit, cfg.native.max_limit);
  if (cfg.native.default_timeout > cfg.native.max_timeout)
    return c.fail("native.default_timeout", "must not exceed native.max_timeout");
  return true;
}

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

core::result<config> parse_config(std::string_view toml_text, std::string_view origin) {
  toml::table root;
  try {
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << origin << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return {errc::bad_request, msg.str()};
  }
  config cfg;
  checker c{std::string(origin), {}};
  bool ok = c.only(
      root, "", {"server", "store", "retention", "keys", "native", "zulip", "box", "chaturbate"});
  auto table = [&](std::string_view name) -> const toml::table* {
    auto node = root.get(name);
    if (!node) return nullptr;
    if (!node->is_table()) {
      c.fail(name, "must be a table");
      ok = false;
      return nullptr;
    }
    return node->as_table();
  };
  if (ok)
    if (auto* t = table("server")) ok = parse_server(c, *t, cfg);
  if (ok)
    if (auto* t = table("store")) ok = parse_store(c, *t, cfg);
  if (ok)
    if (auto* t = table("retention")) ok = parse_retention(c, *t, cfg);
  if (ok)
    if (auto* t = table("native")) ok = parse_native(c, *t, cfg);
  if (ok)
    if (auto node = root.get("keys")) ok = parse_keys(c, *node, cfg);
  // The dialect sections are reserved for the dialects; today they only accept `enabled`.
  for (std::string_view dialect : {"zulip", "box", "chaturbate"}) {
    if (!ok) break;
    if (auto* t = table(dialect)) {
      ok = c.only(*t, dialect, {"enabled"});
      bool enabled = false;
      if (ok) ok = c.get(*t, "enabled", dialect, enabled);
      if (ok && enabled)
        ok = c.fail(std::string(dialect) + ".enabled", "this dialect is not available yet");
    }
  }
  if (!ok) return {errc::bad_request, c.error};
  return cfg;
}

core::result<config> load_config(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return {errc::not_found, file.string() + ": cannot open the config file"};
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), file.string());
}

}  // namespace eventfeed::server
