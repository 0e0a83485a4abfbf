// bench/loadgen/chaturbate_protocol.hpp: the Chaturbate-style feed as a load-generator protocol,
// for catch-up reads only (the feed has no publish of its own: a room is filled through the
// native API).
//
//   subscribe  GET /events/{username}/{token}/?i={cursor}&timeout={s}
//              cursor: the `i` of the answer's nextUrl; messages: the events' objects, which
//              carry the stamp as {"seq": K, "ts": NS} beside the fields the feed requires
// The room is fixed at construction: the channel a scenario names is not used.
#pragma once

#include <chrono>
#include <string>

#include "loadgen/protocol.hpp"

namespace eventfeed::bench {

class chaturbate_protocol final : public protocol {
 public:
  chaturbate_protocol(std::string host, std::string username, std::string token,
                      std::chrono::seconds poll_timeout);

  std::string_view name() const noexcept override { return "chaturbate"; }
  std::string initial_cursor() const override { return {}; }
  request subscribe_request(std::string_view channel, std::string_view cursor) const override;
  poll_answer parse_subscribe(const response& res, std::string_view cursor) const override;
  request publish_request(std::string_view channel, const stamp& s) const override;
  bool publish_accepted(const response& res, std::string& detail) const override;
  request publish_batch_request(std::string_view channel, std::uint64_t first_seq,
                                std::size_t count, std::int64_t sent_ns) const override;
  publish_ack parse_publish_ack(const response& res, std::size_t count) const override;
  std::optional<request> parked_request(const parked_query&) const override {
    return std::nullopt;
  }
  std::optional<std::size_t> parse_parked(const response&) const override { return std::nullopt; }

 private:
  std::string host_;
  std::string path_;  // "/events/<username>/<token>/?i="
  std::string timeout_param_;
};

}  // namespace eventfeed::bench
