// core/siphash.hpp: SipHash-2-4, a keyed 64-bit hash (Aumasson and Bernstein, 2012).
//
// Used where a table is indexed by a secret (api/common's key ring): with a random key chosen at
// start-up, which bucket a guessed credential falls into tells an attacker nothing, so the table
// can be a hash index without leaking timing about the secrets it holds.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace eventfeed::core {

using siphash_key = std::array<std::uint64_t, 2>;

std::uint64_t siphash24(const siphash_key& key, std::string_view data) noexcept;

// A key from the operating system's random source.
siphash_key random_siphash_key();

}  // namespace eventfeed::core
