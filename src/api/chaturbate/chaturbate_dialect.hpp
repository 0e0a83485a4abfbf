// api/chaturbate/chaturbate_dialect.hpp: the Chaturbate-style feed as a dialect of the server:
// its config (`[chaturbate]` and `[[chaturbate.rooms]]`), its routes, the per-token rate limit,
// the checks on its rooms' streams, and its reload (SIGHUP: new tokens and rooms, revoked ones
// refused from then on, parked polls undisturbed).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/chaturbate/chaturbate_api.hpp"
#include "api/common/credentials.hpp"
#include "api/common/dialect.hpp"
#include "feed/rate_limiter.hpp"

namespace eventfeed::api::chaturbate {

// One `[[chaturbate.rooms]]` entry.
struct room {
  std::string username;
  std::vector<std::string> tokens;
  std::string stream;
};

class chaturbate_dialect final : public common::dialect {
 public:
  std::string_view name() const noexcept override { return "chaturbate"; }
  std::vector<std::string> sections() const override { return {"chaturbate"}; }
  bool configure(const common::config_table& root) override;
  void install(common::platform& p) override;
  void reload(common::dialect& fresh) override;

  const options& settings() const noexcept { return opts_; }
  const std::vector<room>& rooms() const noexcept { return rooms_; }

 private:
  // The ring of every room's tokens, each with its rate slot; and the rooms' streams guarded.
  void adopt(const std::vector<room>& rooms);

  options opts_;
  std::vector<room> rooms_;
  common::platform* platform_ = nullptr;  // set by install
  std::unique_ptr<feed::rate_limiter> limiter_;
  common::key_directory keys_;
};

}  // namespace eventfeed::api::chaturbate
