#include "feed/hub.hpp"

#include <algorithm>

namespace eventfeed::feed {

hub::hub(std::size_t shard_count)
    : shards_(std::make_unique<shard[]>(std::max<std::size_t>(shard_count, 1))),
      shard_count_(std::max<std::size_t>(shard_count, 1)) {}

hub::~hub() {
  shutdown();
}

hub::shard& hub::shard_for(std::string_view stream) const noexcept {
  return shards_[std::hash<std::string_view>{}(stream) % shard_count_];
}

bool hub::try_claim(waiter& w, wake_reason reason) noexcept {
  if (w.claimed_.exchange(true, std::memory_order_acq_rel)) return false;
  w.reason_ = reason;
  return true;
}

void hub::park(const std::shared_ptr<waiter>& w) {
  // Sized before the key makes `w` reachable: a newer park with the same key may claim and
  // detach `w` from another thread at once, and detach() walks links_.
  w->links_.resize(w->streams_.size());
  if (w->key_) {
    std::shared_ptr<waiter> previous;
    {
      std::lock_guard lock(keys_mutex_);
      auto& slot = keys_[*w->key_];
      previous = slot.lock();
      slot = w;
    }
    if (previous && previous != w) claim(previous, wake_reason::superseded);
  }

  for (std::size_t i = 0; i < w->streams_.size(); ++i) {
    const std::string& name = w->streams_[i];
    shard& s = shard_for(name);
    std::lock_guard lock(s.mutex);
    // Checked under the lock that detach() and shutdown() also take for this shard: a waiter
    // claimed meanwhile is not registered any further, so no list keeps a dangling pointer.
    if (w->claimed()) break;
    if (i == 0 && shut_down_.load(std::memory_order_acquire)) break;
    auto it = s.streams.find(name);
    if (it == s.streams.end()) it = s.streams.emplace(name, stream_waiters{}).first;
    w->links_[i] = {&it->second, it->second.items.size()};
    it->second.items.push_back({w.get(), i});
    if (i == 0) {
      w->deadline_pos_ = s.deadlines.emplace(w->deadline_, w.get());
      w->has_deadline_ = true;
      s.owned.emplace(w.get(), w);
      total_.fetch_add(1, std::memory_order_relaxed);
      if (!w->filter_.predicates().empty()) narrowed_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (shut_down_.load(std::memory_order_acquire)) claim(w, wake_reason::shutdown);
}

// Runs the waiter's handler on the waiter's own executor; always posted, never inline, since the
// claimer may be another thread or may be holding state the resumed coroutine will touch.
void hub::post_wake(waiter& w) {
  boost::asio::post(w.executor_,
                    [h = std::move(w.handler_), r = w.reason_]() mutable { h->invoke(r); });
}

void hub::install_handler(waiter& w, boost::asio::any_io_executor ex,
                          waiter::handler_type handler) {
  w.executor_ = std::move(ex);
  w.handler_ = std::move(handler);
  auto expected = waiter::handoff::empty;
  if (!w.handoff_.compare_exchange_strong(expected, waiter::handoff::handler_set,
                                          std::memory_order_acq_rel)) {
    // Woken before the handler arrived: deliver now, still by posting (never inline).
    post_wake(w);
  }
}

void hub::deliver(waiter& w) {
  auto prev = w.handoff_.exchange(waiter::handoff::woken, std::memory_order_acq_rel);
  if (prev != waiter::handoff::handler_set) return;  // install_handler will deliver
  post_wake(w);
}

void hub::remove_from_list(stream_waiters& list, waiter& w, std::size_t link_index) {
  const std::size_t idx = w.links_[link_index].index;
  list.items[idx] = list.items.back();
  list.items.pop_back();
  if (idx < list.items.size()) {
    const auto& moved = list.items[idx];
    moved.w->links_[moved.link].index = idx;
  }
  w.links_[link_index].list = nullptr;
}

void hub::detach(const std::shared_ptr<waiter>& w) {
  for (std::size_t i = 0; i < w->links_.size(); ++i) {
    shard& s = shard_for(w->streams_[i]);
    std::lock_guard lock(s.mutex);
    if (auto* list = static_cast<stream_waiters*>(w->links_[i].list)) {
      remove_from_list(*list, *w, i);
      if (list->items.empty()) s.streams.erase(w->streams_[i]);
    }
    if (i == 0 && w->has_deadline_) {
      s.deadlines.erase(w->deadline_pos_);
      w->has_deadline_ = false;
      s.owned.erase(w.get());  // the caller's reference keeps `w` alive
      total_.fetch_sub(1, std::memory_order_relaxed);
      if (!w->filter_.predicates().empty()) narrowed_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  forget_key(w);
}

void hub::forget_key(const std::shared_ptr<waiter>& w) {
  if (!w->key_) return;
  std::lock_guard lock(keys_mutex_);
  auto it = keys_.find(*w->key_);
  if (it != keys_.end() && (it->second.expired() || it->second.lock() == w)) keys_.erase(it);
}

bool hub::claim_key(std::string_view key, wake_reason reason) {
  std::shared_ptr<waiter> w;
  {
    std::lock_guard lock(keys_mutex_);
    auto it = keys_.find(std::string(key));
    if (it == keys_.end()) return false;
    w = it->second.lock();
  }
  return w && claim(w, reason);
}

bool hub::claim(const std::shared_ptr<waiter>& w, wake_reason reason) {
  if (!try_claim(*w, reason)) return false;
  detach(w);
  deliver(*w);
  return true;
}

std::size_t hub::notify(const std::vector<core::event_ptr>& events) {
  // Filters with field predicates read each event's parsed data. Parse it here, before any
  // shard lock is taken, when such a waiter is parked anywhere: the parse runs once per event
  // (core/event.hpp), and not while other threads wait for the lock. (A waiter that parks in
  // between parses under the lock, as it would anyway.)
  if (narrowed_.load(std::memory_order_relaxed) > 0)
    for (const auto& ev : events) core::parsed_data(*ev);
  // Waiters on one stream are detached completely under that stream's shard lock; waiters on
  // several streams (whose other lists live under other locks) are detached afterwards.
  std::vector<std::shared_ptr<waiter>> detached;
  std::vector<waiter*> multi;
  // Visit each distinct stream once, with the events of that stream.
  std::vector<bool> done(events.size(), false);
  std::vector<const core::event*> group;
  for (std::size_t first = 0; first < events.size(); ++first) {
    if (done[first]) continue;
    const std::string& name = events[first]->stream;
    group.clear();
    for (std::size_t j = first; j < events.size(); ++j) {
      if (!done[j] && events[j]->stream == name) {
        group.push_back(events[j].get());
        done[j] = true;
      }
    }
    shard& s = shard_for(name);
    std::lock_guard lock(s.mutex);
    auto it = s.streams.find(name);
    if (it == s.streams.end()) continue;
    auto& items = it->second.items;
    for (std::size_t i = 0; i < items.size();) {
      waiter* w = items[i].w;
      const bool wanted =
          !w->claimed() && std::any_of(group.begin(), group.end(), [w](const core::event* ev) {
            return w->filter_.accepts(*ev);
          });
      if (!wanted || !try_claim(*w, wake_reason::events)) {
        ++i;
        continue;
      }
      remove_from_list(it->second, *w, items[i].link);  // moves the last item into slot i
      if (w->streams_.size() == 1) {
        // Its only list and its deadline are both in this shard (the shard of its first
        // stream), which also holds the owning reference: finish the detach here.
        if (w->has_deadline_) {
          s.deadlines.erase(w->deadline_pos_);
          w->has_deadline_ = false;
        }
        auto node = s.owned.extract(w);
        detached.push_back(std::move(node.mapped()));
        total_.fetch_sub(1, std::memory_order_relaxed);
        if (!w->filter_.predicates().empty()) narrowed_.fetch_sub(1, std::memory_order_relaxed);
      } else {
        multi.push_back(w);
      }
    }
    if (items.empty()) s.streams.erase(it);
  }
  // A claimed waiter stays alive at least until its claimer (us) detaches it, because the shard
  // of its first stream owns a reference until then. Take our own reference before detaching.
  const std::size_t single = detached.size();
  for (waiter* w : multi) {
    std::shared_ptr<waiter> owner_ref;
    {
      shard& owner = shard_for(w->streams_[0]);
      std::lock_guard lock(owner.mutex);
      owner_ref = owner.owned.at(w);
    }
    detach(owner_ref);
    detached.push_back(std::move(owner_ref));
  }
  wake_batch batch;
  for (std::size_t i = 0; i < detached.size(); ++i) {
    if (i < single) forget_key(detached[i]);  // detach() did it for the others
    batch.add(*detached[i]);
  }
  batch.post();
  return detached.size();
}

// Handing wakes over to their threads in one post per executor rather than one per waiter: a
// publish that wakes a thousand polls spread over two I/O threads costs two posts (and at
// most two wake-ups of a sleeping thread) instead of a thousand.
void hub::wake_batch::add(waiter& w) {
  auto prev = w.handoff_.exchange(waiter::handoff::woken, std::memory_order_acq_rel);
  if (prev != waiter::handoff::handler_set) return;  // install_handler will deliver
  for (auto& g : groups_) {
    if (g.executor == w.executor_) {
      g.wakes.push_back({std::move(w.handler_), w.reason_});
      return;
    }
  }
  groups_.push_back({w.executor_, {}});
  groups_.back().wakes.push_back({std::move(w.handler_), w.reason_});
}

void hub::wake_batch::post() {
  for (auto& g : groups_) {
    // Resuming a poll's coroutine runs it until its next suspension (usually the write of its
    // answer); the others of the group follow in turn, all on that executor's thread.
    boost::asio::post(g.executor, [wakes = std::move(g.wakes)]() mutable {
      for (auto& [handler, reason] : wakes) handler->invoke(reason);
    });
  }
  groups_.clear();
}

std::size_t hub::expire(std::chrono::steady_clock::time_point now) {
  std::vector<std::shared_ptr<waiter>> due;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    shard& s = shards_[i];
    std::lock_guard lock(s.mutex);
    for (auto it = s.deadlines.begin(); it != s.deadlines.end() && it->first <= now; ++it) {
      if (try_claim(*it->second, wake_reason::timeout)) due.push_back(s.owned.at(it->second));
    }
  }
  for (auto& w : due) {
    detach(w);
    deliver(*w);
  }
  return due.size();
}

void hub::shutdown() {
  shut_down_.store(true, std::memory_order_release);
  std::vector<std::shared_ptr<waiter>> all;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    shard& s = shards_[i];
    std::lock_guard lock(s.mutex);
    for (auto& [ptr, owner] : s.owned)
      if (try_claim(*ptr, wake_reason::shutdown)) all.push_back(owner);
  }
  for (auto& w : all) {
    detach(w);
    deliver(*w);
  }
}

std::size_t hub::waiters(std::string_view stream) const {
  shard& s = shard_for(stream);
  std::lock_guard lock(s.mutex);
  auto it = s.streams.find(stream);
  return it == s.streams.end() ? 0 : it->second.items.size();
}

}  // namespace eventfeed::feed
