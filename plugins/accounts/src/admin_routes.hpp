// admin_routes.hpp — Dango's /api/admin/users* endpoints (permission users.manage): listing,
// creating (invite link or temporary password), re-inviting, role changes, password-reset links,
// deactivation, deletion, unlocking and revoking a user's sessions. The last active admin can be
// neither demoted, deactivated nor deleted, and nobody deactivates or deletes themselves.
#pragma once

#include <plughost/plugin.hpp>

#include "services.hpp"

namespace accounts {

void list_all_users(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void create_user(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void reinvite_user(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void change_role(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void reset_user_password(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void deactivate_user(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void reactivate_user(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void remove_user(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void unlock_user(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void revoke_user_sessions(const Services& svc, const sdk::Request& rq, sdk::Response& rs);

// Creates the configured first admin when the users table is empty; true when it did.
bool create_bootstrap_admin(const Services& svc);

}  // namespace accounts
