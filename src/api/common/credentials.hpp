// api/common/credentials.hpp: from what a request carries to who is calling.
//
// Three forms of credential, one per way the dialects' clients send them:
//   - bearer: `Authorization: Bearer <token>` (native keys, Box tokens);
//   - basic:  `Authorization: Basic base64(login:secret)` (Zulip's `email:api_key`);
//   - path:   a login and a token as path segments (`/events/{username}/{token}/`).
// Extraction only reads the request; it says *why* it found nothing usable (missing, another
// scheme, malformed), because dialects answer those differently (Zulip: 401 for a missing or
// undecodable header, 400 for another scheme).
//
// A key ring maps secrets to principals. It is indexed by a SipHash of the secret under a key
// drawn at start-up, and candidates are compared in constant time, so neither the lookup's
// timing nor its bucket reveals how much of a guessed secret was right. A login, where the form
// has one, must match the entry's (ASCII case-insensitively: emails and usernames).
//
// Each entry may carry a rate-limit slot (feed::rate_limiter), resolved when the ring is built,
// so that the request path takes its budget without a lookup or a shared lock.
//
// A key directory holds the current ring: a reload swaps in a new one while requests in flight
// keep the one they started with. Readers go through a per-thread copy refreshed when the
// directory's generation moves, so the request path takes no lock.
//
// Thread-safety: rings are immutable once published; the directory may be read and replaced
// from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/principal.hpp"
#include "core/siphash.hpp"

namespace eventfeed::feed {
class rate_slot;
}

namespace eventfeed::api::common {

enum class credential_form : std::uint8_t { bearer, basic, path };

struct credential {
  enum class state : std::uint8_t {
    ok,
    missing,       // no credential at all
    wrong_scheme,  // an Authorization header of another scheme
    malformed,     // the right scheme, but not decodable or empty
  };
  state status = state::missing;
  std::string login;   // basic and path forms; empty for bearer
  std::string secret;  // the token, key or password

  bool ok() const noexcept { return status == state::ok; }
};

// `Authorization: Bearer <token>`: the scheme matched case-insensitively, spaces around the
// token trimmed.
credential bearer_credential(std::string_view authorization);
// `Authorization: Basic <base64 of login:secret>`: standard base64, padding optional; the login
// is what precedes the first ':'.
credential basic_credential(std::string_view authorization);
// A login and a token taken from the path (already percent-decoded by the router).
credential path_credential(std::string_view login, std::string_view token);

// Decodes standard base64 (RFC 4648 section 4), padding optional; nullopt on anything else.
std::optional<std::string> base64_decode(std::string_view text);

struct key_entry {
  std::string secret;  // for a stored credential: the secret's digest (secret_hasher::digest)
  std::string login;   // empty: the secret alone identifies the caller
  core::principal who;
  feed::rate_slot* rate = nullptr;  // this credential's budget, if its dialect limits rates
  // A stored credential's secret, numbered for this process (0: a config key or a signed
  // token). Revoking or rotating the credential answers the polls parked with it through this
  // number (api/common/revocations.hpp).
  std::uint64_t serial = 0;
  bool admin = false;  // may use the admin API (`admin = true` in `[[keys]]`)
};

// Whether `login` matches an entry's login: ASCII case-insensitively (emails, usernames).
bool login_matches(std::string_view entry_login, std::string_view login) noexcept;

// The keyed digest stored credentials keep instead of their secret: HMAC-SHA256 under a pepper
// the server keeps in its store. Why this and not a password hash: the secrets are 256-bit
// random strings the server generated, so no dictionary or brute force can invert the digest
// (SHA-256's preimage resistance is the protection, even for whoever holds the store and its
// pepper), and a fast hash lets the request path check a secret in about a microsecond. The
// pepper makes digests of one deployment useless in another. Thread-safe (immutable).
//
// OpenSSL's one-shot HMAC() looks the algorithm up in its provider store on every call, under
// a lock all threads share; instead each thread keeps one HMAC context per hasher, keyed once
// and re-initialised per digest (a fifth of the time, and no shared lock).
class secret_hasher {
 public:
  explicit secret_hasher(std::string pepper);
  // 32 raw bytes. Throws std::runtime_error if OpenSSL fails.
  std::string digest(std::string_view secret) const;

 private:
  const std::uint64_t id_;  // tells this hasher's contexts in the per-thread caches apart
  std::string pepper_;
};

// `bytes` bytes from OpenSSL's CSPRNG. Throws std::runtime_error if the CSPRNG fails.
std::string random_bytes(std::size_t bytes);
// `bytes` random bytes as URL-safe base64 without padding (RFC 4648 section 5): what the server
// hands out as a generated secret (32 bytes: 43 characters).
std::string random_token(std::size_t bytes = 32);
// The same bytes as lower-case hex, and back (nullopt unless even-length hex).
std::string hex_encode(std::string_view bytes);
std::optional<std::string> hex_decode(std::string_view hex);

class key_ring {
 public:
  key_ring();
  explicit key_ring(core::siphash_key index_key);

  void add(std::string secret, core::principal who, std::string login = {},
           feed::rate_slot* rate = nullptr);
  // Adds an entry as it is (its serial and admin flag with it).
  void add(key_entry entry);

  // The entry with this secret (the first, if several share it), or null.
  const key_entry* find_entry(std::string_view secret) const noexcept;
  // The entry with this secret whose login matches `login` (ASCII case-insensitively), or null.
  const key_entry* find_entry(std::string_view login, std::string_view secret) const noexcept;
  const core::principal* find(std::string_view secret) const noexcept {
    const key_entry* e = find_entry(secret);
    return e ? &e->who : nullptr;
  }
  // Resolves an extracted credential: by login and secret when it has a login, else by secret.
  const key_entry* resolve(const credential& c) const noexcept;

  std::size_t size() const noexcept { return entries_.size(); }
  const std::vector<key_entry>& entries() const noexcept { return entries_; }

 private:
  template <class Match>
  const key_entry* lookup(std::string_view secret, Match match) const noexcept;

  core::siphash_key index_key_;
  std::vector<key_entry> entries_;
  // (keyed hash of the secret, index into entries_), sorted: equal hashes in insertion order.
  std::vector<std::pair<std::uint64_t, std::size_t>> index_;
};

class key_directory {
 public:
  explicit key_directory(std::shared_ptr<const key_ring> ring = std::make_shared<key_ring>());
  key_directory(const key_directory&) = delete;
  key_directory& operator=(const key_directory&) = delete;

  // The ring in force; the caller's copy stays valid however often the ring is replaced. Each
  // thread keeps its own copy of the current ring and only takes the lock after a replace, so
  // the request path touches no lock and no cache line that other threads write.
  std::shared_ptr<const key_ring> current() const;
  void replace(std::shared_ptr<const key_ring> ring);

 private:
  const std::uint64_t id_;  // tells this directory's entries in the per-thread caches apart
  mutable std::mutex mutex_;
  std::shared_ptr<const key_ring> ring_;      // guarded by mutex_
  std::atomic<std::uint64_t> generation_{1};  // bumped by every replace, after ring_ changes
};

}  // namespace eventfeed::api::common
