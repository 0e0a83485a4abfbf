#include "api/common/gateway.hpp"

#include "api/common/stored_credentials.hpp"

namespace eventfeed::api::common {

net::awaitable<void> answered() {
  co_return;
}

gateway::gateway(feed::engine& feed, const key_directory& keys, error_table errors,
                 admission_policy policy, feed::rate_limiter* limiter)
    : feed_(feed),
      keys_(keys),
      errors_(std::move(errors)),
      policy_(std::move(policy)),
      limiter_(limiter) {}

header_list rate_headers(const feed::rate_decision& d) {
  header_list out;
  if (!d.limited()) return out;
  out.emplace_back("X-RateLimit-Limit", std::to_string(d.limit));
  out.emplace_back("X-RateLimit-Remaining", std::to_string(d.remaining));
  out.emplace_back("X-RateLimit-Reset", std::to_string(d.reset_at_unix_s));
  if (!d.allowed) out.emplace_back("Retry-After", std::to_string(d.retry_after.count()));
  return out;
}

http::response gateway::gone_answer() {
  auto res = http::json_response(bhttp::status::ok, "{}");
  res.keep_alive(false);
  return res;
}

http::response gateway::revoked_answer(const http::request_context& ctx) const {
  const auto& shape =
      policy_.unknown.shape ? *policy_.unknown.shape : errors_[core::errc::unauthorized];
  return render_error(ctx, shape, "credential revoked");
}

void gateway::refuse_admission(http::request_context& ctx, const refusal& r, core::errc row,
                               const header_list& extra,
                               std::chrono::milliseconds retry_after) const {
  auto res = render_error(ctx, r.shape ? *r.shape : errors_[row], r.message, retry_after);
  add_headers(res, extra);
  ctx.reply(std::move(res));
}

std::optional<caller> gateway::admit(http::request_context& ctx) const {
  credential cred;
  switch (policy_.form) {
    case credential_form::bearer:
      cred = bearer_credential(ctx.header(bhttp::field::authorization));
      break;
    case credential_form::basic:
      cred = basic_credential(ctx.header(bhttp::field::authorization));
      break;
    case credential_form::path:
      cred = path_credential(ctx.param(policy_.login_param), ctx.param(policy_.token_param));
      break;
  }
  const refusal* refused = nullptr;
  switch (cred.status) {
    case credential::state::ok:
      break;
    case credential::state::missing:
      refused = &policy_.missing;
      break;
    case credential::state::wrong_scheme:
      refused = &policy_.wrong_scheme;
      break;
    case credential::state::malformed:
      refused = &policy_.malformed;
      break;
  }
  std::optional<refusal> vetted;
  if (!refused && policy_.vet && (vetted = policy_.vet(cred))) refused = &*vetted;
  if (refused) {
    refuse_admission(ctx, *refused, core::errc::unauthorized);
    return std::nullopt;
  }
  caller who;
  who.ring = keys_.current();
  who.entry = who.ring->resolve(cred);
  if (!who.entry && policy_.stored) {
    who.vouched = policy_.stored->resolve(cred);
    who.entry = who.vouched.get();
  }
  if (!who.entry && policy_.vouch) {
    std::string why;
    who.vouched = policy_.vouch(cred, why);
    who.entry = who.vouched.get();
    if (!who.entry && !why.empty()) {
      refuse_admission(ctx, {std::move(why), policy_.unknown.shape}, core::errc::unauthorized);
      return std::nullopt;
    }
  }
  if (!who.entry) {
    refuse_admission(ctx, policy_.unknown, core::errc::unauthorized);
    return std::nullopt;
  }
  if (limiter_) {
    feed::rate_slot& slot = who.entry->rate ? *who.entry->rate : limiter_->slot(who.who().name);
    who.rate = limiter_->take(slot);
    if (!who.rate->allowed) {
      refuse_admission(ctx, policy_.rate_limited, core::errc::rate_limited, rate_headers(*who.rate),
                       who.rate->reset_in);
      return std::nullopt;
    }
  }
  return who;
}

}  // namespace eventfeed::api::common
