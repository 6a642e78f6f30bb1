// auth_routes.hpp — Dango's /api/auth/* account endpoints: sign in and out, the current user,
// password change, the caller's sessions, invite acceptance, and API keys.
// Each handler throws Failure for a 4xx answer; the route edge (plugin.cpp) writes it.
#pragma once

#include <plughost/plugin.hpp>

#include "services.hpp"

namespace accounts {

void login(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void logout(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void current_user(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void change_password(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void list_own_sessions(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void revoke_own_session(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void accept_invite(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void create_key(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void list_keys(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void revoke_key(const Services& svc, const sdk::Request& rq, sdk::Response& rs);

// Path parameter `name` as a positive integer id; Failure 404 `not_found` otherwise.
int64_t id_param(const sdk::Request& rq, const char* name, const char* not_found);
// A password rejected by the strength rules: 400 {"message":"Password is too weak","issues":[…]}.
void require_strong_password(std::string_view password, std::string_view email);

}  // namespace accounts
