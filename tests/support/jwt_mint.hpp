// tests/support/jwt_mint.hpp: signed tokens for the tests of the JWT admission, minted with
// libjwt (the library that verifies them in the server) and keys generated with OpenSSL at
// test time: no key material is committed.
#pragma once

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace eventfeed::testing {

struct key_pair {
  std::string private_pem;
  std::string public_pem;
};

namespace jwt_detail {

inline std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

inline key_pair pem_pair(EVP_PKEY* raw) {
  if (!raw) throw std::runtime_error("key generation failed");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(raw, &EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> priv(BIO_new(BIO_s_mem()), &BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> pub(BIO_new(BIO_s_mem()), &BIO_free);
  if (!PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) ||
      !PEM_write_bio_PUBKEY(pub.get(), key.get()))
    throw std::runtime_error("PEM encoding failed");
  return {bio_text(priv.get()), bio_text(pub.get())};
}

inline std::string base64url(std::string_view bytes) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (unsigned char c : bytes) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 6) out += alphabet[(bits >> (count -= 6)) & 63];
  }
  if (count > 0) out += alphabet[(bits << (6 - count)) & 63];
  return out;
}

}  // namespace jwt_detail

inline key_pair rsa_key_pair() {
  return jwt_detail::pem_pair(EVP_RSA_gen(2048));
}
inline key_pair ec_key_pair() {
  return jwt_detail::pem_pair(EVP_EC_gen("P-256"));
}

// A token of `alg` ("HS256", "RS256", "ES256", ...) with `claims`, signed with `key` (the shared
// secret, or the private key's PEM).
inline std::string mint(std::string_view alg, std::string_view key,
                        const boost::json::object& claims) {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw std::runtime_error("jwt_new failed");
  std::unique_ptr<jwt_t, decltype(&jwt_free)> token(raw, &jwt_free);
  if (jwt_add_grants_json(token.get(), boost::json::serialize(claims).c_str()) != 0 ||
      jwt_set_alg(token.get(), jwt_str_alg(std::string(alg).c_str()),
                  reinterpret_cast<const unsigned char*>(key.data()), int(key.size())) != 0)
    throw std::runtime_error("cannot sign a token with " + std::string(alg));
  char* text = jwt_encode_str(token.get());
  if (!text) throw std::runtime_error("jwt_encode_str failed");
  std::string out(text);
  std::free(text);
  return out;
}

// An unsigned token (`alg: none`, empty signature), as an attacker would send it.
inline std::string mint_unsigned(const boost::json::object& claims) {
  return jwt_detail::base64url(R"({"alg":"none","typ":"JWT"})") + "." +
         jwt_detail::base64url(boost::json::serialize(claims)) + ".";
}

}  // namespace eventfeed::testing
