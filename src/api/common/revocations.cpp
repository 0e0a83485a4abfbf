#include "api/common/revocations.hpp"

#include <vector>

namespace eventfeed::api::common {

std::unique_ptr<revocation_board::tracked> revocation_board::track(std::uint64_t serial) {
  auto t = std::make_unique<tracked>();
  t->serial = serial;
  std::lock_guard lock(mutex_);
  t->revoked = revoked_.contains(serial);
  polls_.emplace(serial, t.get());
  return t;
}

void revocation_board::on_wait(tracked& t, const std::function<void()>& cancel) {
  {
    std::lock_guard lock(mutex_);
    if (!t.revoked) {
      t.cancel = cancel;
      return;
    }
  }
  cancel();
}

bool revocation_board::release(tracked& t) {
  std::lock_guard lock(mutex_);
  auto [first, last] = polls_.equal_range(t.serial);
  for (auto it = first; it != last; ++it) {
    if (it->second == &t) {
      polls_.erase(it);
      break;
    }
  }
  t.cancel = nullptr;
  return t.revoked;
}

void revocation_board::revoke(std::uint64_t serial) {
  std::vector<std::function<void()>> cancels;
  {
    std::lock_guard lock(mutex_);
    revoked_.insert(serial);
    auto [first, last] = polls_.equal_range(serial);
    for (auto it = first; it != last; ++it) {
      it->second->revoked = true;
      if (it->second->cancel) cancels.push_back(it->second->cancel);
    }
  }
  for (auto& c : cancels) c();
}

std::size_t revocation_board::tracked_count() const {
  std::lock_guard lock(mutex_);
  return polls_.size();
}

}  // namespace eventfeed::api::common
