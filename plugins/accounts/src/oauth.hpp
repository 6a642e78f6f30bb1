// oauth.hpp — OAuth 2.0 authorization-code flows with PKCE (S256), against providers configured
// under `oauth:`. Sign-in (`providers`): the provider's user info names an e-mail, which signs in
// the matching account (or creates one when the provider allows sign-up). Connections
// (`connections`): an admin authorises a data source and its tokens are kept sealed in
// accounts_oauth_credentials (listed masked by /api/secrets/oauth).
//
// The state is single-use, expires (oauth.state_seconds), is stored only as its SHA-256 and is
// bound to the browser that started the flow by an HttpOnly cookie, so a callback URL replayed,
// forged or carried to another browser is refused.
#pragma once

#include <plughost/plugin.hpp>

#include "services.hpp"

namespace accounts {

// Throws std::invalid_argument when a provider's signup_role is not a role of the host.
void check_oauth_settings(const Services& svc);

// GET /api/auth/oauth/{provider}/login[?next=/path] — 302 to the provider.
void oauth_login(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
// GET /api/auth/oauth/{provider}/callback?code=&state= — signs in; 302 to `next`.
void oauth_callback(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
// GET /oauth/connect/{source_type}[?next=/path] — 302 to the provider (config.manage).
void oauth_connect(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
// GET /oauth/callback/{source_type}?code=&state= — stores the tokens; 302 to `next`.
void oauth_connect_callback(const Services& svc, const sdk::Request& rq, sdk::Response& rs);

}  // namespace accounts
