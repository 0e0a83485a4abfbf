#include "api/common/stored_credentials.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <future>
#include <stdexcept>

#include "feed/await_store.hpp"

namespace eventfeed::api::common {

namespace {

namespace json = boost::json;

constexpr std::string_view record_kind = "credential";
constexpr std::string_view pepper_kind = "credential-pepper";
constexpr std::string_view pepper_key = "hmac";

// A store write at start-up, waited for on this thread (the store calls back on its writer
// thread, or inline).
void put_now(store::store& s, std::string_view kind, std::string_view key, std::string value) {
  std::promise<std::optional<core::error>> done;
  auto result = done.get_future();
  s.put_record(std::string(kind), std::string(key), std::move(value),
               [&done](std::optional<core::error> e) { done.set_value(std::move(e)); });
  if (auto e = result.get())
    throw std::runtime_error("cannot store the credential pepper: " + e->message);
}

json::array to_array(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

bool from_array(const json::value* v, std::vector<std::string>& out) {
  if (!v) return true;
  const json::array* a = v->if_array();
  if (!a) return false;
  for (const auto& item : *a) {
    const json::string* s = item.if_string();
    if (!s) return false;
    out.emplace_back(*s);
  }
  return true;
}

std::string string_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  const json::string* s = v ? v->if_string() : nullptr;
  return s ? std::string(*s) : std::string();
}

std::int64_t int_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_int64() ? v->get_int64() : 0;
}

core::error not_found(std::string_view kind, std::string_view id) {
  return {core::errc::not_found, "no stored credential of kind '" + std::string(kind) +
                                     "' with id '" + std::string(id) + "'"};
}

}  // namespace

credential_store::credential_store(store::store& s, const core::clock& clock)
    : store_(s), clock_(clock) {
  auto pepper = store_.get_record(pepper_kind, pepper_key);
  std::optional<std::string> raw = pepper ? hex_decode(*pepper) : std::nullopt;
  if (!raw || raw->size() < 16) {
    if (pepper) throw std::runtime_error("the stored credential pepper is unreadable");
    raw = random_bytes(32);
    put_now(store_, pepper_kind, pepper_key, hex_encode(*raw));
  }
  hasher_ = std::make_shared<const secret_hasher>(std::move(*raw));
  for (auto& [id, text] : store_.list_records(record_kind)) {
    auto c = from_record(id, text);
    if (!c) throw std::runtime_error("stored credential '" + id + "' is unreadable");
    c->serial = next_serial_.fetch_add(1, std::memory_order_relaxed);
    by_id_.emplace(id, std::make_shared<const stored_credential>(std::move(*c)));
  }
}

std::string credential_store::to_record(const stored_credential& c) {
  json::object o;
  o["kind"] = c.kind;
  o["name"] = c.name;
  if (!c.login.empty()) o["login"] = c.login;
  o["read"] = to_array(c.read);
  o["publish"] = to_array(c.publish);
  if (!c.attributes.empty()) {
    json::object attrs;
    for (const auto& [k, v] : c.attributes) attrs[k] = v;
    o["attributes"] = std::move(attrs);
  }
  o["digest"] = hex_encode(c.digest);
  o["created"] = c.created_ms;
  if (c.rotated_ms) o["rotated"] = c.rotated_ms;
  return json::serialize(o);
}

std::optional<stored_credential> credential_store::from_record(std::string_view id,
                                                               std::string_view text) {
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec || !doc.is_object()) return std::nullopt;
  const json::object& o = doc.get_object();
  stored_credential c;
  c.id = std::string(id);
  c.kind = string_field(o, "kind");
  c.name = string_field(o, "name");
  c.login = string_field(o, "login");
  if (!from_array(o.if_contains("read"), c.read) ||
      !from_array(o.if_contains("publish"), c.publish))
    return std::nullopt;
  if (const json::value* attrs = o.if_contains("attributes")) {
    const json::object* a = attrs->if_object();
    if (!a) return std::nullopt;
    for (const auto& kv : *a) {
      const json::string* s = kv.value().if_string();
      if (!s) return std::nullopt;
      c.attributes.emplace(std::string(kv.key()), std::string(*s));
    }
  }
  auto digest = hex_decode(string_field(o, "digest"));
  if (c.kind.empty() || !digest || digest->empty()) return std::nullopt;
  c.digest = std::move(*digest);
  c.created_ms = int_field(o, "created");
  c.rotated_ms = int_field(o, "rotated");
  return c;
}

std::vector<std::shared_ptr<const stored_credential>> credential_store::list(
    std::string_view kind) const {
  std::vector<std::shared_ptr<const stored_credential>> out;
  std::lock_guard lock(mutex_);
  for (const auto& [id, c] : by_id_)
    if (c->kind == kind) out.push_back(c);
  return out;
}

std::shared_ptr<const stored_credential> credential_store::find(std::string_view kind,
                                                                std::string_view id) const {
  std::lock_guard lock(mutex_);
  auto it = by_id_.find(id);
  return it != by_id_.end() && it->second->kind == kind ? it->second : nullptr;
}

std::size_t credential_store::size() const {
  std::lock_guard lock(mutex_);
  return by_id_.size();
}

std::shared_ptr<const key_entry> credential_index::resolve(const credential& c) const {
  if (!c.ok() || count_.load(std::memory_order_acquire) == 0) return nullptr;
  std::string digest;
  try {
    digest = hasher_->digest(c.secret);
  } catch (const std::exception&) {
    return nullptr;  // OpenSSL failed: an unknown credential, not a crash
  }
  const shard& s = shard_of(digest);
  std::shared_lock lock(s.mutex);
  auto it = s.entries.find(digest);
  if (it == s.entries.end()) return nullptr;
  if (!c.login.empty() && !login_matches(it->second->login, c.login)) return nullptr;
  return it->second;
}

void credential_index::put(std::shared_ptr<const key_entry> e) {
  shard& s = shard_of(e->secret);
  std::unique_lock lock(s.mutex);
  auto& slot = s.entries[e->secret];
  if (!slot) count_.fetch_add(1, std::memory_order_release);
  slot = std::move(e);
}

void credential_index::erase(const std::string& digest) {
  shard& s = shard_of(digest);
  std::unique_lock lock(s.mutex);
  count_.fetch_sub(s.entries.erase(digest), std::memory_order_relaxed);
}

std::size_t credential_index::size() const {
  return count_.load(std::memory_order_relaxed);
}

std::shared_ptr<const key_entry> credential_store::entry_of(const served& kind,
                                                            const stored_credential& c) const {
  auto e = std::make_shared<key_entry>();
  e->secret = c.digest;
  e->login = c.login;
  e->who = kind.make(c);
  e->serial = c.serial;
  return e;
}

const credential_index& credential_store::serve(
    std::string kind, std::function<core::principal(const stored_credential&)> make) {
  std::lock_guard lock(mutex_);
  served& k = kinds_[kind];
  k.make = std::move(make);
  k.index = std::make_unique<credential_index>(hasher_);
  for (const auto& [id, c] : by_id_)
    if (c->kind == kind) k.index->put(entry_of(k, *c));
  return *k.index;
}

void credential_store::apply(const std::string& id, std::shared_ptr<const stored_credential> now) {
  std::uint64_t revoked = 0;
  {
    std::lock_guard lock(mutex_);
    auto it = by_id_.find(id);
    if (it != by_id_.end()) {
      const stored_credential& old = *it->second;
      revoked = old.serial;
      if (auto k = kinds_.find(old.kind); k != kinds_.end()) k->second.index->erase(old.digest);
      by_id_.erase(it);
    }
    if (now) {
      if (auto k = kinds_.find(now->kind); k != kinds_.end())
        k->second.index->put(entry_of(k->second, *now));
      by_id_.emplace(id, std::move(now));
    }
  }
  if (revoked) board_.revoke(revoked);
}

boost::asio::awaitable<core::result<bool>> credential_store::commit(
    std::string id, std::optional<std::string> expected, std::optional<std::string> value,
    std::shared_ptr<const stored_credential> now) {
  co_return co_await feed::await_store<core::result<bool>>([&](auto done) {
    store_.swap_record(
        std::string(record_kind), id, std::move(expected), std::move(value), 0,
        [this, id, now = std::move(now), done = std::move(done)](core::result<bool> wrote) mutable {
          if (wrote && *wrote) apply(id, std::move(now));
          done(std::move(wrote));
        });
  });
}

boost::asio::awaitable<core::result<credential_store::issued>> credential_store::create(
    stored_credential fields) {
  issued out;
  out.secret = random_token(32);
  out.credential = std::move(fields);
  stored_credential& c = out.credential;
  c.id = "c" + hex_encode(random_bytes(12));
  if (c.name.empty()) c.name = c.id;
  c.digest = hasher_->digest(out.secret);
  c.created_ms = clock_.wall_ms();
  c.rotated_ms = 0;
  c.serial = next_serial_.fetch_add(1, std::memory_order_relaxed);
  auto wrote = co_await commit(c.id, std::nullopt, to_record(c),
                               std::make_shared<const stored_credential>(c));
  if (!wrote) co_return std::move(wrote).err();
  // A clash of 96 random bits: practically never, and refused rather than overwritten.
  if (!*wrote) co_return core::error{core::errc::internal, "credential id clash; try again"};
  co_return out;
}

boost::asio::awaitable<core::result<credential_store::issued>> credential_store::rotate(
    std::string kind, std::string id) {
  // Retried when another change of the same credential lands between the read and the write.
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto text = store_.get_record(record_kind, id);
    auto old = text ? from_record(id, *text) : std::nullopt;
    if (!old || old->kind != kind) co_return not_found(kind, id);
    issued out;
    out.secret = random_token(32);
    out.credential = std::move(*old);
    stored_credential& c = out.credential;
    c.digest = hasher_->digest(out.secret);
    c.rotated_ms = clock_.wall_ms();
    c.serial = next_serial_.fetch_add(1, std::memory_order_relaxed);
    auto wrote = co_await commit(id, std::move(text), to_record(c),
                                 std::make_shared<const stored_credential>(c));
    if (!wrote) co_return std::move(wrote).err();
    if (!*wrote) continue;
    co_return out;
  }
  co_return core::error{core::errc::unavailable, "the credential kept changing; try again"};
}

boost::asio::awaitable<core::result<stored_credential>> credential_store::revoke(std::string kind,
                                                                                 std::string id) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto text = store_.get_record(record_kind, id);
    auto old = text ? from_record(id, *text) : std::nullopt;
    if (!old || old->kind != kind) co_return not_found(kind, id);
    auto wrote = co_await commit(id, std::move(text), std::nullopt, nullptr);
    if (!wrote) co_return std::move(wrote).err();
    if (!*wrote) continue;
    co_return std::move(*old);
  }
  co_return core::error{core::errc::unavailable, "the credential kept changing; try again"};
}

}  // namespace eventfeed::api::common
