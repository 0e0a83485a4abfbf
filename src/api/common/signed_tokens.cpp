#include "api/common/signed_tokens.hpp"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>
#include <functional>
#include <sstream>

namespace eventfeed::api::common {

namespace json = boost::json;

namespace {

// The algorithms libjwt verifies, by the kind of key they need.
enum class key_kind { secret, rsa, ec };

std::optional<key_kind> kind_of(std::string_view alg) {
  if (alg == "HS256" || alg == "HS384" || alg == "HS512") return key_kind::secret;
  if (alg == "RS256" || alg == "RS384" || alg == "RS512") return key_kind::rsa;
  if (alg == "ES256" || alg == "ES384" || alg == "ES512") return key_kind::ec;
  return std::nullopt;
}

// What kind of public key a PEM text holds, or nullopt if it holds none.
std::optional<key_kind> public_key_kind(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), int(pem.size())),
                                                &BIO_free);
  if (!bio) return std::nullopt;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!key) return std::nullopt;
  switch (EVP_PKEY_get_base_id(key.get())) {
    case EVP_PKEY_RSA:
      return key_kind::rsa;
    case EVP_PKEY_EC:
      return key_kind::ec;
    default:
      return std::nullopt;
  }
}

// base64url (RFC 4648 section 5), padding optional, as JWS uses it.
std::optional<std::string> base64url_decode(std::string_view text) {
  std::string standard(text);
  for (char& c : standard) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (c == '+' || c == '/')
      return std::nullopt;
  }
  return base64_decode(standard);
}

std::optional<json::object> segment_object(std::string_view segment) {
  auto text = base64url_decode(segment);
  if (!text) return std::nullopt;
  boost::system::error_code ec;
  auto value = json::parse(*text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

const json::string* string_member(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? &it->value().get_string() : nullptr;
}

// A NumericDate claim (seconds since the epoch, integer or not), or nullopt if absent or not a
// number; `present` says whether it was there at all.
std::optional<double> numeric_date(const json::object& o, std::string_view key, bool& present) {
  auto it = o.find(key);
  present = it != o.end();
  if (!present) return std::nullopt;
  const auto& v = it->value();
  if (v.is_int64()) return double(v.get_int64());
  if (v.is_uint64()) return double(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return std::nullopt;
}

// A claim that lists stream patterns: absent is none; anything but a list of non-empty strings
// is refused.
bool patterns(const json::object& claims, std::string_view key,
              std::vector<core::stream_pattern>& out) {
  auto it = claims.find(key);
  if (it == claims.end()) return true;
  if (!it->value().is_array()) return false;
  for (const auto& v : it->value().get_array()) {
    if (!v.is_string() || v.get_string().empty()) return false;
    out.emplace_back(std::string(v.get_string()));
  }
  return true;
}

bool signature_verifies(const std::string& token, const jwt_key& key, std::string_view alg) {
  jwt_t* decoded = nullptr;
  const int rc = jwt_decode(&decoded, token.c_str(),
                            reinterpret_cast<const unsigned char*>(key.material.data()),
                            int(key.material.size()));
  std::unique_ptr<jwt_t, decltype(&jwt_free)> owned(decoded, &jwt_free);
  // libjwt verifies with the algorithm the header names; that it is the one we vetted (and of
  // this key's kind) was checked before, and is checked again on what libjwt decoded.
  return rc == 0 && decoded && jwt_alg_str(jwt_get_alg(decoded)) == alg;
}

}  // namespace

bool parse_jwt_key(const config_table& t, jwt_key& result) {
  jwt_key out;  // `result` is assigned only once the whole entry has been read
  if (!t.only({"issuer", "algorithms", "secret_env", "public_key_file", "leeway_seconds"}))
    return false;
  std::string key_file;
  if (!t.get("issuer", out.issuer) || !t.strings("algorithms", out.algorithms) ||
      !t.get("public_key_file", key_file) || !t.integer("leeway_seconds", 0, 300, out.leeway_s))
    return false;
  if (out.issuer.empty()) return t.fail("issuer", "is required (the tokens' 'iss' claim)");
  if (out.algorithms.empty())
    return t.fail("algorithms", "is required: a list such as [\"HS256\"] or [\"RS256\"]");
  if (t.has("secret_env") == !key_file.empty())
    return t.fail("",
                  "set exactly one of 'secret_env' (HS256/384/512) and 'public_key_file' "
                  "(RS256/384/512, ES256/384/512)");
  std::optional<key_kind> kind;
  for (const auto& alg : out.algorithms) {
    auto k = kind_of(alg);
    if (!k)
      return t.fail("algorithms", "'" + alg +
                                      "' is not one of HS256, HS384, HS512, RS256, RS384, "
                                      "RS512, ES256, ES384, ES512");
    if (kind && *kind != *k)
      return t.fail("algorithms", "mixes algorithms of different key types: one entry per key");
    kind = k;
  }
  out.shared_secret = *kind == key_kind::secret;
  if (out.shared_secret) {
    if (key_file.size())
      return t.fail("public_key_file", "HS algorithms take a shared secret ('secret_env')");
    if (!t.env("secret_env", out.material)) return false;
    if (out.material.size() < 32)
      return t.fail("secret_env",
                    "the secret must be at least 32 bytes (RFC 7518: as long as "
                    "the hash for HS256)");
    result = std::move(out);
    return true;
  }
  if (t.has("secret_env"))
    return t.fail("secret_env", "RS and ES algorithms take a public key ('public_key_file')");
  std::ifstream in(key_file, std::ios::binary);
  if (!in) return t.fail("public_key_file", "cannot read " + key_file);
  std::ostringstream text;
  text << in.rdbuf();
  out.material = text.str();
  const auto held = public_key_kind(out.material);
  if (!held)
    return t.fail("public_key_file",
                  key_file + " holds no PEM public key (-----BEGIN PUBLIC KEY-----)");
  if (*held != *kind)
    return t.fail("public_key_file", key_file + " holds " +
                                         (*held == key_kind::rsa ? "an RSA" : "an EC") +
                                         " key, which the algorithms given cannot use");
  result = std::move(out);
  return true;
}

jwt_verifier::jwt_verifier(std::vector<jwt_key> keys, const core::clock& clock)
    : keys_(std::move(keys)), clock_(clock) {}

bool jwt_verifier::looks_like_jwt(std::string_view token) noexcept {
  // header.payload.signature; the signature may be empty (an `alg: none` token, which is then
  // refused for its algorithm, with a message that says so).
  const auto first = token.find('.');
  if (first == std::string_view::npos || first == 0) return false;
  const auto second = token.find('.', first + 1);
  return second != std::string_view::npos && second > first + 1 &&
         token.find('.', second + 1) == std::string_view::npos;
}

std::shared_ptr<const key_entry> jwt_verifier::verify(std::string_view token,
                                                      std::string& why) const {
  const std::int64_t now_ms = clock_.wall_ms();
  shard& s = cache_[std::hash<std::string_view>{}(token) % shard_count];
  std::string text(token);
  {
    std::lock_guard lock(s.mutex);
    if (auto it = s.tokens.find(text); it != s.tokens.end()) {
      if (now_ms <= it->second.until_ms) return it->second.entry;
      s.tokens.erase(it);
      why = "token expired";
      return nullptr;
    }
  }
  std::int64_t until_ms = 0;
  auto entry = check(text, why, until_ms);
  if (!entry) return nullptr;
  std::lock_guard lock(s.mutex);
  if (s.tokens.size() >= shard_capacity) s.tokens.clear();
  s.tokens.emplace(std::move(text), cached{entry, until_ms});
  return entry;
}

std::shared_ptr<const key_entry> jwt_verifier::check(const std::string& token, std::string& why,
                                                     std::int64_t& until_ms) const {
  why = "malformed token";
  if (!looks_like_jwt(token)) return nullptr;
  const auto dot1 = token.find('.');
  const auto dot2 = token.find('.', dot1 + 1);
  auto header = segment_object(std::string_view(token).substr(0, dot1));
  auto claims = segment_object(std::string_view(token).substr(dot1 + 1, dot2 - dot1 - 1));
  if (!header || !claims) return nullptr;

  const json::string* alg = string_member(*header, "alg");
  if (!alg) return nullptr;
  if (!kind_of(*alg)) {
    why = "token algorithm '" + std::string(*alg) + "' is not accepted";
    return nullptr;
  }
  const json::string* iss = string_member(*claims, "iss");
  if (!iss) {
    why = "token has no issuer ('iss')";
    return nullptr;
  }
  // The entries that trust this issuer with this algorithm; the signature must verify with one.
  const jwt_key* trusted = nullptr;
  bool issuer_known = false;
  for (const auto& key : keys_) {
    if (key.issuer != *iss) continue;
    issuer_known = true;
    if (std::find(key.algorithms.begin(), key.algorithms.end(), *alg) == key.algorithms.end())
      continue;
    if (signature_verifies(token, key, *alg)) {
      trusted = &key;
      break;
    }
  }
  if (!trusted) {
    why = !issuer_known ? "token issuer is not trusted"
          : std::none_of(keys_.begin(), keys_.end(),
                         [&](const jwt_key& k) {
                           return k.issuer == *iss &&
                                  std::find(k.algorithms.begin(), k.algorithms.end(), *alg) !=
                                      k.algorithms.end();
                         })
              ? "token algorithm '" + std::string(*alg) + "' is not accepted from this issuer"
              : "token signature does not verify";
    return nullptr;
  }

  const std::int64_t now_ms = clock_.wall_ms();
  const double leeway_ms = double(trusted->leeway_s) * 1000;
  bool present = false;
  const auto exp = numeric_date(*claims, "exp", present);
  if (!exp) {
    why = present ? "token 'exp' is not a number" : "token has no expiry ('exp')";
    return nullptr;
  }
  if (double(now_ms) > *exp * 1000 + leeway_ms) {
    why = "token expired";
    return nullptr;
  }
  const auto nbf = numeric_date(*claims, "nbf", present);
  if (present && !nbf) {
    why = "token 'nbf' is not a number";
    return nullptr;
  }
  if (nbf && double(now_ms) + leeway_ms < *nbf * 1000) {
    why = "token not valid yet";
    return nullptr;
  }

  auto entry = std::make_shared<key_entry>();
  core::principal& who = entry->who;
  if (!patterns(*claims, "read", who.read) || !patterns(*claims, "publish", who.publish)) {
    why = "token claims 'read' and 'publish' must be lists of stream patterns";
    return nullptr;
  }
  const json::string* sub = string_member(*claims, "sub");
  const json::string* name = string_member(*claims, "name");
  who.who.id = sub ? std::string(*sub) : std::string();
  who.who.name = name ? std::string(*name) : who.who.id;
  who.name = "jwt:" + std::string(*iss) + ":" + who.who.id;
  until_ms = static_cast<std::int64_t>(std::min(*exp * 1000 + leeway_ms, 9.0e18));
  why.clear();
  return entry;
}

std::shared_ptr<const key_entry> jwt_trust::vouch(const credential& c, std::string& why) const {
  if (!c.login.empty() || !jwt_verifier::looks_like_jwt(c.secret)) return nullptr;
  const auto verifier = current_.load();
  return verifier ? verifier->verify(c.secret, why) : nullptr;
}

}  // namespace eventfeed::api::common
