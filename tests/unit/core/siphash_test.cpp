#include "core/siphash.hpp"

#include <gtest/gtest.h>

#include <string>

namespace eventfeed::core {
namespace {

// The reference vectors of the SipHash paper: key 00 01 .. 0f, messages 00 01 .. (n-1).
siphash_key reference_key() {
  return {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
}
std::string message(std::size_t n) {
  std::string m;
  for (std::size_t i = 0; i < n; ++i) m.push_back(static_cast<char>(i));
  return m;
}

TEST(SipHash, MatchesTheReferenceVectors) {
  EXPECT_EQ(siphash24(reference_key(), message(0)), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(siphash24(reference_key(), message(1)), 0x74f839c593dc67fdULL);
  EXPECT_EQ(siphash24(reference_key(), message(8)), 0x93f5f5799a932462ULL);
  EXPECT_EQ(siphash24(reference_key(), message(15)), 0xa129ca6149be45e5ULL);
  EXPECT_EQ(siphash24(reference_key(), message(63)), 0x958a324ceb064572ULL);
}

TEST(SipHash, DependsOnTheKey) {
  EXPECT_NE(siphash24({1, 2}, "secret"), siphash24({1, 3}, "secret"));
  EXPECT_NE(random_siphash_key(), random_siphash_key());
}

}  // namespace
}  // namespace eventfeed::core
