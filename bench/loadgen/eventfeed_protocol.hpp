// bench/loadgen/eventfeed_protocol.hpp: eventfeed's native API as a load-generator protocol.
//
//   subscribe  GET  /v1/streams/{c}/events?after={cursor}&timeout={s}   cursor: "now", then `next`
//   publish    POST /v1/streams/{c}/events  {"type":"bench","data":{"seq":K,"ts":NS}}
//              (a batch: {"events":[{"type":"bench","data":{...}}, ...]}) → 200 {"first","last"}
//   parked     GET  /healthz → {"waiters": N}  (every parked poll of the server)
// Every request carries `Authorization: Bearer <key>`.
#pragma once

#include <chrono>
#include <string>

#include "loadgen/protocol.hpp"

namespace eventfeed::bench {

class eventfeed_protocol final : public protocol {
 public:
  // `host` is the Host header ("127.0.0.1:8080"); `poll_timeout` the server-side hold.
  // `limit` > 0 adds `&limit=N` to every read (catch-up reads of one event per answer).
  eventfeed_protocol(std::string host, std::string key, std::chrono::seconds poll_timeout,
                     std::size_t limit = 0);

  std::string_view name() const noexcept override { return "eventfeed"; }
  std::string initial_cursor() const override { return "now"; }
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
  request base(bhttp::verb method, std::string target) const;

  std::string host_;
  std::string authorization_;
  std::string timeout_param_;
};

}  // namespace eventfeed::bench
