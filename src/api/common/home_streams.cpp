#include "api/common/home_streams.hpp"

#include <algorithm>

namespace eventfeed::api::common {

std::vector<std::string> adopt_home_credentials(feed::engine& feed, const std::string& owner,
                                                const std::vector<home_credential>& credentials,
                                                feed::rate_limiter& limiter, key_directory& keys,
                                                feed::publish_check check) {
  auto ring = std::make_shared<key_ring>();
  std::vector<std::string> streams;
  for (const auto& c : credentials) {
    core::principal who;
    who.name = c.name;
    who.who = c.identity;
    who.streams = {c.stream};
    ring->add(c.secret, std::move(who), c.login, &limiter.slot(c.rate_key));
    if (std::find(streams.begin(), streams.end(), c.stream) == streams.end())
      streams.push_back(c.stream);
  }
  keys.replace(std::move(ring));
  feed.guard_streams(owner, streams, std::make_shared<const feed::publish_check>(std::move(check)));
  return streams;
}

}  // namespace eventfeed::api::common
