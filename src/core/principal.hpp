// core/principal.hpp: who is calling, and which streams they may publish to or read.
//
// A key ring maps secret keys (from the config, or the environment) to principals. Lookups
// compare every stored key with the candidate in constant time per key, so response timing
// does not reveal how much of a guessed key was right.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/stream_name.hpp"

namespace eventfeed::core {

struct principal {
  std::string name;
  std::vector<stream_pattern> publish;  // streams it may publish to
  std::vector<stream_pattern> read;     // streams it may read

  bool may_publish(std::string_view stream) const noexcept;
  bool may_read(std::string_view stream) const noexcept;
};

class key_ring {
 public:
  void add(std::string key, principal who);
  const principal* find(std::string_view key) const noexcept;
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  std::vector<std::pair<std::string, principal>> entries_;
};

// Extracts the token of an `Authorization: Bearer <token>` header value; nullopt if the header
// is not of that scheme (the scheme is matched case-insensitively).
std::optional<std::string_view> bearer_token(std::string_view authorization) noexcept;

}  // namespace eventfeed::core
