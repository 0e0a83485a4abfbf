// api/box/channel_registry.hpp: the realtime channels that OPTIONS /2.0/events hands out.
//
// Mechanism. Box's long poll is two steps: OPTIONS /2.0/events answers a realtime URL that
// carries a channel id, and the client then GETs that URL (without needing its token) until it
// is told `new_change` or `reconnect`. A channel is therefore server-side state: whose stream it
// watches, which stream type it filters on, when it expires, and how many polls it has served.
//
// Lifecycle and invariants:
// - `open` makes a channel with an unguessable id (128 bits of SipHash output over a counter,
//   under a key drawn at start-up: knowing one id tells nothing of another) that lives `ttl`
//   from its opening, whatever it does meanwhile.
// - `poll` counts one poll and hands back what the poll needs; a channel that is unknown,
//   expired, or has served `max_retries` polls already answers nothing, and the dialect says
//   `reconnect` (never an error: the SDKs then call OPTIONS again).
// - Memory is bounded twice: each owner (a user's stream) keeps at most `per_owner` channels
//   (opening one more drops its oldest: the legacy Node SDK calls OPTIONS before nearly every
//   poll), and `collect`, run periodically by the dialect on the platform's task group, drops
//   every expired channel. Since every channel lives the same `ttl`, an owner's channels expire
//   in the order they were opened, so both drops take from the front of the owner's queue.
// - `retain` drops the channels of owners no longer configured (after a reload).
//
// Time comes from the clock given (a manual clock in tests).
//
// Thread-safety: every member may be called from any thread; one mutex guards the tables. A
// poll holds it for one hash lookup, never while waiting.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "api/box/box_event.hpp"
#include "core/clock.hpp"
#include "core/siphash.hpp"
#include "core/string_hash.hpp"

namespace eventfeed::api::box {

struct channel_limits {
  std::chrono::milliseconds ttl{std::chrono::minutes(10)};
  std::uint32_t max_retries = 10;  // polls one channel serves
  std::size_t per_owner = 64;      // channels one owner keeps open
};

// What a realtime poll learns of its channel.
struct channel_grant {
  std::string stream;  // the owner's stream
  box::stream_type type = box::stream_type::all;
  std::chrono::steady_clock::time_point expires;
};

class channel_registry {
 public:
  channel_registry(const core::clock& clock, channel_limits limits);
  channel_registry(const channel_registry&) = delete;
  channel_registry& operator=(const channel_registry&) = delete;

  // Opens a channel on `stream` that filters on `type`; returns its id (32 hex digits).
  std::string open(const std::string& stream, box::stream_type type);
  // Counts one poll on channel `id`; nullopt when the channel is unknown, expired, or has
  // served max_retries polls already.
  std::optional<channel_grant> poll(std::string_view id);
  // Drops every expired channel; returns how many it dropped.
  std::size_t collect();
  // Drops the channels of every owner not in `streams`.
  void retain(const std::unordered_set<std::string>& streams);

  std::size_t size() const;
  const channel_limits& limits() const noexcept { return limits_; }

 private:
  struct channel {
    std::string stream;
    box::stream_type type;
    std::chrono::steady_clock::time_point expires;
    std::uint32_t polls = 0;
  };
  std::string next_id();  // under mutex_
  // Pops the front of `ids` while `drop(front)` says so, erasing those channels; returns how
  // many it erased. (An owner's queue and by_id_ hold the same channels: every erase goes
  // through here.)
  std::size_t pop_front_while(std::deque<std::string>& ids,
                              const std::function<bool(const channel&)>& drop);

  const core::clock& clock_;
  const channel_limits limits_;
  const core::siphash_key id_key_;
  mutable std::mutex mutex_;
  std::uint64_t counter_ = 0;
  std::unordered_map<std::string, channel, core::string_hash, std::equal_to<>> by_id_;
  // owner stream -> its channel ids, oldest first.
  std::unordered_map<std::string, std::deque<std::string>, core::string_hash, std::equal_to<>>
      by_owner_;
};

}  // namespace eventfeed::api::box
