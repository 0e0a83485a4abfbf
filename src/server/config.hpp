// server/config.hpp: eventfeed.toml, parsed and checked.
//
// Every key is known: an unknown key, a wrong type or an out-of-range value stops start-up
// with a message naming it (`server.threads: must be between 0 and 256`). Secrets may come from
// the environment: a key entry may say `key_env = "NAME"` instead of `key = "..."`.
// See examples/demo.toml and docs/operations.md for every key.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "api/native/native_api.hpp"
#include "core/errc.hpp"
#include "http/server.hpp"
#include "store/store.hpp"

namespace eventfeed::server {

struct key_config {
  std::string name;
  std::string key;
  std::vector<std::string> publish;  // stream patterns
  std::vector<std::string> read;
};

struct config {
  http::server_options http;
  std::string store_backend = "sqlite";  // "sqlite" (durable, the default) or "memory"
  std::filesystem::path data_dir = "./data";
  std::string durability = "normal";  // sqlite: "normal" or "full" (docs/operations.md)
  store::retention_policy retention;
  std::vector<key_config> keys;
  api::native::options native;
  std::chrono::milliseconds shutdown_grace{1500};
  std::chrono::milliseconds tick{50};  // deadline resolution of parked polls
};

// Parses TOML text; `origin` names it in messages (a file path).
core::result<config> parse_config(std::string_view toml_text, std::string_view origin);
core::result<config> load_config(const std::filesystem::path& file);

// Parses "host:port" (IPv6 in brackets) into the server options.
core::result<std::pair<std::string, unsigned short>> parse_listen(std::string_view text);

}  // namespace eventfeed::server
