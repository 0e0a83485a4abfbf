// store/memory/memory_store.hpp: the complete in-memory backend, for tests and for deployments
// that accept losing everything on restart.
//
// One global position sequence serves every stream (so `{tag}` groups trivially share one).
// Each stream is a deque of event pointers in position order plus two numbers that outlive
// its events: `head` (last position assigned) and `trimmed_through` (highest position removed
// by retention), which is how a read knows to report a gap. A shared_mutex guards everything:
// reads (the hot path of every poll) take it shared, appends and trims exclusively. Every call
// answers inline: nothing here waits on I/O.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"
#include "core/string_hash.hpp"
#include "store/store.hpp"

namespace eventfeed::store::memory {

class memory_store final : public store {
 public:
  explicit memory_store(retention_policy retention = {}, const core::clock* clock = nullptr);

  void append(std::vector<core::new_event> events, append_callback done) override;
  std::optional<core::result<read_result>> try_read(std::string_view stream, core::position after,
                                                    std::size_t limit) override;
  void read(std::string stream, core::position after, std::size_t limit,
            read_callback done) override;
  std::optional<core::result<read_result>> try_read_last(std::string_view stream,
                                                         std::size_t limit) override;
  void read_last(std::string stream, std::size_t limit, read_callback done) override;
  std::optional<core::result<stream_info>> try_info(std::string_view stream) override;
  void info(std::string stream, info_callback done) override;
  std::optional<std::string> get_record(std::string_view kind, std::string_view key) override;
  std::vector<std::pair<std::string, std::string>> list_records(std::string_view kind) override;
  void put_record(std::string kind, std::string key, std::string value,
                  done_callback done) override;
  void erase_record(std::string kind, std::string key, done_callback done) override;
  void swap_record(std::string kind, std::string key, std::optional<std::string> expected,
                   std::optional<std::string> value, std::int64_t expires_at_ms,
                   swap_callback done) override;
  void trim_expired() override;
  void close() override;
  std::string_view backend_name() const noexcept override { return "memory"; }

 private:
  struct stream_log {
    std::deque<core::event_ptr> events;
    core::position head = 0;
    core::position trimmed_through = 0;
  };

  read_result read_locked(const stream_log& log, core::position after, std::size_t limit) const;

  retention_policy retention_;
  core::system_clock system_clock_;
  const core::clock* clock_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, stream_log, core::string_hash, std::equal_to<>> streams_;
  struct record {
    std::string value;
    std::int64_t expires_at_ms = 0;  // 0: never
    bool live(std::int64_t now) const noexcept { return expires_at_ms == 0 || now < expires_at_ms; }
  };
  std::map<std::pair<std::string, std::string>, record, std::less<>> records_;
  core::position sequence_ = 0;
  bool closed_ = false;
};

}  // namespace eventfeed::store::memory
