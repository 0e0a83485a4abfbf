// api/common/config_table.hpp: reading one table of eventfeed.toml, for the server and for each
// dialect's own section.
//
// Every key is known: a table's reader lists the keys it allows (`only`), and anything else,
// a wrong type or an out-of-range value stops start-up with a message that names the key by
// its full path (`zulip.users[2].api_key: must be a string`). Problems are collected in one
// `config_errors` shared by every table of a document; the first one wins, and every reader
// returns false once it has failed so that parsing stops there.
//
// Secrets may come from the environment: `secret("api_key", "api_key_env", out)` takes either
// `api_key = "..."` or `api_key_env = "NAME"`, never both.
#pragma once

#include <toml++/toml.h>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "feed/rate_limiter.hpp"

namespace eventfeed::api::common {

class config_errors {
 public:
  explicit config_errors(std::string origin) : origin_(std::move(origin)) {}
  // Records "<origin>: <where>: <what>" unless an error is already recorded; returns false.
  bool fail(std::string_view where, std::string_view what);
  bool failed() const noexcept { return !first_.empty(); }
  const std::string& message() const noexcept { return first_; }

 private:
  std::string origin_;
  std::string first_;
};

class config_table {
 public:
  // `where` is the table's path ("" for the document's root, "zulip", "zulip.users[0]").
  config_table(const toml::table& table, std::string where, config_errors& errors)
      : table_(&table), where_(std::move(where)), errors_(&errors) {}

  const std::string& where() const noexcept { return where_; }
  // The full path of `key` in this table.
  std::string path(std::string_view key) const;
  bool has(std::string_view key) const { return table_->contains(key); }
  // Records a problem with `key` (or with the table itself when `key` is empty).
  bool fail(std::string_view key, std::string_view what) const;

  // Refuses keys outside `allowed`.
  bool only(std::initializer_list<std::string_view> allowed) const;

  // Each reader leaves `out` as it was when the key is absent and returns true; false (with the
  // problem recorded) when the value is of the wrong type or out of range.
  bool get(std::string_view key, std::string& out) const;
  bool get(std::string_view key, bool& out) const;
  bool integer(std::string_view key, std::int64_t lo, std::int64_t hi, std::int64_t& out) const;
  template <class Int>
  bool integer(std::string_view key, std::int64_t lo, std::int64_t hi, Int& out) const {
    std::int64_t v = static_cast<std::int64_t>(out);
    if (!integer(key, lo, hi, v)) return false;
    out = static_cast<Int>(v);
    return true;
  }
  // A duration in seconds, integer or float, within [lo, hi] seconds.
  bool seconds(std::string_view key, double lo, double hi, std::chrono::milliseconds& out) const;
  // An array of non-empty strings (appended to `out`).
  bool strings(std::string_view key, std::vector<std::string>& out) const;
  // The value of the environment variable that `env_key` names (`tokens_env = "NAME"`), which
  // must be set and non-empty; `out` unchanged when `env_key` is absent.
  bool env(std::string_view env_key, std::string& out) const;
  // A secret given as `key = "..."` or as `env_key = "NAME"` (the value of that environment
  // variable, which must be set and non-empty); not both.
  bool secret(std::string_view key, std::string_view env_key, std::string& out) const;

  // A dialect's per-credential budget: `rate_limit_per_minute` (requests per window,
  // 0-rate_limit::max_budget, 0 = unlimited) and `rate_limit_window` (seconds, 1-86400); each
  // leaves its part of `out` as it was when absent.
  bool rate_limit(feed::rate_limit& out) const;
  // A required stream name (checked as core::parse_stream_name checks a publish's); `what`
  // completes the message when it is absent: "is required (<what>)".
  bool stream(std::string_view key, std::string_view what, std::string& out) const;

  // A sub-table: nullopt when absent, or (with the problem recorded) when not a table.
  std::optional<config_table> table(std::string_view key) const;
  // An array of tables (`[[name]]`): appended to `out`; absent leaves `out` empty.
  bool tables(std::string_view key, std::vector<config_table>& out) const;
  // Each table of the array `key`, read by `parse(const config_table&, T&)` (which records its
  // problem and returns false) and appended to `out`; stops at the first failure.
  template <class T, class Parse>
  bool parse_tables(std::string_view key, std::vector<T>& out, Parse&& parse) const {
    std::vector<config_table> entries;
    if (!tables(key, entries)) return false;
    for (const auto& e : entries) {
      T item;
      if (!parse(e, item)) return false;
      out.push_back(std::move(item));
    }
    return true;
  }

 private:
  const toml::table* table_;
  std::string where_;
  config_errors* errors_;
};

}  // namespace eventfeed::api::common
