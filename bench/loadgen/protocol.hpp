// bench/loadgen/protocol.hpp: what the load generator needs to know of one server's HTTP API.
//
// The load generator drives every server the same way: subscribers long-poll a channel from a
// cursor and re-poll from the cursor each answer hands back; a publisher publishes stamped
// messages; a probe asks the server how many subscribers it holds parked. Everything that
// differs between servers sits behind `protocol`:
//   - eventfeed (native API): `GET /v1/streams/{c}/events?after=P`, cursor = the `next` field;
//   - Nchan: `GET /sub/{c}` with If-None-Match / If-Modified-Since, cursor = the response's
//     Etag and Last-Modified (peer_protocols.hpp);
//   - Pushpin: `GET /poll/{c}` through its origin, publish on the handler's `/publish`
//     (peer_protocols.hpp).
// A cursor is an opaque string that only the protocol reads, so a protocol may pack several
// headers into it.
//
// Every published message carries a `stamp`: its sequence number in the run and the sender's
// CLOCK_MONOTONIC time, which every process on the machine shares, so a subscriber in another
// process computes publish-to-delivery latency by one subtraction.
//
// Thread-safety: a protocol is immutable once built and may be used from any thread and, after
// fork(), from any process.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eventfeed::bench {

namespace bhttp = boost::beast::http;
using request = bhttp::request<bhttp::string_body>;
using response = bhttp::response<bhttp::string_body>;

// What every published message carries.
struct stamp {
  std::uint64_t seq = 0;     // 0-based index of the message in the run (the round)
  std::int64_t sent_ns = 0;  // steady_clock (CLOCK_MONOTONIC) when the publish was sent
};

enum class poll_outcome : std::uint8_t {
  messages,  // the answer carries messages (see poll_answer::messages)
  empty,     // the hold ended with nothing new (server timeout): re-poll from `next`
  refused,   // the server asked us to come back later (503, 429, Pushpin's 500/502): back off
  error,     // an answer we do not understand, or a server error: back off and retry
  rejected,  // the server rejects the request itself (401, 403, 404...): retrying cannot help
};

struct poll_answer {
  poll_outcome outcome = poll_outcome::error;
  std::vector<stamp> messages;  // in the order the server sent them
  std::string next;             // the cursor for the next poll
  bool gap = false;             // the server said messages before these were lost to retention
  std::string detail;           // why, for `error`
};

// What a parked-count probe is asked in the middle of a run: the run's channels are
// "<channel_prefix>_<i>", and `published` publishes of this run have been acknowledged so far.
// A server that counts every waiter it holds ignores both; a count derived from a log (Pushpin)
// uses them to count only this run's channels, and only once it has read as far as the last
// acknowledged publish (else a count from before the publish would look like "all parked").
struct parked_query {
  std::string_view channel_prefix;
  std::uint64_t published = 0;
};

// What a publish acknowledgement said (publish mode). `ok` only for an answer that acknowledges
// exactly the `count` messages sent: the right status and, where the server names positions,
// positions consistent with the batch.
struct publish_ack {
  bool ok = false;
  unsigned status = 0;     // the HTTP status
  bool malformed = false;  // a success status with a body that does not match the batch
  std::optional<std::uint64_t> first, last;  // positions the server gave, if any
  std::string detail;                        // why not ok
};

class protocol {
 public:
  virtual ~protocol() = default;

  // A short name for reports ("eventfeed").
  virtual std::string_view name() const noexcept = 0;

  // The cursor of a subscriber's first poll: only what is published from now on.
  virtual std::string initial_cursor() const = 0;
  // A long-poll on `channel` for what comes after `cursor`.
  virtual request subscribe_request(std::string_view channel, std::string_view cursor) const = 0;
  // Reads a subscribe answer; `cursor` is the one the request was made with.
  virtual poll_answer parse_subscribe(const response& res, std::string_view cursor) const = 0;

  // Publishes one message carrying `s` on `channel`.
  virtual request publish_request(std::string_view channel, const stamp& s) const = 0;
  // Whether the server accepted the publish; else `detail` says why.
  virtual bool publish_accepted(const response& res, std::string& detail) const = 0;

  // Publishes `count` messages on `channel` in one request (the server's batch form when
  // count > 1), carrying stamps first_seq .. first_seq + count - 1, all sent at `sent_ns`.
  virtual request publish_batch_request(std::string_view channel, std::uint64_t first_seq,
                                        std::size_t count, std::int64_t sent_ns) const = 0;
  // Reads the answer to publish_batch_request of `count` messages.
  virtual publish_ack parse_publish_ack(const response& res, std::size_t count) const = 0;

  // A request asking how many subscribers the server holds parked, or nullopt if the server
  // cannot tell (then the load generator cannot wait for "all parked" and says so).
  virtual std::optional<request> parked_request(const parked_query& q) const = 0;
  virtual std::optional<std::size_t> parse_parked(const response& res) const = 0;
};

}  // namespace eventfeed::bench
