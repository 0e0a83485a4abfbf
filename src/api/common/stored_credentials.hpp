// api/common/stored_credentials.hpp: credentials created at runtime (the admin API), kept in
// the store beside the events.
//
// Each stored credential is one store record (kind "credential", key its id) holding its kind
// ("key" for a native key), its name, its login if its kind has one, the stream patterns it may
// read and publish, a few attributes of its dialect, and the HMAC-SHA256 digest of its secret
// (secret_hasher, credentials.hpp) under a pepper the server keeps in the store too (record
// "credential-pepper"/"hmac", made on the first start). The secret itself is generated here
// (random_token: 32 bytes of OpenSSL's CSPRNG), returned once by `create` and `rotate`, and
// never stored, logged or listed.
//
// The request path never reads the store. Every stored credential is loaded into memory at
// construction, and each kind a dialect serves (`serve`) gets a credential_index: a hash map
// from digest to key entry, sharded, each shard behind a shared mutex. A dialect's gateway asks
// it after its key ring (admission_policy::stored): one HMAC of the presented secret, one map
// lookup under a shared lock. Changes update the index in place (O(1) each, however many
// credentials there are), so the dialects' key rings, which hold only the config file's
// credentials, are never rebuilt for them, and a config reload leaves stored credentials alone.
//
// A change is a compare-and-set of the record (store::swap_record against the record as read,
// so two admins changing one credential at once cannot both win). The in-memory set, the index
// and the revocation board are updated in the store's completion callback: callbacks run in
// commit order, so memory follows the store's order of changes exactly. Only then does the
// change complete: once an admin has the answer, every later request sees it, and the polls
// parked with a revoked or rotated secret have been cancelled (revocations.hpp).
//
// Thread-safety: every member may be called from any thread; `serve` only before the server
// serves. One mutex guards the in-memory set; the indexes have their own locks.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "api/common/credentials.hpp"
#include "api/common/revocations.hpp"
#include "core/clock.hpp"
#include "core/errc.hpp"
#include "store/store.hpp"

namespace eventfeed::api::common {

struct stored_credential {
  std::string id;    // made by the server: "c" and 24 hex digits
  std::string kind;  // "key": a native key
  std::string name;
  std::string login;                 // for kinds whose callers give a login (empty for native keys)
  std::vector<std::string> read;     // stream patterns
  std::vector<std::string> publish;  // stream patterns
  std::map<std::string, std::string> attributes;  // what its dialect needs besides
  std::int64_t created_ms = 0;
  std::int64_t rotated_ms = 0;  // 0: never rotated
  // Not part of what the admin API shows:
  std::string digest;        // secret_hasher::digest of the secret (32 raw bytes)
  std::uint64_t serial = 0;  // this process's number for the current secret (key_entry::serial)
};

// The stored credentials of one kind, by the digest of their secret.
class credential_index {
 public:
  explicit credential_index(std::shared_ptr<const secret_hasher> hasher)
      : hasher_(std::move(hasher)) {}

  // The entry of this credential's secret, whose login matches the credential's if it has one;
  // null if none. The caller keeps the entry alive for as long as it uses it. The digest is
  // looked up by equality, not in constant time: its bytes are HMAC output under a pepper the
  // caller does not know, so how many of them matched says nothing about the secret.
  std::shared_ptr<const key_entry> resolve(const credential& c) const;
  // Adds or replaces the entry of `e->secret` (a digest).
  void put(std::shared_ptr<const key_entry> e);
  void erase(const std::string& digest);
  std::size_t size() const;

 private:
  struct shard {
    mutable std::shared_mutex mutex;
    std::unordered_map<std::string, std::shared_ptr<const key_entry>> entries;
  };
  shard& shard_of(std::string_view digest) const {
    return shards_[digest.empty() ? 0 : static_cast<unsigned char>(digest[0]) % shards_.size()];
  }

  std::shared_ptr<const secret_hasher> hasher_;
  mutable std::array<shard, 16> shards_;
  // How many entries: an empty index answers without digesting the secret, so a server with no
  // stored credential of this kind costs a JWT or an unknown key nothing more.
  std::atomic<std::size_t> count_{0};
};

class credential_store {
 public:
  // What `create` and `rotate` hand back: the credential and its new secret, to be shown once.
  struct issued {
    stored_credential credential;
    std::string secret;
  };

  // Loads the pepper (making and storing it on the first start) and every stored credential.
  // Blocks until the pepper is durable; throws std::runtime_error if the store cannot write it
  // or a record is unreadable.
  credential_store(store::store& s, const core::clock& clock);
  credential_store(const credential_store&) = delete;
  credential_store& operator=(const credential_store&) = delete;

  // Every stored credential of `kind`, by id.
  std::vector<std::shared_ptr<const stored_credential>> list(std::string_view kind) const;
  // The credential with this id and kind, or null.
  std::shared_ptr<const stored_credential> find(std::string_view kind, std::string_view id) const;
  std::size_t size() const;

  // The index of `kind`, made now from the credentials loaded and kept up to date from then
  // on; each entry's principal is what `make` builds from the credential. Called by a dialect
  // at install, before the server serves; once per kind.
  const credential_index& serve(std::string kind,
                                std::function<core::principal(const stored_credential&)> make);
  revocation_board& revocations() noexcept { return board_; }

  // Creates a credential from `fields` (kind, name, login, patterns, attributes; the rest is
  // made here) with a new secret.
  boost::asio::awaitable<core::result<issued>> create(stored_credential fields);
  // Gives the credential a new secret; the old one is refused from now on. not_found if there
  // is no credential of `kind` with this id.
  boost::asio::awaitable<core::result<issued>> rotate(std::string kind, std::string id);
  // Deletes the credential; its secret is refused from now on. Answers what was deleted.
  boost::asio::awaitable<core::result<stored_credential>> revoke(std::string kind, std::string id);

  // The record's JSON text, and back (nullopt if it is not one). Exposed for tests.
  static std::string to_record(const stored_credential& c);
  static std::optional<stored_credential> from_record(std::string_view id, std::string_view text);

 private:
  struct served {
    std::function<core::principal(const stored_credential&)> make;
    std::unique_ptr<credential_index> index;
  };

  // Writes `value` (nullopt: erases) over the record as read (`expected`); once it is
  // committed, makes `now` (null: none) the credential `id` in memory (`apply`). False if the
  // record changed meanwhile; an error if the store failed.
  boost::asio::awaitable<core::result<bool>> commit(std::string id,
                                                    std::optional<std::string> expected,
                                                    std::optional<std::string> value,
                                                    std::shared_ptr<const stored_credential> now);
  // In the store's completion callback: replaces credential `id` in the set and in its kind's
  // index, and revokes the secret it had.
  void apply(const std::string& id, std::shared_ptr<const stored_credential> now);
  std::shared_ptr<const key_entry> entry_of(const served& kind, const stored_credential& c) const;

  store::store& store_;
  const core::clock& clock_;
  std::shared_ptr<const secret_hasher> hasher_;
  revocation_board board_;
  std::atomic<std::uint64_t> next_serial_{1};
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const stored_credential>, std::less<>> by_id_;
  std::map<std::string, served, std::less<>> kinds_;  // guarded by mutex_
};

}  // namespace eventfeed::api::common
