// feed/queues.hpp: durable consumer queues (Zulip's event queues, in any dialect's terms).
//
// A queue is a consumer's place in the log, kept by the server between its requests: the
// streams it follows (sharing a `{tag}`, so one cursor covers them), a filter, its owner, an idle
// lifespan, and two cursors: `acked` (everything up to it the consumer has acknowledged) and
// `delivered` (the furthest any answer has handed out). A poll of the queue reads after `acked`,
// so what was delivered but not acknowledged is delivered again: at-least-once, exactly-once for
// a consumer that acknowledges what it got.
//
// Durability. Each queue is one store record (kind `kind`, key: its id), written with
// store::swap_record against the value last written, so two writers can never interleave. A
// queue is created durably (the create answers after the write). The acknowledged cursor is
// written lazily: at most every `persist_interval`, and by the sweep; after a crash a queue may
// resume from an older `acked`, which is safe, since a consumer's acknowledgements only move
// forward (it acknowledges again what it already had, and nothing it has not seen is skipped).
// Every record carries an expiry time in the store, two lifespans and ten minutes after the
// queue's last access and refreshed as it is used (a poll in progress counts as use at every
// sweep), so a queue whose server is gone for good is dropped by the store itself (what a Redis
// backend will do with EXPIRE) while the sweep always collects a running server's idle queues
// first.
//
// Lifecycle. create → polled (begin_poll/end_poll around each poll: a queue being polled is
// never collected) → removed by its owner, or collected by `sweep` once no poll is parked and
// it was last accessed `lifespan` ago. After a restart, `load` brings back every queue the store
// kept, marked `restarted` (once, for dialects that tell their clients: Zulip's `restart` event),
// with `delivered` at the streams' head (what the consumer may have had before the crash) and
// its last access set to the load: a restart counts as an access, so clients get a whole
// lifespan to come back.
//
// Limits: at most `per_owner` queues per owner and `total` in all; a create past them is refused
// (errc::payload_too_large, "too many queues"), never an unbounded registry.
//
// Thread-safety: every member may be called from any thread. Queues live in shards, each with its
// own mutex; a store call is never made while a shard's mutex is held (a store may call back
// inline).
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/errc.hpp"
#include "core/event.hpp"
#include "core/filter.hpp"
#include "core/string_hash.hpp"
#include "store/store.hpp"

namespace eventfeed::feed {

namespace net = boost::asio;

struct queue_spec {
  std::string owner;                 // who may use it (a principal's name)
  std::vector<std::string> streams;  // sharing a {tag}
  core::event_filter filter;
  std::chrono::seconds lifespan{600};  // idle time after which the sweep collects it
  std::string attributes;              // the dialect's own settings, JSON text, kept as given
};

// A copy of one queue's state.
struct queue_snapshot {
  std::string id;
  queue_spec spec;
  core::position base = 0;       // the head when it was created: acknowledging it is a no-op
  core::position acked = 0;      // acknowledged through here
  core::position delivered = 0;  // handed out through here
};

struct queue_limits {
  std::size_t per_owner = 100;
  std::size_t total = 100'000;
  std::chrono::milliseconds persist_interval{5'000};  // most often an ack is written per queue
};

// What an acknowledgement found.
enum class ack_outcome : std::uint8_t {
  ok,       // `acked` is now the given position (or already was)
  behind,   // the position is below `acked`: those events were already acknowledged
  ahead,    // the position is beyond what the queue ever delivered
  unknown,  // no such queue
};

class queue_registry {
 public:
  queue_registry(store::store& store, const core::clock& clock, std::string kind,
                 queue_limits limits = {});
  queue_registry(const queue_registry&) = delete;
  queue_registry& operator=(const queue_registry&) = delete;
  ~queue_registry();

  // Brings back the queues the store keeps (see the file comment). Call once, before use.
  void load();

  // A new queue starting after `base`, written to the store before it answers.
  net::awaitable<core::result<queue_snapshot>> async_create(queue_spec spec, core::position base);

  std::optional<queue_snapshot> find(std::string_view id) const;

  // Moves `acked` to `to` if acked <= to <= delivered (see ack_outcome); the new value reaches
  // the store lazily. `acked` of the snapshot tells where it is.
  ack_outcome acknowledge(std::string_view id, core::position to, core::position* acked = nullptr);

  // A poll of the queue handed out events (or a heartbeat) through `through`.
  void delivered(std::string_view id, core::position through);

  // True once after load() for each queue it brought back; false afterwards and for new queues.
  bool take_restart(std::string_view id);

  // A poll of the queue starts or ends: the queue is not collected while one is in progress,
  // and both count as an access.
  void begin_poll(std::string_view id);
  void end_poll(std::string_view id);

  // Removes the queue (and its record); false if there was none.
  net::awaitable<bool> async_remove(std::string id);

  // Collects queues idle past their lifespan (no poll in progress), writes acknowledgements not
  // yet written, and refreshes expiry times in the store. Returns the ids collected.
  std::vector<std::string> sweep();

  std::size_t size() const;
  std::size_t owned_by(std::string_view owner) const;

 private:
  struct entry;
  struct shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::unique_ptr<entry>, core::string_hash, std::equal_to<>>
        queues;
  };
  shard& shard_for(std::string_view id) const noexcept;
  // Writes the queue's current state if it changed (or its expiry needs refreshing), unless a
  // write is in flight, in which case that write's completion writes again. Never under a lock.
  void persist(const std::string& id, bool force);
  std::string record_of(const entry& e) const;
  std::int64_t expiry_for(std::int64_t last_access_ms, std::chrono::seconds lifespan) const;
  bool expiry_due(const entry& e) const;
  core::position head_of(const std::vector<std::string>& streams) const;
  void forget(shard& s, std::unordered_map<std::string, std::unique_ptr<entry>, core::string_hash,
                                           std::equal_to<>>::iterator it);

  store::store& store_;
  const core::clock& clock_;
  std::string kind_;
  queue_limits limits_;
  mutable std::array<shard, 16> shards_;
  mutable std::mutex owners_mutex_;
  std::map<std::string, std::size_t, std::less<>> owners_;  // queues per owner
  std::size_t total_ = 0;                                   // guarded by owners_mutex_
};

}  // namespace eventfeed::feed
