#include "api/common/gateway.hpp"

namespace eventfeed::api::common {

net::awaitable<void> answered() {
  co_return;
}

gateway::gateway(feed::engine& feed, const key_directory& keys, error_table errors,
                 admission_policy policy)
    : feed_(feed), keys_(keys), errors_(std::move(errors)), policy_(std::move(policy)) {}

http::response gateway::gone_answer() {
  auto res = http::json_response(bhttp::status::ok, "{}");
  res.keep_alive(false);
  return res;
}

void gateway::refuse_admission(http::request_context& ctx, const refusal& r, core::errc row) const {
  ctx.reply(render_error(ctx, r.shape ? *r.shape : errors_[row], r.message));
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
  caller who{keys_.current(), nullptr};
  who.entry = who.ring->resolve(cred);
  if (!who.entry) {
    refuse_admission(ctx, policy_.unknown, core::errc::unauthorized);
    return std::nullopt;
  }
  return who;
}

}  // namespace eventfeed::api::common
