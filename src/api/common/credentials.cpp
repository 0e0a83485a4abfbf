#include "api/common/credentials.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace eventfeed::api::common {

namespace {

char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// Compares every byte of the longer string whatever the first difference, so the time taken
// does not tell how much of a guess was right.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

// The value after `scheme ` (scheme matched case-insensitively), spaces trimmed; nullopt when
// the header is of another scheme.
std::optional<std::string_view> after_scheme(std::string_view header, std::string_view scheme) {
  if (header.size() < scheme.size() || !iequals(header.substr(0, scheme.size()), scheme))
    return std::nullopt;
  auto rest = header.substr(scheme.size());
  if (!rest.empty() && rest.front() != ' ') return std::nullopt;  // "Bearertok": another word
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  return rest;
}

credential with_state(credential::state s) {
  credential c;
  c.status = s;
  return c;
}

}  // namespace

credential bearer_credential(std::string_view authorization) {
  if (authorization.empty()) return with_state(credential::state::missing);
  auto token = after_scheme(authorization, "bearer");
  if (!token) return with_state(credential::state::wrong_scheme);
  if (token->empty()) return with_state(credential::state::malformed);
  credential c;
  c.status = credential::state::ok;
  c.secret = std::string(*token);
  return c;
}

credential basic_credential(std::string_view authorization) {
  if (authorization.empty()) return with_state(credential::state::missing);
  auto encoded = after_scheme(authorization, "basic");
  if (!encoded) return with_state(credential::state::wrong_scheme);
  auto decoded = base64_decode(*encoded);
  if (!decoded) return with_state(credential::state::malformed);
  const auto colon = decoded->find(':');
  // No login: nothing to match the entry's login against, so no credential of this form.
  if (colon == std::string::npos || colon == 0) return with_state(credential::state::malformed);
  credential c;
  c.status = credential::state::ok;
  c.login = decoded->substr(0, colon);
  c.secret = decoded->substr(colon + 1);
  return c;
}

credential path_credential(std::string_view login, std::string_view token) {
  if (login.empty() && token.empty()) return with_state(credential::state::missing);
  if (login.empty() || token.empty()) return with_state(credential::state::malformed);
  credential c;
  c.status = credential::state::ok;
  c.login = std::string(login);
  c.secret = std::string(token);
  return c;
}

std::optional<std::string> base64_decode(std::string_view text) {
  static constexpr auto table = [] {
    std::array<signed char, 256> t{};
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i)
      t[static_cast<unsigned char>(alphabet[i])] = static_cast<signed char>(i);
    return t;
  }();
  for (int pad = 0; pad < 2 && !text.empty() && text.back() == '='; ++pad) text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;  // no whole byte in the last group
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t bits = 0;
  int count = 0;
  for (char ch : text) {
    const int v = table[static_cast<unsigned char>(ch)];
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  return out;
}

bool login_matches(std::string_view entry_login, std::string_view login) noexcept {
  return iequals(entry_login, login);
}

namespace {

std::atomic<std::uint64_t> next_hasher_id{1};

struct mac_ctx_free {
  void operator()(EVP_MAC_CTX* c) const noexcept { EVP_MAC_CTX_free(c); }
};
using mac_ctx = std::unique_ptr<EVP_MAC_CTX, mac_ctx_free>;

// HMAC-SHA256 keyed with `key`, ready for EVP_MAC_init(ctx, nullptr, 0, nullptr).
mac_ctx keyed_hmac(const std::string& key) {
  static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);  // never freed
  if (!hmac) throw std::runtime_error("OpenSSL has no HMAC");
  mac_ctx ctx(EVP_MAC_CTX_new(hmac));
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_END};
  if (!ctx || EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()),
                           key.size(), params) != 1)
    throw std::runtime_error("HMAC-SHA256 failed");
  return ctx;
}

// One thread's keyed contexts, by hasher id. Few hashers exist (one per server), so a short
// vector is enough; the context of a destroyed hasher stays until the thread ends.
thread_local std::vector<std::pair<std::uint64_t, mac_ctx>> mac_cache;

}  // namespace

secret_hasher::secret_hasher(std::string pepper)
    : id_(next_hasher_id.fetch_add(1, std::memory_order_relaxed)), pepper_(std::move(pepper)) {}

std::string secret_hasher::digest(std::string_view secret) const {
  EVP_MAC_CTX* ctx = nullptr;
  for (auto& [id, c] : mac_cache)
    if (id == id_) ctx = c.get();
  const bool fresh = !ctx;
  if (fresh) ctx = mac_cache.emplace_back(id_, keyed_hmac(pepper_)).second.get();
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  std::size_t len = 0;
  if ((!fresh && EVP_MAC_init(ctx, nullptr, 0, nullptr) != 1) ||
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(secret.data()), secret.size()) !=
          1 ||
      EVP_MAC_final(ctx, out.data(), &len, out.size()) != 1)
    throw std::runtime_error("HMAC-SHA256 failed");
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

std::string random_bytes(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    throw std::runtime_error("the system's random number generator failed");
  return raw;
}

std::string random_token(std::size_t bytes) {
  const std::string raw = random_bytes(bytes);
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes * 4 + 2) / 3);
  std::uint32_t bits = 0;
  int count = 0;
  for (char ch : raw) {
    bits = (bits << 8) | static_cast<unsigned char>(ch);
    count += 8;
    while (count >= 6) {
      count -= 6;
      out.push_back(alphabet[(bits >> count) & 63]);
    }
  }
  if (count > 0) out.push_back(alphabet[(bits << (6 - count)) & 63]);
  return out;
}

std::string hex_encode(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) {
    const auto b = static_cast<unsigned char>(ch);
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

std::optional<std::string> hex_decode(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]);
    const int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

key_ring::key_ring() : key_ring(core::random_siphash_key()) {}

key_ring::key_ring(core::siphash_key index_key) : index_key_(index_key) {}

void key_ring::add(std::string secret, core::principal who, std::string login,
                   feed::rate_slot* rate) {
  key_entry e;
  e.secret = std::move(secret);
  e.login = std::move(login);
  e.who = std::move(who);
  e.rate = rate;
  add(std::move(e));
}

void key_ring::add(key_entry entry) {
  const std::uint64_t h = core::siphash24(index_key_, entry.secret);
  const std::size_t at = entries_.size();
  entries_.push_back(std::move(entry));
  index_.insert(std::upper_bound(index_.begin(), index_.end(), std::pair{h, at}), {h, at});
}

template <class Match>
const key_entry* key_ring::lookup(std::string_view secret, Match match) const noexcept {
  const std::uint64_t h = core::siphash24(index_key_, secret);
  auto it = std::lower_bound(index_.begin(), index_.end(), std::pair{h, std::size_t{0}});
  const key_entry* found = nullptr;
  for (; it != index_.end() && it->first == h; ++it) {
    const key_entry& e = entries_[it->second];
    if (constant_time_equal(e.secret, secret) && match(e) && !found) found = &e;
  }
  return found;
}

const key_entry* key_ring::find_entry(std::string_view secret) const noexcept {
  return lookup(secret, [](const key_entry&) { return true; });
}

const key_entry* key_ring::find_entry(std::string_view login,
                                      std::string_view secret) const noexcept {
  return lookup(secret, [login](const key_entry& e) { return iequals(e.login, login); });
}

const key_entry* key_ring::resolve(const credential& c) const noexcept {
  if (!c.ok()) return nullptr;
  return c.login.empty() ? find_entry(c.secret) : find_entry(c.login, c.secret);
}

namespace {

std::atomic<std::uint64_t> next_directory_id{1};

// One thread's copies of the rings of the directories it has read, by directory id. Few
// directories exist (one per dialect), so a short vector searched in order is enough; an entry
// of a destroyed directory only keeps its last ring until the thread ends.
struct cached_ring {
  std::uint64_t directory = 0;
  std::uint64_t generation = 0;
  std::shared_ptr<const key_ring> ring;
};
thread_local std::vector<cached_ring> ring_cache;

}  // namespace

key_directory::key_directory(std::shared_ptr<const key_ring> ring)
    : id_(next_directory_id.fetch_add(1, std::memory_order_relaxed)), ring_(std::move(ring)) {}

std::shared_ptr<const key_ring> key_directory::current() const {
  const auto generation = generation_.load(std::memory_order_acquire);
  cached_ring* slot = nullptr;
  for (auto& c : ring_cache)
    if (c.directory == id_) slot = &c;
  if (!slot) slot = &ring_cache.emplace_back(cached_ring{id_, 0, nullptr});
  if (slot->generation != generation) {
    std::lock_guard lock(mutex_);
    slot->ring = ring_;
    slot->generation = generation_.load(std::memory_order_relaxed);
  }
  return slot->ring;
}

void key_directory::replace(std::shared_ptr<const key_ring> ring) {
  std::lock_guard lock(mutex_);
  ring_ = std::move(ring);
  generation_.fetch_add(1, std::memory_order_release);
}

}  // namespace eventfeed::api::common
