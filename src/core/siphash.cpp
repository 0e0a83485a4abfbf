#include "core/siphash.hpp"

#include <cstring>
#include <random>

namespace eventfeed::core {

namespace {

constexpr std::uint64_t rotl(std::uint64_t x, int b) noexcept {
  return (x << b) | (x >> (64 - b));
}

struct sip_state {
  std::uint64_t v0, v1, v2, v3;

  void round() noexcept {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  }
  void absorb(std::uint64_t m) noexcept {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

// Little-endian load of up to 8 bytes.
std::uint64_t load_le(const unsigned char* p, std::size_t n) noexcept {
  std::uint64_t out = 0;
  for (std::size_t i = 0; i < n; ++i) out |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return out;
}

}  // namespace

std::uint64_t siphash24(const siphash_key& key, std::string_view data) noexcept {
  sip_state s{key[0] ^ 0x736f6d6570736575ULL, key[1] ^ 0x646f72616e646f6dULL,
              key[0] ^ 0x6c7967656e657261ULL, key[1] ^ 0x7465646279746573ULL};
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t n = data.size();
  const std::size_t whole = n - n % 8;
  for (std::size_t i = 0; i < whole; i += 8) s.absorb(load_le(p + i, 8));
  // The last block: the remaining bytes, and the length's low byte in the top byte.
  s.absorb(load_le(p + whole, n % 8) | (static_cast<std::uint64_t>(n & 0xff) << 56));
  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

siphash_key random_siphash_key() {
  std::random_device rd;
  auto word = [&] { return (static_cast<std::uint64_t>(rd()) << 32) | rd(); };
  return {word(), word()};
}

}  // namespace eventfeed::core
