#include "api/native/native_dialect.hpp"

#include "api/common/config_table.hpp"
#include "api/native/admin_api.hpp"

namespace eventfeed::api::native {

namespace {

bool parse_limits(const common::config_table& t, options& o) {
  if (!t.only({"default_timeout", "max_timeout", "max_batch", "max_limit"})) return false;
  if (!t.seconds("default_timeout", 0, 3600, o.default_timeout) ||
      !t.seconds("max_timeout", 0, 3600, o.max_timeout) ||
      !t.integer("max_batch", 1, 100'000, o.max_batch) ||
      !t.integer("max_limit", 1, 100'000, o.max_limit))
    return false;
  o.default_limit = std::min(o.default_limit, o.max_limit);
  if (o.default_timeout > o.max_timeout)
    return t.fail("default_timeout", "must not exceed native.max_timeout");
  return true;
}

bool parse_key(const common::config_table& t, std::size_t index, key_config& k) {
  if (!t.only({"name", "key", "key_env", "publish", "read", "admin"})) return false;
  if (!t.get("name", k.name) || !t.secret("key", "key_env", k.key) ||
      !t.strings("publish", k.publish) || !t.strings("read", k.read) || !t.get("admin", k.admin))
    return false;
  if (k.key.size() < 8) return t.fail("key", "must be at least 8 characters");
  if (k.name.empty()) k.name = "key" + std::to_string(index);
  if (k.publish.empty() && k.read.empty() && !k.admin)
    return t.fail("", "grants nothing: give it 'publish' and/or 'read' stream patterns");
  return true;
}

}  // namespace

bool native_dialect::configure(const common::config_table& root) {
  if (auto t = root.table("native")) {
    if (!parse_limits(*t, opts_)) return false;
  } else if (root.has("native")) {
    return false;  // not a table: recorded by table()
  }
  std::vector<common::config_table> entries;
  if (!root.tables("keys", entries)) return false;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    key_config k;
    if (!parse_key(entries[i], i, k)) return false;
    keys_.push_back(std::move(k));
  }
  return root.parse_tables("jwt", jwt_keys_, common::parse_jwt_key);
}

namespace {

core::principal key_principal(const std::string& name, const std::vector<std::string>& publish,
                              const std::vector<std::string>& read) {
  core::principal who;
  who.name = name;
  for (const auto& p : publish) who.publish.emplace_back(p);
  for (const auto& p : read) who.read.emplace_back(p);
  return who;
}

}  // namespace

std::shared_ptr<const common::key_ring> native_dialect::make_ring() const {
  auto ring = std::make_shared<common::key_ring>();
  for (const auto& k : keys_) {
    common::key_entry e;
    e.secret = k.key;
    e.who = key_principal(k.name, k.publish, k.read);
    e.admin = k.admin;
    ring->add(std::move(e));
  }
  return ring;
}

void native_dialect::reload(common::dialect& fresh) {
  auto& next = static_cast<native_dialect&>(fresh);
  keys_ = next.keys_;
  jwt_keys_ = next.jwt_keys_;
  directory_.replace(make_ring());
  trust_signed_tokens();
}

void native_dialect::trust_signed_tokens() {
  jwt_.replace(jwt_keys_.empty()
                   ? nullptr
                   : std::make_shared<const common::jwt_verifier>(jwt_keys_, *clock_));
}

void native_dialect::install(common::platform& p) {
  clock_ = &p.clock;
  directory_.replace(make_ring());
  trust_signed_tokens();
  other_credentials others;
  others.jwt = &jwt_;
  if (p.credentials) {
    // Stored keys: resolved after the config's (which win), before signed tokens.
    others.stored = &p.credentials->serve("key", [](const common::stored_credential& c) {
      return key_principal(c.name, c.publish, c.read);
    });
    others.revocations = &p.credentials->revocations();
  }
  register_routes(p.routes, p.feed, directory_, opts_, others);
  if (p.credentials) register_admin_routes(p.routes, p.feed, directory_, *p.credentials, others);
}

}  // namespace eventfeed::api::native
