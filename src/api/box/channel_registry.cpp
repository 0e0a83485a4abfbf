#include "api/box/channel_registry.hpp"

namespace eventfeed::api::box {

channel_registry::channel_registry(const core::clock& clock, channel_limits limits)
    : clock_(clock), limits_(limits), id_key_(core::random_siphash_key()) {}

std::string channel_registry::next_id() {
  return hash_hex(id_key_, std::to_string(++counter_));
}

std::size_t channel_registry::pop_front_while(std::deque<std::string>& ids,
                                              const std::function<bool(const channel&)>& drop) {
  std::size_t dropped = 0;
  while (!ids.empty()) {
    auto it = by_id_.find(ids.front());
    if (!drop(it->second)) break;
    by_id_.erase(it);
    ids.pop_front();
    ++dropped;
  }
  return dropped;
}

std::string channel_registry::open(const std::string& stream, box::stream_type type) {
  const auto now = clock_.steady_now();
  std::lock_guard lock(mutex_);
  auto& ids = by_owner_[stream];
  pop_front_while(ids, [&](const channel&) { return ids.size() >= limits_.per_owner; });
  std::string id = next_id();
  by_id_.emplace(id, channel{stream, type, now + limits_.ttl, 0});
  ids.push_back(id);
  return id;
}

std::optional<channel_grant> channel_registry::poll(std::string_view id) {
  const auto now = clock_.steady_now();
  std::lock_guard lock(mutex_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  channel& c = it->second;
  if (now >= c.expires || c.polls >= limits_.max_retries) return std::nullopt;
  ++c.polls;
  return channel_grant{c.stream, c.type, c.expires};
}

std::size_t channel_registry::collect() {
  const auto now = clock_.steady_now();
  std::lock_guard lock(mutex_);
  std::size_t dropped = 0;
  for (auto it = by_owner_.begin(); it != by_owner_.end();) {
    dropped += pop_front_while(it->second, [&](const channel& c) { return now >= c.expires; });
    it = it->second.empty() ? by_owner_.erase(it) : std::next(it);
  }
  return dropped;
}

void channel_registry::retain(const std::unordered_set<std::string>& streams) {
  std::lock_guard lock(mutex_);
  for (auto it = by_owner_.begin(); it != by_owner_.end();) {
    if (streams.contains(it->first)) {
      ++it;
      continue;
    }
    pop_front_while(it->second, [](const channel&) { return true; });
    it = by_owner_.erase(it);
  }
}

std::size_t channel_registry::size() const {
  std::lock_guard lock(mutex_);
  return by_id_.size();
}

}  // namespace eventfeed::api::box
