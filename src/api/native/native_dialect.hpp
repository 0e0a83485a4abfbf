// api/native/native_dialect.hpp: the native API as a dialect of the server: its config sections
// (`[native]` for its limits, `[[keys]]` for its bearer keys, `[[jwt]]` for the issuers whose
// signed tokens it accepts) and its installation.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/common/credentials.hpp"
#include "api/common/dialect.hpp"
#include "api/common/signed_tokens.hpp"
#include "api/common/stored_credentials.hpp"
#include "api/native/native_api.hpp"

namespace eventfeed::api::native {

// One `[[keys]]` entry.
struct key_config {
  std::string name;
  std::string key;
  std::vector<std::string> publish;  // stream patterns
  std::vector<std::string> read;
  bool admin = false;  // may use the admin API (/v1/admin/)
};

class native_dialect final : public common::dialect {
 public:
  std::string_view name() const noexcept override { return "native"; }
  std::vector<std::string> sections() const override { return {"native", "keys", "jwt"}; }
  bool configure(const common::config_table& root) override;
  void install(common::platform& p) override;
  void reload(common::dialect& fresh) override;

  const options& limits() const noexcept { return opts_; }
  const std::vector<key_config>& keys() const noexcept { return keys_; }
  // The key ring the configured keys make (stored keys have an index of their own in the
  // credential store, asked after this ring).
  std::shared_ptr<const common::key_ring> make_ring() const;

 private:
  // A verifier for the `[[jwt]]` entries in force (a new one, with an empty cache, per reload).
  void trust_signed_tokens();

  options opts_;
  std::vector<key_config> keys_;
  std::vector<common::jwt_key> jwt_keys_;
  common::key_directory directory_;
  common::jwt_trust jwt_;
  const core::clock* clock_ = nullptr;  // the platform's, from install
};

}  // namespace eventfeed::api::native
