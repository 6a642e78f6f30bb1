// token_routes.hpp — the automate API's token endpoints: POST /api/auth/token/ trades
// {username (or e-mail), password[, code]} for {access, refresh, expires_in, token_type};
// POST /api/auth/token/refresh/ trades a refresh token for a new pair (the old one is spent).
// Errors use the host's envelope {"error":{code,message,details,trace_id}}, as that API does.
#pragma once

#include <plughost/plugin.hpp>

#include "services.hpp"

namespace accounts {

void obtain_token_pair(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void refresh_token_pair(const Services& svc, const sdk::Request& rq, sdk::Response& rs);

}  // namespace accounts
