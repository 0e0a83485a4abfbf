// api/zulip/zulip_dialect.hpp: Zulip's events API as a dialect of the server: its config
// (`[zulip]` and `[[zulip.users]]`), its routes, the durable queues (feed::queue_registry over
// the store, collected by a periodic task), the per-user rate limit, the checks on its streams,
// and its reload (SIGHUP: users and keys).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/common/credentials.hpp"
#include "api/common/dialect.hpp"
#include "api/zulip/zulip_api.hpp"
#include "feed/queues.hpp"
#include "feed/rate_limiter.hpp"

namespace eventfeed::api::zulip {

// One `[[zulip.users]]` entry.
struct user {
  std::string email;
  std::string api_key;
  std::int64_t user_id = 0;
  std::string full_name;
  std::string stream;
};

class zulip_dialect final : public common::dialect {
 public:
  std::string_view name() const noexcept override { return "zulip"; }
  std::vector<std::string> sections() const override { return {"zulip"}; }
  bool configure(const common::config_table& root) override;
  void install(common::platform& p) override;
  void reload(common::dialect& fresh) override;

  const settings& options() const noexcept { return settings_; }
  const std::vector<user>& users() const noexcept { return users_; }
  feed::queue_registry* queues() noexcept { return queues_.get(); }

 private:
  void adopt(const std::vector<user>& users);

  settings settings_;
  feed::queue_limits limits_;
  std::chrono::seconds gc_interval_{60};
  std::vector<user> users_;
  common::platform* platform_ = nullptr;
  std::unique_ptr<feed::rate_limiter> limiter_;
  std::unique_ptr<feed::queue_registry> queues_;
  common::key_directory keys_;
};

}  // namespace eventfeed::api::zulip
