#include "store/memory/memory_store.hpp"

#include <algorithm>

namespace eventfeed::store::memory {

memory_store::memory_store(retention_policy retention, const core::clock* clock)
    : retention_(std::move(retention)), clock_(clock ? clock : &system_clock_) {}

void memory_store::append(std::vector<core::new_event> events, append_callback done) {
  std::vector<core::event_ptr> out;
  out.reserve(events.size());
  {
    std::unique_lock lock(mutex_);
    if (closed_) {
      lock.unlock();
      done(core::error{core::errc::shutting_down, "the store is closed"});
      return;
    }
    const std::int64_t now = clock_->wall_ms();
    for (auto& ne : events) {
      auto ev = std::make_shared<core::event>();
      ev->pos = ++sequence_;
      ev->time_ms = now;
      ev->type = std::move(ne.type);
      ev->data = std::move(ne.data);
      auto it = streams_.find(ne.stream);
      if (it == streams_.end()) it = streams_.emplace(ne.stream, stream_log{}).first;
      ev->stream = std::move(ne.stream);
      stream_log& log = it->second;
      log.head = ev->pos;
      log.events.push_back(ev);
      const auto max_events = retention_.for_stream(it->first).max_events;
      while (log.events.size() > max_events) {
        log.trimmed_through = log.events.front()->pos;
        log.events.pop_front();
      }
      out.push_back(std::move(ev));
    }
  }
  done(std::move(out));
}

read_result memory_store::read_locked(const stream_log& log, core::position after,
                                      std::size_t limit) const {
  read_result r;
  r.head = log.head;
  r.gap = after < log.trimmed_through;
  auto first =
      std::upper_bound(log.events.begin(), log.events.end(), after,
                       [](core::position p, const core::event_ptr& e) { return p < e->pos; });
  const auto available = static_cast<std::size_t>(log.events.end() - first);
  const auto n = std::min(limit, available);
  r.events.assign(first, first + static_cast<std::ptrdiff_t>(n));
  return r;
}

std::optional<core::result<read_result>> memory_store::try_read(std::string_view stream,
                                                                core::position after,
                                                                std::size_t limit) {
  std::shared_lock lock(mutex_);
  auto it = streams_.find(stream);
  if (it == streams_.end()) return core::result<read_result>(read_result{});
  return core::result<read_result>(read_locked(it->second, after, limit));
}

void memory_store::read(std::string stream, core::position after, std::size_t limit,
                        read_callback done) {
  done(std::move(*try_read(stream, after, limit)));
}

std::optional<core::result<read_result>> memory_store::try_read_last(std::string_view stream,
                                                                     std::size_t limit) {
  std::shared_lock lock(mutex_);
  read_result r;
  auto it = streams_.find(stream);
  if (it == streams_.end()) return core::result<read_result>(std::move(r));
  const auto& events = it->second.events;
  r.head = it->second.head;
  const auto n = std::min(limit, events.size());
  r.events.assign(events.end() - static_cast<std::ptrdiff_t>(n), events.end());
  return core::result<read_result>(std::move(r));
}

void memory_store::read_last(std::string stream, std::size_t limit, read_callback done) {
  done(std::move(*try_read_last(stream, limit)));
}

std::optional<core::result<stream_info>> memory_store::try_info(std::string_view stream) {
  std::shared_lock lock(mutex_);
  stream_info info;
  if (auto it = streams_.find(stream); it != streams_.end()) {
    info.head = it->second.head;
    info.retained = it->second.events.size();
    if (!it->second.events.empty()) info.oldest = it->second.events.front()->pos;
  }
  return core::result<stream_info>(info);
}

void memory_store::info(std::string stream, info_callback done) {
  done(std::move(*try_info(stream)));
}

void memory_store::trim_expired() {
  const std::int64_t now = clock_->wall_ms();
  std::unique_lock lock(mutex_);
  for (auto& [name, log] : streams_) {
    const auto max_age = retention_.for_stream(name).max_age.count();
    while (!log.events.empty() && now - log.events.front()->time_ms > max_age) {
      log.trimmed_through = log.events.front()->pos;
      log.events.pop_front();
    }
  }
  std::erase_if(records_, [now](const auto& r) { return !r.second.live(now); });
}

std::optional<std::string> memory_store::get_record(std::string_view kind, std::string_view key) {
  const std::int64_t now = clock_->wall_ms();
  std::shared_lock lock(mutex_);
  auto it = records_.find(std::pair{std::string(kind), std::string(key)});
  if (it == records_.end() || !it->second.live(now)) return std::nullopt;
  return it->second.value;
}

std::vector<std::pair<std::string, std::string>> memory_store::list_records(std::string_view kind) {
  const std::int64_t now = clock_->wall_ms();
  std::shared_lock lock(mutex_);
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = records_.lower_bound(std::pair{std::string(kind), std::string()});
       it != records_.end() && it->first.first == kind; ++it)
    if (it->second.live(now)) out.emplace_back(it->first.second, it->second.value);
  return out;
}

void memory_store::put_record(std::string kind, std::string key, std::string value,
                              done_callback done) {
  {
    std::unique_lock lock(mutex_);
    records_[std::pair{std::move(kind), std::move(key)}] = record{std::move(value), 0};
  }
  done(std::nullopt);
}

void memory_store::swap_record(std::string kind, std::string key,
                               std::optional<std::string> expected,
                               std::optional<std::string> value, std::int64_t expires_at_ms,
                               swap_callback done) {
  const std::int64_t now = clock_->wall_ms();
  bool wrote = false;
  {
    std::unique_lock lock(mutex_);
    auto it = records_.find(std::pair{kind, key});
    const bool present = it != records_.end() && it->second.live(now);
    if (present ? expected && *expected == it->second.value : !expected) {
      if (value)
        records_[std::pair{std::move(kind), std::move(key)}] =
            record{std::move(*value), expires_at_ms};
      else if (it != records_.end())
        records_.erase(it);
      wrote = true;
    }
  }
  done(wrote);
}

void memory_store::erase_record(std::string kind, std::string key, done_callback done) {
  {
    std::unique_lock lock(mutex_);
    records_.erase(std::pair{std::move(kind), std::move(key)});
  }
  done(std::nullopt);
}

void memory_store::close() {
  std::unique_lock lock(mutex_);
  closed_ = true;
}

}  // namespace eventfeed::store::memory
