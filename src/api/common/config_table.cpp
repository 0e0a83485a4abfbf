#include "api/common/config_table.hpp"

#include <cstdlib>

#include "core/stream_name.hpp"

namespace eventfeed::api::common {

bool config_errors::fail(std::string_view where, std::string_view what) {
  if (first_.empty()) first_ = origin_ + ": " + std::string(where) + ": " + std::string(what);
  return false;
}

std::string config_table::path(std::string_view key) const {
  if (where_.empty()) return std::string(key);
  if (key.empty()) return where_;
  return where_ + "." + std::string(key);
}

bool config_table::fail(std::string_view key, std::string_view what) const {
  return errors_->fail(path(key), what);
}

bool config_table::only(std::initializer_list<std::string_view> allowed) const {
  for (const auto& [k, v] : *table_) {
    bool known = false;
    for (auto a : allowed) known = known || k.str() == a;
    if (!known) return fail(k.str(), "unknown key");
  }
  return true;
}

bool config_table::get(std::string_view key, std::string& out) const {
  auto node = table_->get(key);
  if (!node) return true;
  if (auto v = node->value<std::string>(); v && node->is_string()) return out = *v, true;
  return fail(key, "must be a string");
}

bool config_table::get(std::string_view key, bool& out) const {
  auto node = table_->get(key);
  if (!node) return true;
  if (auto v = node->value<bool>(); v && node->is_boolean()) return out = *v, true;
  return fail(key, "must be true or false");
}

bool config_table::integer(std::string_view key, std::int64_t lo, std::int64_t hi,
                           std::int64_t& out) const {
  auto node = table_->get(key);
  if (!node) return true;
  auto v = node->value<std::int64_t>();
  if (!v || !node->is_integer()) return fail(key, "must be an integer");
  if (*v < lo || *v > hi)
    return fail(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  out = *v;
  return true;
}

bool config_table::seconds(std::string_view key, double lo, double hi,
                           std::chrono::milliseconds& out) const {
  auto node = table_->get(key);
  if (!node) return true;
  std::optional<double> v;
  if (node->is_integer()) v = static_cast<double>(*node->value<std::int64_t>());
  if (node->is_floating_point()) v = *node->value<double>();
  if (!v) return fail(key, "must be a number of seconds");
  if (*v < lo || *v > hi)
    return fail(key, "must be between " + std::to_string(static_cast<long long>(lo)) + " and " +
                         std::to_string(static_cast<long long>(hi)) + " seconds");
  out = std::chrono::milliseconds(static_cast<std::int64_t>(*v * 1000.0));
  return true;
}

bool config_table::strings(std::string_view key, std::vector<std::string>& out) const {
  auto node = table_->get(key);
  if (!node) return true;
  auto* arr = node->as_array();
  if (!arr) return fail(key, "must be an array of strings");
  for (const auto& item : *arr) {
    auto s = item.value<std::string>();
    if (!s || !item.is_string() || s->empty())
      return fail(key, "must be an array of non-empty strings");
    out.push_back(*s);
  }
  return true;
}

bool config_table::env(std::string_view env_key, std::string& out) const {
  std::string name;
  if (!get(env_key, name)) return false;
  if (name.empty()) return true;
  const char* value = std::getenv(name.c_str());
  if (!value || !*value) return fail(env_key, "environment variable " + name + " is not set");
  out = value;
  return true;
}

bool config_table::rate_limit(feed::rate_limit& out) const {
  std::int64_t budget = out.budget;
  if (!integer("rate_limit_per_minute", 0, feed::rate_limit::max_budget, budget) ||
      !seconds("rate_limit_window", 1, 86400, out.window))
    return false;
  out.budget = static_cast<std::uint32_t>(budget);
  return true;
}

bool config_table::stream(std::string_view key, std::string_view what, std::string& out) const {
  if (!get(key, out)) return false;
  if (out.empty()) return fail(key, "is required (" + std::string(what) + ")");
  if (auto name = core::parse_stream_name(out); !name) return fail(key, name.err().message);
  return true;
}

bool config_table::secret(std::string_view key, std::string_view env_key, std::string& out) const {
  std::string value;
  if (!get(key, value)) return false;
  if (has(env_key) && !value.empty())
    return fail(
        "", "set either '" + std::string(key) + "' or '" + std::string(env_key) + "', not both");
  if (!env(env_key, value)) return false;
  out = std::move(value);
  return true;
}

std::optional<config_table> config_table::table(std::string_view key) const {
  auto node = table_->get(key);
  if (!node) return std::nullopt;
  if (!node->is_table()) {
    fail(key, "must be a table");
    return std::nullopt;
  }
  return config_table(*node->as_table(), path(key), *errors_);
}

bool config_table::tables(std::string_view key, std::vector<config_table>& out) const {
  auto node = table_->get(key);
  if (!node) return true;
  auto* arr = node->as_array();
  if (!arr) return fail(key, "must be an array of tables ([[" + path(key) + "]])");
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const std::string where = path(key) + "[" + std::to_string(i) + "]";
    auto* t = (*arr)[i].as_table();
    if (!t) return errors_->fail(where, "must be a table");
    out.emplace_back(*t, where, *errors_);
  }
  return true;
}

}  // namespace eventfeed::api::common
