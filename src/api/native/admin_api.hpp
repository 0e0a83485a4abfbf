// api/native/admin_api.hpp: the admin API (docs/api/admin.md): credentials created, listed,
// rotated and revoked at runtime, for callers whose `[[keys]]` entry has `admin = true`.
//
//   POST   /v1/admin/keys              {"name","read":[...],"publish":[...]} -> 201, with "secret"
//   GET    /v1/admin/keys              {"keys":[...]}, never a secret
//   GET    /v1/admin/keys/{id}         one, never its secret
//   POST   /v1/admin/keys/{id}/rotate  a new secret, the old one refused from now on
//   DELETE /v1/admin/keys/{id}         revoked: refused from now on, its parked polls answered 401
//
// It is the native API's (bearer admission, native error shape); what it manages lives in
// api/common's credential_store, which every dialect's key ring reads. A caller the native API
// admits but whose entry is not an admin key gets 403 on every route.
#pragma once

#include "api/common/credentials.hpp"
#include "api/common/signed_tokens.hpp"
#include "api/common/stored_credentials.hpp"
#include "api/native/native_api.hpp"
#include "feed/feed.hpp"
#include "http/router.hpp"

namespace eventfeed::api::native {

// `others` as the native API's own routes admit callers (an admin key is always a config key,
// but a stored key or a token must get 403, not 401).
void register_admin_routes(http::router& routes, feed::engine& feed,
                           const common::key_directory& keys, common::credential_store& stored,
                           const other_credentials& others);

}  // namespace eventfeed::api::native
