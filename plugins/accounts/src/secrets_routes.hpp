// secrets_routes.hpp — Dango's /api/secrets* endpoints (permission config.manage): environment
// variables and OAuth credentials kept sealed at rest (crypto.hpp) and only ever answered masked:
// first 2 characters, one '*' per hidden character, last 2 ("****" when 4 or fewer).
#pragma once

#include <plughost/plugin.hpp>
#include <string>
#include <string_view>

#include "services.hpp"

namespace accounts {

void list_secrets(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void put_secret(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void delete_secret(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void list_oauth_credentials(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void disconnect_oauth(const Services& svc, const sdk::Request& rq, sdk::Response& rs);

std::string mask_secret(std::string_view value);

}  // namespace accounts
