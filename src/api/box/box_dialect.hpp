// api/box/box_dialect.hpp: Box's event stream and realtime server as a dialect of the server:
// its config (`[box]` and `[[box.tokens]]`), its routes, the per-token rate limit, the checks
// on its users' streams, the collection of expired realtime channels, and its reload (SIGHUP:
// new tokens and users; a revoked token is refused from then on, the channels of a stream no
// longer configured are dropped, parked polls are undisturbed).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/box/box_api.hpp"
#include "api/box/channel_registry.hpp"
#include "api/common/credentials.hpp"
#include "api/common/dialect.hpp"
#include "core/principal.hpp"
#include "feed/rate_limiter.hpp"

namespace eventfeed::api::box {

// One `[[box.tokens]]` entry.
struct token_entry {
  std::string token;
  core::identity user;  // Box's user: id, name, login
  std::string stream;   // the stream that carries this user's events
};

class box_dialect final : public common::dialect {
 public:
  // What configure read, and the realtime channels (after install).
  const options& settings() const noexcept { return opts_; }
  const std::vector<token_entry>& tokens() const noexcept { return tokens_; }
  channel_registry& channels() noexcept { return *channels_; }

  std::string_view name() const noexcept override { return "box"; }
  std::vector<std::string> sections() const override { return {"box"}; }
  // `[box]` (its settings) and `[[box.tokens]]`; a token configured twice is refused.
  bool configure(const common::config_table& root) override;
  // The routes, the users' streams' checks, and the channel collector on the task group.
  void install(common::platform& p) override;
  // The tokens of `fresh`; the `[box]` settings stay as they were installed.
  void reload(common::dialect& fresh) override;

 private:
  // The ring of every token with its rate slot; the users' streams guarded; the channels of
  // streams no longer configured dropped.
  void adopt(const std::vector<token_entry>& tokens);

  options opts_;
  std::vector<token_entry> tokens_;
  std::shared_ptr<channel_registry> channels_;  // shared with the collector task
  std::unique_ptr<feed::rate_limiter> limiter_;
  common::key_directory keys_;
  common::platform* platform_ = nullptr;  // set by install
};

}  // namespace eventfeed::api::box
