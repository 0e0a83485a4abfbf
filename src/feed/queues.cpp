#include "feed/queues.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <random>

#include "feed/await_store.hpp"

namespace eventfeed::feed {

namespace json = boost::json;

struct queue_registry::entry {
  queue_spec spec;
  core::position base = 0;
  core::position acked = 0;
  core::position delivered = 0;
  std::int64_t created_ms = 0;
  std::int64_t last_access_ms = 0;
  std::size_t polls = 0;  // polls in progress
  bool restarted = false;
  // What the store holds: the value last written (what the next write must find there), its
  // expiry, and the acknowledgement it carries.
  std::optional<std::string> written;
  std::int64_t written_expiry_ms = 0;
  std::int64_t written_at_ms = 0;
  core::position written_acked = 0;
  bool writing = false;  // a write is in flight
  bool again = false;    // something changed while it was: write again when it ends
};

namespace {

// A random id in the form of a version-4 UUID: what Zulip's clients see as a queue id.
std::string new_queue_id() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  const std::uint64_t hi = (random() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  const std::uint64_t lo = (random() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char text[37];
  std::snprintf(text, sizeof text, "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(hi >> 32),
                static_cast<unsigned long long>((hi >> 16) & 0xffff),
                static_cast<unsigned long long>(hi & 0xffff),
                static_cast<unsigned long long>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return text;
}

json::array strings_json(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& s : items) out.emplace_back(s);
  return out;
}

std::uint64_t unsigned_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v && v->is_uint64()) return v->get_uint64();
  if (v && v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
  return 0;
}

}  // namespace

queue_registry::queue_registry(store::store& store, const core::clock& clock, std::string kind,
                               queue_limits limits)
    : store_(store), clock_(clock), kind_(std::move(kind)), limits_(limits) {}

queue_registry::~queue_registry() = default;

queue_registry::shard& queue_registry::shard_for(std::string_view id) const noexcept {
  return shards_[std::hash<std::string_view>{}(id) % shards_.size()];
}

std::string queue_registry::record_of(const entry& e) const {
  return json::serialize(json::value{{"owner", e.spec.owner},
                                     {"streams", strings_json(e.spec.streams)},
                                     {"filter", core::filter_to_json(e.spec.filter)},
                                     {"lifespan_s", e.spec.lifespan.count()},
                                     {"attributes", e.spec.attributes},
                                     {"base", e.base},
                                     {"acked", e.acked},
                                     {"created_ms", e.created_ms}});
}

// Two lifespans and ten minutes after the last access: far enough that the registry's own sweep
// (which collects at one lifespan) always acts first while the server runs, even for a short
// lifespan and a sweep a minute apart; the store's expiry only drops orphans.
std::int64_t queue_registry::expiry_for(std::int64_t last_access_ms,
                                        std::chrono::seconds lifespan) const {
  constexpr std::int64_t slack_ms = 10 * 60 * 1000;
  return last_access_ms +
         2 * std::chrono::duration_cast<std::chrono::milliseconds>(lifespan).count() + slack_ms;
}

// The store's expiry is refreshed once half of its window has passed since the last write: so
// it never comes near while the queue is used, at one write per half window per queue.
bool queue_registry::expiry_due(const entry& e) const {
  return e.written_expiry_ms - e.last_access_ms < expiry_for(0, e.spec.lifespan) / 2;
}

core::position queue_registry::head_of(const std::vector<std::string>& streams) const {
  core::position head = 0;
  for (const auto& stream : streams)
    if (auto info = store_.try_info(stream); info && *info) head = std::max(head, (*info)->head);
  return head;
}

void queue_registry::load() {
  const std::int64_t now = clock_.wall_ms();
  std::vector<std::string> loaded;
  for (auto& [id, value] : store_.list_records(kind_)) {
    boost::system::error_code ec;
    json::value v = json::parse(value, ec);
    const json::object* o = ec ? nullptr : v.if_object();
    const json::value* filter = o ? o->if_contains("filter") : nullptr;
    auto parsed = filter && filter->is_string()
                      ? core::filter_from_json(filter->get_string())
                      : core::result<core::event_filter>(core::errc::bad_request, "no filter");
    if (!o || !parsed) {
      spdlog::warn("queue {} in the store cannot be read; it is left out", id);
      continue;
    }
    auto e = std::make_unique<entry>();
    if (auto* owner = o->if_contains("owner"); owner && owner->is_string())
      e->spec.owner = std::string(owner->get_string());
    if (auto* streams = o->if_contains("streams"); streams && streams->is_array())
      for (const auto& s : streams->get_array())
        if (s.is_string()) e->spec.streams.emplace_back(s.get_string());
    if (auto* attrs = o->if_contains("attributes"); attrs && attrs->is_string())
      e->spec.attributes = std::string(attrs->get_string());
    e->spec.filter = std::move(*parsed);
    e->spec.lifespan = std::chrono::seconds(unsigned_at(*o, "lifespan_s"));
    e->base = unsigned_at(*o, "base");
    e->acked = unsigned_at(*o, "acked");
    e->created_ms = static_cast<std::int64_t>(unsigned_at(*o, "created_ms"));
    // The consumer may have had everything up to the head before the server went down.
    e->delivered = std::max(e->acked, head_of(e->spec.streams));
    e->last_access_ms = now;
    e->restarted = true;
    e->written = value;
    e->written_acked = e->acked;
    {
      std::lock_guard lock(owners_mutex_);
      ++owners_[e->spec.owner];
      ++total_;
    }
    shard& s = shard_for(id);
    std::lock_guard lock(s.mutex);
    s.queues.emplace(id, std::move(e));
    loaded.push_back(id);
  }
  // The restart counts as an access: every expiry moves out a lifespan from now.
  for (const auto& id : loaded) persist(id, true);
  if (!loaded.empty())
    spdlog::info("{} {} queue(s) brought back from the store", loaded.size(), kind_);
}

net::awaitable<core::result<queue_snapshot>> queue_registry::async_create(queue_spec spec,
                                                                          core::position base) {
  {
    std::lock_guard lock(owners_mutex_);
    auto& mine = owners_[spec.owner];
    if (mine >= limits_.per_owner || total_ >= limits_.total) {
      const bool per_owner = mine >= limits_.per_owner;
      if (mine == 0) owners_.erase(spec.owner);
      co_return core::error{
          core::errc::payload_too_large,
          per_owner
              ? "too many queues for this user (at most " + std::to_string(limits_.per_owner) + ")"
              : "too many queues on this server (at most " + std::to_string(limits_.total) + ")"};
    }
    ++mine;
    ++total_;
  }
  auto e = std::make_unique<entry>();
  e->spec = std::move(spec);
  e->base = e->acked = e->delivered = base;
  e->created_ms = e->last_access_ms = clock_.wall_ms();
  const std::string value = record_of(*e);
  const std::int64_t expiry = expiry_for(e->last_access_ms, e->spec.lifespan);
  std::string id;
  core::result<bool> wrote = false;
  for (int attempt = 0; attempt < 3 && wrote && !*wrote; ++attempt) {
    id = new_queue_id();
    wrote = co_await await_store<core::result<bool>>([&](auto done) {
      store_.swap_record(kind_, id, std::nullopt, value, expiry, std::move(done));
    });
  }
  if (!wrote || !*wrote) {
    std::lock_guard lock(owners_mutex_);
    if (--owners_[e->spec.owner] == 0) owners_.erase(e->spec.owner);
    --total_;
    if (!wrote) co_return std::move(wrote).err();
    co_return core::error{core::errc::internal, "could not draw a free queue id"};
  }
  e->written = value;
  e->written_expiry_ms = expiry;
  e->written_at_ms = e->created_ms;
  e->written_acked = e->acked;
  queue_snapshot snap{id, e->spec, e->base, e->acked, e->delivered};
  shard& s = shard_for(id);
  std::lock_guard lock(s.mutex);
  s.queues.emplace(id, std::move(e));
  co_return snap;
}

std::optional<queue_snapshot> queue_registry::find(std::string_view id) const {
  shard& s = shard_for(id);
  std::lock_guard lock(s.mutex);
  auto it = s.queues.find(id);
  if (it == s.queues.end()) return std::nullopt;
  const entry& e = *it->second;
  return queue_snapshot{it->first, e.spec, e.base, e.acked, e.delivered};
}

ack_outcome queue_registry::acknowledge(std::string_view id, core::position to,
                                        core::position* acked) {
  bool write = false;
  {
    shard& s = shard_for(id);
    std::lock_guard lock(s.mutex);
    auto it = s.queues.find(id);
    if (it == s.queues.end()) return ack_outcome::unknown;
    entry& e = *it->second;
    if (acked) *acked = e.acked;
    if (to < e.acked) return ack_outcome::behind;
    if (to > e.delivered) return ack_outcome::ahead;
    e.acked = to;
    if (acked) *acked = to;
    write = e.acked != e.written_acked &&
            clock_.wall_ms() - e.written_at_ms >= limits_.persist_interval.count();
  }
  if (write) persist(std::string(id), false);
  return ack_outcome::ok;
}

void queue_registry::delivered(std::string_view id, core::position through) {
  shard& s = shard_for(id);
  std::lock_guard lock(s.mutex);
  if (auto it = s.queues.find(id); it != s.queues.end())
    it->second->delivered = std::max(it->second->delivered, through);
}

bool queue_registry::take_restart(std::string_view id) {
  shard& s = shard_for(id);
  std::lock_guard lock(s.mutex);
  auto it = s.queues.find(id);
  if (it == s.queues.end() || !it->second->restarted) return false;
  it->second->restarted = false;
  return true;
}

void queue_registry::begin_poll(std::string_view id) {
  shard& s = shard_for(id);
  std::lock_guard lock(s.mutex);
  if (auto it = s.queues.find(id); it != s.queues.end()) {
    ++it->second->polls;
    it->second->last_access_ms = clock_.wall_ms();
  }
}

void queue_registry::end_poll(std::string_view id) {
  bool refresh = false;
  {
    shard& s = shard_for(id);
    std::lock_guard lock(s.mutex);
    auto it = s.queues.find(id);
    if (it == s.queues.end()) return;
    entry& e = *it->second;
    if (e.polls > 0) --e.polls;
    e.last_access_ms = clock_.wall_ms();
    refresh = expiry_due(e);
  }
  if (refresh) persist(std::string(id), true);
}

void queue_registry::forget(shard& s, decltype(shard::queues)::iterator it) {
  {
    std::lock_guard lock(owners_mutex_);
    auto owner = owners_.find(it->second->spec.owner);
    if (owner != owners_.end() && --owner->second == 0) owners_.erase(owner);
    --total_;
  }
  s.queues.erase(it);
}

net::awaitable<bool> queue_registry::async_remove(std::string id) {
  std::optional<std::string> written;
  {
    shard& s = shard_for(id);
    std::lock_guard lock(s.mutex);
    auto it = s.queues.find(id);
    if (it == s.queues.end()) co_return false;
    written = it->second->written;
    forget(s, it);
  }
  // Whatever a write in flight leaves there, the record goes: erase it outright.
  co_await await_store<std::optional<core::error>>(
      [&](auto done) { store_.erase_record(kind_, id, std::move(done)); });
  co_return true;
}

void queue_registry::persist(const std::string& id, bool force) {
  std::optional<std::string> expected;
  std::string value;
  std::int64_t expiry = 0;
  core::position acked = 0;
  {
    shard& s = shard_for(id);
    std::lock_guard lock(s.mutex);
    auto it = s.queues.find(id);
    if (it == s.queues.end()) return;
    entry& e = *it->second;
    if (e.writing) {
      e.again = true;
      return;
    }
    if (!force && e.acked == e.written_acked) return;
    expected = e.written;
    value = record_of(e);
    expiry = expiry_for(e.last_access_ms, e.spec.lifespan);
    acked = e.acked;
    e.writing = true;
  }
  store_.swap_record(kind_, id, expected, value, expiry,
                     [this, id, value, expiry, acked](core::result<bool> wrote) {
                       bool again = false;
                       {
                         shard& s = shard_for(id);
                         std::lock_guard lock(s.mutex);
                         auto it = s.queues.find(id);
                         if (it == s.queues.end()) return;  // removed meanwhile
                         entry& e = *it->second;
                         e.writing = false;
                         if (wrote && *wrote) {
                           e.written = value;
                           e.written_expiry_ms = expiry;
                           e.written_acked = acked;
                           e.written_at_ms = clock_.wall_ms();
                         } else if (wrote) {
                           // The record is not what this registry wrote: it expired in the store,
                           // or another writer removed it. The queue is gone.
                           spdlog::warn("{} queue {} is no longer in the store; dropped", kind_,
                                        id);
                           forget(s, it);
                           return;
                         }
                         // A failed write (the store is unavailable) is tried again by the next
                         // sweep.
                         again = e.again;
                         e.again = false;
                       }
                       if (again) persist(id, false);
                     });
}

std::vector<std::string> queue_registry::sweep() {
  const std::int64_t now = clock_.wall_ms();
  std::vector<std::string> collected;
  std::vector<std::pair<std::string, bool>> to_write;  // id, forced (expiry refresh)
  for (auto& s : shards_) {
    std::lock_guard lock(s.mutex);
    for (auto it = s.queues.begin(); it != s.queues.end();) {
      entry& e = *it->second;
      const auto lifespan_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(e.spec.lifespan).count();
      if (e.polls > 0) e.last_access_ms = now;  // being polled is being used
      if (e.polls == 0 && now - e.last_access_ms >= lifespan_ms) {
        collected.push_back(it->first);
        auto gone = it++;
        forget(s, gone);
        continue;
      }
      const bool stale_expiry = expiry_due(e);
      if (stale_expiry || e.acked != e.written_acked || !e.written)
        to_write.emplace_back(it->first, stale_expiry || !e.written);
      ++it;
    }
  }
  for (const auto& id : collected) store_.erase_record(kind_, id, [](auto) {});
  for (const auto& [id, force] : to_write) persist(id, force);
  return collected;
}

std::size_t queue_registry::size() const {
  std::lock_guard lock(owners_mutex_);
  return total_;
}

std::size_t queue_registry::owned_by(std::string_view owner) const {
  std::lock_guard lock(owners_mutex_);
  auto it = owners_.find(owner);
  return it == owners_.end() ? 0 : it->second;
}

}  // namespace eventfeed::feed
