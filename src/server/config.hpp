// server/config.hpp: eventfeed.toml, parsed and checked.
//
// The server reads `[server]`, `[store]` and `[retention]`; every other top-level section
// belongs to a dialect (`[native]` and `[[keys]]` to the native API), which parses it itself
// (api/common/dialect.hpp). Every key is known: an unknown key, a wrong type or an out-of-range
// value stops start-up with a message naming it (`server.threads: must be between 0 and 256`).
// Secrets may come from the environment (`key_env = "NAME"` instead of `key = "..."`).
// See examples/demo.toml and docs/operations.md for every key.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "api/common/dialect.hpp"
#include "core/errc.hpp"
#include "http/server.hpp"
#include "server/dialects.hpp"
#include "store/store.hpp"

namespace eventfeed::server {

struct config {
  http::server_options http;
  // `[server] public_url`: the externally visible base URL, no trailing slash; empty means
  // http:// and the address the server listens on (resolved once it has bound its port).
  std::string public_url;
  std::string store_backend = "sqlite";  // "sqlite" (durable, the default) or "memory"
  std::filesystem::path data_dir = "./data";
  std::string durability = "normal";  // sqlite: "normal" or "full" (docs/operations.md)
  store::retention_policy retention;
  std::chrono::milliseconds shutdown_grace{1500};
  std::chrono::milliseconds tick{50};  // deadline resolution of parked polls
  // The dialects, configured from their sections, in the order they install. Owned: a dialect
  // is installed once, by the app this config is moved into (so a config is move-only).
  std::vector<std::unique_ptr<api::common::dialect>> dialects;
};

// Parses TOML text; `origin` names it in messages (a file path). The dialects are created from
// `registry` and each parses its own sections. An empty text gives the defaults.
core::result<config> parse_config(std::string_view toml_text, std::string_view origin,
                                  const dialect_registry& registry = builtin_dialects());
core::result<config> load_config(const std::filesystem::path& file,
                                 const dialect_registry& registry = builtin_dialects());

// Parses "host:port" (IPv6 in brackets) into the server options.
core::result<std::pair<std::string, unsigned short>> parse_listen(std::string_view text);

// Checks a `public_url`: http or https, a host, no query or fragment; returns it without a
// trailing slash.
core::result<std::string> parse_public_url(std::string_view text);

// The public URL a server listening on `address`:`port` has when none is configured.
std::string default_public_url(const std::string& address, unsigned short port);

}  // namespace eventfeed::server
