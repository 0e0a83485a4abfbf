// api/common/home_streams.hpp: adopting the credentials of a dialect whose callers each read a
// stream of their own (a Chaturbate room's, a Box user's): a key ring whose entries carry their
// rate slots, and publish checks on those streams.
//
// A dialect calls `adopt_home_credentials` at install and again on every reload with the
// credentials of the config in force: the ring is swapped in the key directory (requests in
// flight keep the ring they started with), each credential finds its rate slot again by its
// key (so a budget spent before a reload stays spent), and the checks the dialect set on streams
// are replaced by checks on the streams of this set only.
//
// Thread affinity: the main thread (install, reload); the request path only reads what it sets.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/common/credentials.hpp"
#include "core/principal.hpp"
#include "feed/feed.hpp"
#include "feed/rate_limiter.hpp"

namespace eventfeed::api::common {

struct home_credential {
  std::string secret;
  std::string login;        // empty: the secret alone identifies the caller
  std::string name;         // the principal's label in logs
  core::identity identity;  // who the caller is; no response shows it (Box: a token's user)
  std::string stream;       // the home stream, the principal's only one
  std::string rate_key;  // its slot in the dialect's limiter (a configured credential, never input)
};

// Makes the ring of `credentials` current in `keys` and guards their home streams with `check`
// on behalf of `owner` (a dialect's name). Returns the home streams, each once, in the order of
// their first credential.
std::vector<std::string> adopt_home_credentials(feed::engine& feed, const std::string& owner,
                                                const std::vector<home_credential>& credentials,
                                                feed::rate_limiter& limiter, key_directory& keys,
                                                feed::publish_check check);

}  // namespace eventfeed::api::common
