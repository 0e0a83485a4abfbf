// api/common/signed_tokens.hpp: callers who bring their own principal, in a JSON Web Token that
// the platform's backend signed (`Authorization: Bearer <JWT>`), instead of a key in the config.
//
// Trust comes from `[[jwt]]` entries: an issuer, the algorithms accepted from it, and the key
// material: a shared secret (HS256/384/512, from an environment variable) or a public key
// (RS256/384/512, ES256/384/512, a PEM file). Several entries may name one issuer, so that a
// key can be rotated: a token is accepted if any of them verifies it.
//
// Verification, in this order, each failure a refusal with its own message:
//   1. the compact form: three base64url segments, a JSON object in the first two;
//   2. the header's `alg` is one an entry of the payload's `iss` accepts (`none` never is);
//   3. the signature, checked by libjwt with that entry's key. Algorithm confusion (an HS256
//      token "signed" with an RSA public key's PEM text) cannot happen: an entry holds one kind
//      of material, and accepts only the algorithms of that kind (checked at configuration);
//   4. `exp` (required) and `nbf` (optional) against the wall clock, with the entry's leeway;
//   5. the claims `read` and `publish`: lists of stream patterns, as in `[[keys]]`.
// The principal is named `jwt:<iss>:<sub>`; its identity is `sub` and the `name` claim.
//
// A verified token is cached by its exact text until it expires (exp + leeway), so a client
// that re-polls with the same token costs a hash lookup, not a signature check. The cache is
// sharded (one mutex per shard) and bounded: a full shard is emptied, which costs the tokens in
// it one more verification each. Refusals are not cached.
//
// Thread-safety: a verifier is immutable but for its cache, which is safe from any thread. A
// reload builds a new verifier (with an empty cache) and swaps it in.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "api/common/config_table.hpp"
#include "api/common/credentials.hpp"
#include "core/clock.hpp"

namespace eventfeed::api::common {

// One `[[jwt]]` entry.
struct jwt_key {
  std::string issuer;
  std::vector<std::string> algorithms;  // "HS256", "RS256", ...
  bool shared_secret = true;            // `material` is an HMAC secret, else a PEM public key
  std::string material;
  std::int64_t leeway_s = 30;
};

// Reads one `[[jwt]]` table (issuer, algorithms, secret_env | public_key_file, leeway_seconds),
// checking the algorithms against the kind of key and the key itself (a public key file must
// hold a PEM public key of the algorithms' type). Records the problem in `t` on failure.
bool parse_jwt_key(const config_table& t, jwt_key& out);

class jwt_verifier {
 public:
  jwt_verifier(std::vector<jwt_key> keys, const core::clock& clock);

  // The entry (principal from the claims) for `token`, or null with `why` saying what is wrong
  // with it.
  std::shared_ptr<const key_entry> verify(std::string_view token, std::string& why) const;

  // Whether `token` has the JWT compact form's shape (three dot-separated segments, the first
  // two non-empty); only such credentials are worth verifying.
  static bool looks_like_jwt(std::string_view token) noexcept;

 private:
  struct cached {
    std::shared_ptr<const key_entry> entry;
    std::int64_t until_ms;  // exp + leeway
  };
  struct shard {
    std::mutex mutex;
    std::unordered_map<std::string, cached> tokens;
  };
  static constexpr std::size_t shard_count = 16;
  static constexpr std::size_t shard_capacity = 4096;

  std::shared_ptr<const key_entry> check(const std::string& token, std::string& why,
                                         std::int64_t& until_ms) const;

  std::vector<jwt_key> keys_;
  const core::clock& clock_;
  mutable std::array<shard, shard_count> cache_;
};

// The verifier in force for a dialect, replaced on reload; none when no `[[jwt]]` is
// configured. Its `vouch` is what the dialect gives its gateway (admission_policy::vouch).
class jwt_trust {
 public:
  void replace(std::shared_ptr<const jwt_verifier> verifier) {
    current_.store(std::move(verifier));
  }
  // A bearer credential shaped like a JWT, verified by the verifier in force; null with `why`
  // empty for anything else (the caller then answers "unknown key").
  std::shared_ptr<const key_entry> vouch(const credential& c, std::string& why) const;

 private:
  std::atomic<std::shared_ptr<const jwt_verifier>> current_;
};

}  // namespace eventfeed::api::common
