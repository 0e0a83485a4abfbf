// api/common/gateway.hpp: what every dialect's handlers share: admitting a caller, answering
// an error in the dialect's shape, and the whole long-poll sequence.
//
// A dialect builds one gateway from its error table, its credential form and key directory,
// and (if it limits rates) its rate limiter. Its handlers then only translate:
//
//   net::awaitable<void> poll(request_context& ctx) {   // a plain function, not a coroutine
//     auto req = parse_poll(ctx);                        // admit + parse; errors answered in ctx
//     if (!req) return common::answered();
//     return gateway_.poll(ctx, std::move(*req), render_poll);
//   }
//
// The poll sequence (`poll`): release the request (a parked poll keeps no headers or body),
// hand the engine a hook that starts the disconnect watch only if the poll is about to wait,
// await the engine, end the watch, and answer: nothing useful to a client that has gone (a
// throw-away `{}` with `Connection: close`), the dialect's error for an error, otherwise what
// the dialect's `render(const feed::poll_result&)` returns, with `Connection: close` after a
// shutdown wake so that clients reconnect elsewhere.
//
// Memory: `poll`'s coroutine frame is what every parked poll holds (with the engine's and the
// connection's). It holds the request, the outcome, the render object and a revocation ticket
// (24 bytes; revocations.hpp), nothing else; the handler that returns it is a plain function,
// so it adds no frame of its own.
//
// Thread affinity: a gateway is immutable after construction; handlers on any I/O thread use it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/common/credentials.hpp"
#include "api/common/errors.hpp"
#include "api/common/revocations.hpp"
#include "feed/feed.hpp"
#include "feed/rate_limiter.hpp"
#include "http/request_context.hpp"

namespace eventfeed::api::common {

namespace net = boost::asio;

class credential_index;

// What a dialect answers when admission fails for one reason.
struct refusal {
  std::string message;
  // The answer's status, code and headers; without one, the error table's row for
  // `unauthorized` (for rate_limited: the row for `rate_limited`).
  std::optional<error_shape> shape;
};

struct admission_policy {
  credential_form form = credential_form::bearer;
  // For the path form: the route's captures holding the login and the token.
  std::string login_param = "username";
  std::string token_param = "token";
  refusal missing{"missing credentials", {}};
  refusal wrong_scheme{"unsupported authorization scheme", {}};
  refusal malformed{"malformed credentials", {}};
  refusal unknown{"unknown credentials", {}};
  refusal rate_limited{"request rate limit exceeded", {}};
  // An optional check of a well-formed credential before it is looked up (Zulip refuses a key
  // that is not 32 alphanumeric characters with its own code).
  std::function<std::optional<refusal>(const credential&)> vet;
  // An optional second source of callers, asked for a credential no key ring holds: signed
  // tokens (api/common/signed_tokens.hpp), which carry their principal in their claims. It
  // returns an entry of its own making, or null with `why` set to the refusal's message (a
  // token it recognises but refuses), or null with `why` empty (not its kind: `unknown`).
  std::function<std::shared_ptr<const key_entry>(const credential&, std::string& why)> vouch;
  // Stored credentials of the dialect's kind (stored_credentials.hpp), asked for a credential
  // its key ring does not hold, before `vouch`: the config file's credentials take precedence.
  const credential_index* stored = nullptr;
  // Where revocations of stored credentials are announced (the credential store's board):
  // a poll admitted with a stored credential is tracked there while it runs, and answered
  // `unauthorized` if the credential is revoked meanwhile. Null: polls are not tracked.
  revocation_board* revocations = nullptr;
};

// An admitted caller. Holds the key ring it was found in (or the entry a signed token made), so
// `who()` stays valid for as long as the caller is kept, whatever reloads happen meanwhile.
struct caller {
  std::shared_ptr<const key_ring> ring;
  // The entry, when it is not the ring's: a stored credential's, or the one `vouch` made.
  std::shared_ptr<const key_entry> vouched;
  const key_entry* entry = nullptr;
  // What the rate limiter said of this request, when the dialect limits rates (for dialects
  // that put the X-RateLimit-* headers on every answer: rate_headers()).
  std::optional<feed::rate_decision> rate;
  const core::principal& who() const noexcept { return entry->who; }
};

// X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (Unix seconds) of a decision,
// and Retry-After (whole seconds) when it refused; nothing for an unlimited one.
header_list rate_headers(const feed::rate_decision& d);

// For a handler that is not a coroutine and has already answered: an awaitable that does
// nothing.
net::awaitable<void> answered();

class gateway {
 public:
  // `limiter`, if given, counts every admitted request against the caller's budget: the slot
  // its key entry carries (resolved when the ring was built), or else the slot of its
  // principal's name (a lookup under one shard's lock). It must outlive the gateway.
  gateway(feed::engine& feed, const key_directory& keys, error_table errors,
          admission_policy policy, feed::rate_limiter* limiter = nullptr);

  // Resolves the caller and takes one request from its budget. On failure (no credential, an
  // unknown one, a spent budget: 429 with Retry-After and the X-RateLimit-* headers) the
  // dialect's answer is put in `ctx` and nullopt returned.
  std::optional<caller> admit(http::request_context& ctx) const;

  // The dialect's answer for `err`.
  http::response fail(const http::request_context& ctx, const core::error& err) const {
    return errors_.render(ctx, err);
  }
  // Answers `err` in `ctx`; returns nullopt, for `return gateway.refuse(ctx, e);` in parsers
  // that return an optional.
  std::nullopt_t refuse(http::request_context& ctx, const core::error& err) const {
    ctx.reply(fail(ctx, err));
    return std::nullopt;
  }

  // The long-poll sequence (see the file comment). `render` is called once, with the outcome,
  // unless the client has gone, the poll failed, or the credential it was admitted with (its
  // key_entry::serial, `serial`; 0 for none) was revoked while it ran: then it is answered
  // `unauthorized` (see revocations.hpp).
  template <class Render>
  net::awaitable<void> poll(http::request_context& ctx, feed::poll_request req, Render render,
                            std::uint64_t serial = 0) const {
    ctx.release_request();
    revocation_board::ticket ticket(policy_.revocations, serial);
    req.on_wait = [&ctx, &ticket](std::function<void()> cancel) {
      ticket.on_wait(cancel);
      ctx.begin_watch(std::move(cancel));
    };
    auto outcome = co_await feed_.async_poll(std::move(req));
    const bool revoked = ticket.release();
    const bool client_gone = co_await ctx.end_watch();
    if (revoked && !client_gone) co_return ctx.reply(revoked_answer(ctx));
    co_return ctx.reply(answer_poll(ctx, outcome, client_gone, render));
  }

  feed::engine& feed() const noexcept { return feed_; }
  const error_table& errors() const noexcept { return errors_; }
  const admission_policy& policy() const noexcept { return policy_; }

 private:
  template <class Render>
  http::response answer_poll(const http::request_context& ctx,
                             const core::result<feed::poll_result>& outcome, bool client_gone,
                             Render& render) const {
    if (client_gone) return gone_answer();
    if (!outcome) return fail(ctx, outcome.err());
    http::response res = render(*outcome);
    if (outcome->reason == feed::wake_reason::shutdown) res.keep_alive(false);
    return res;
  }
  // Nobody will read it: an empty object, and the connection closes.
  static http::response gone_answer();
  // The dialect's refusal of an unknown credential, saying it was revoked.
  http::response revoked_answer(const http::request_context& ctx) const;
  void refuse_admission(http::request_context& ctx, const refusal& r, core::errc row,
                        const header_list& extra = {},
                        std::chrono::milliseconds retry_after = {}) const;

  feed::engine& feed_;
  const key_directory& keys_;
  error_table errors_;
  admission_policy policy_;
  feed::rate_limiter* limiter_;
};

}  // namespace eventfeed::api::common
