// bench/loadgen/peer_protocols.hpp: the peers we compare ourselves with (docs/benchmarks.md
// "Side by side"), as load-generator protocols. Both carry a stamp as the text "<seq> <ns>".
//
// Nchan (nginx module; config in bench/peers/nginx.conf.in):
//   subscribe  GET  /sub/{c}   with If-None-Match / If-Modified-Since from the previous answer's
//              Etag / Last-Modified (the cursor packs both as "<etag>\n<last-modified>"); a cursor
//              without a newline is a whole message id "<time>:<tag>", sent as If-None-Match
//              alone (how a catch-up reader starts at a known message). No cursor: the next
//              message published. One message per answer; 408/304: the hold ended empty.
//   publish    POST /pub/{c}   text/plain body → 201 (someone was waiting) or 202. No batches.
//   parked     GET  /nchan_status → "subscribers: N"
//
// Pushpin (GRIP proxy in front of bench/peers/origin.py; config in bench/peers/pushpin.conf.in):
//   subscribe  GET  /poll/{c} through Pushpin; the origin answers every poll with a hold on
//              channel c. A published item answers it with the stamp; the origin's own body
//              "timeout" ends an empty hold. No cursor (Pushpin keeps no messages: the
//              benchmark waits for every subscriber to be held before each publish).
//              500/502/503 are Pushpin refusing a burst: refused, retried with backoff.
//   publish    POST /publish on the handler's HTTP port: {"items":[{"channel":c,"formats":
//              {"http-response":{"body":"<seq> <ns>\n"}}}]} → 200. No batches.
//   parked     GET  /_parked?prefix=P&published=N on bench/peers/pushpin_parked.py, which reads
//              the handler's log: holds it logged on this run's channels ("subscribe ...")
//              minus the receivers of this run's publishes ("publish ... receivers=R"),
//              answered only once it has read N publish lines (see parked_query).

// `fixed` (nginx `return 200` of a fixed body, the HTTP ceiling of the machine): only for the
// catch-up mode; a request is GET {path} and the answer must be 200 with the expected body size.
#pragma once

#include <optional>
#include <string>

#include "loadgen/protocol.hpp"

namespace eventfeed::bench {

class nchan_protocol final : public protocol {
 public:
  explicit nchan_protocol(std::string host) : host_(std::move(host)) {}

  std::string_view name() const noexcept override { return "nchan"; }
  std::string initial_cursor() const override { return {}; }
  request subscribe_request(std::string_view channel, std::string_view cursor) const override;
  poll_answer parse_subscribe(const response& res, std::string_view cursor) const override;
  request publish_request(std::string_view channel, const stamp& s) const override;
  bool publish_accepted(const response& res, std::string& detail) const override;
  request publish_batch_request(std::string_view channel, std::uint64_t first_seq,
                                std::size_t count, std::int64_t sent_ns) const override;
  publish_ack parse_publish_ack(const response& res, std::size_t count) const override;
  std::optional<request> parked_request(const parked_query& q) const override;
  std::optional<std::size_t> parse_parked(const response& res) const override;

 private:
  std::string host_;
};

class pushpin_protocol final : public protocol {
 public:
  // `host` is Pushpin's client-facing Host header.
  explicit pushpin_protocol(std::string host) : host_(std::move(host)) {}

  std::string_view name() const noexcept override { return "pushpin"; }
  std::string initial_cursor() const override { return {}; }
  request subscribe_request(std::string_view channel, std::string_view cursor) const override;
  poll_answer parse_subscribe(const response& res, std::string_view cursor) const override;
  request publish_request(std::string_view channel, const stamp& s) const override;
  bool publish_accepted(const response& res, std::string& detail) const override;
  request publish_batch_request(std::string_view channel, std::uint64_t first_seq,
                                std::size_t count, std::int64_t sent_ns) const override;
  publish_ack parse_publish_ack(const response& res, std::size_t count) const override;
  std::optional<request> parked_request(const parked_query& q) const override;
  std::optional<std::size_t> parse_parked(const response& res) const override;

 private:
  std::string host_;
};

// A fixed GET answered with a fixed body (catch-up mode only; see above).
class fixed_protocol final : public protocol {
 public:
  fixed_protocol(std::string host, std::string path, std::size_t body_size)
      : host_(std::move(host)), path_(std::move(path)), body_size_(body_size) {}

  std::string_view name() const noexcept override { return "fixed"; }
  std::string initial_cursor() const override { return {}; }
  request subscribe_request(std::string_view channel, std::string_view cursor) const override;
  poll_answer parse_subscribe(const response& res, std::string_view cursor) const override;
  request publish_request(std::string_view, const stamp&) const override;
  bool publish_accepted(const response&, std::string& detail) const override;
  request publish_batch_request(std::string_view, std::uint64_t, std::size_t,
                                std::int64_t) const override;
  publish_ack parse_publish_ack(const response&, std::size_t) const override;
  std::optional<request> parked_request(const parked_query&) const override {
    return std::nullopt;
  }
  std::optional<std::size_t> parse_parked(const response&) const override { return std::nullopt; }

 private:
  std::string host_, path_;
  std::size_t body_size_;
};

// Catch-up reads through any protocol, in the shape the publish mode drives: each "publish" is
// a read of `channel` from the fixed `cursor` (messages already buffered, so the server answers
// at once), and it is acknowledged if the answer carries at least one message and, when
// `expect_seq` is set, the first message is the one that follows the cursor (the reader got
// the right message, not just any 200).
class catchup_protocol final : public protocol {
 public:
  catchup_protocol(const protocol& inner, std::string cursor,
                   std::optional<std::uint64_t> expect_seq = std::nullopt)
      : inner_(inner), cursor_(std::move(cursor)), expect_seq_(expect_seq) {}

  std::string_view name() const noexcept override { return inner_.name(); }
  std::string initial_cursor() const override { return cursor_; }
  request subscribe_request(std::string_view channel, std::string_view cursor) const override {
    return inner_.subscribe_request(channel, cursor);
  }
  poll_answer parse_subscribe(const response& res, std::string_view cursor) const override {
    return inner_.parse_subscribe(res, cursor);
  }
  request publish_request(std::string_view channel, const stamp&) const override {
    return inner_.subscribe_request(channel, cursor_);
  }
  bool publish_accepted(const response& res, std::string& detail) const override;
  request publish_batch_request(std::string_view channel, std::uint64_t, std::size_t,
                                std::int64_t) const override {
    return inner_.subscribe_request(channel, cursor_);
  }
  publish_ack parse_publish_ack(const response& res, std::size_t count) const override;
  std::optional<request> parked_request(const parked_query&) const override {
    return std::nullopt;
  }
  std::optional<std::size_t> parse_parked(const response&) const override { return std::nullopt; }

 private:
  const protocol& inner_;
  std::string cursor_;
  std::optional<std::uint64_t> expect_seq_;
};

}  // namespace eventfeed::bench
