// core/principal.hpp: who is calling, and which streams they may read or publish to.
//
// A principal is what a credential resolves to (api/common/credentials.hpp finds it): an
// identity (Zulip's user id and full name, a Box token's configured user, a Chaturbate room's
// username; a Box event's `created_by` is the publisher's, not this), the streams that are its
// own (a Zulip user's event stream, a Box user's, a room's), and glob patterns for any further
// streams it may read or publish to (the native API's keys). Plain values: no I/O, no secrets.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/stream_name.hpp"

namespace eventfeed::core {

struct identity {
  std::string id;     // the dialect's user id ("11"); may be empty
  std::string name;   // display name ("Example Bot")
  std::string login;  // email or username ("bot@example.com", "alice")
};

struct principal {
  std::string name;  // a label for logs (the native key's name, a user's email, a room)
  identity who;
  // Streams that are its own, readable without a pattern; the first is its home stream, the
  // one a dialect polls when the request names none.
  std::vector<std::string> streams;
  std::vector<stream_pattern> publish;  // streams it may publish to
  std::vector<stream_pattern> read;     // further streams it may read

  bool may_publish(std::string_view stream) const noexcept;
  bool may_read(std::string_view stream) const noexcept;
  // The first of `streams`, or empty.
  std::string_view home_stream() const noexcept;
};

}  // namespace eventfeed::core
