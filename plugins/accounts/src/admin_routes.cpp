#include "admin_routes.hpp"

#include "api_keys.hpp"
#include "auth_routes.hpp"
#include "crypto.hpp"
#include "lockout.hpp"
#include "passwords.hpp"
#include "replies.hpp"
#include "sessions.hpp"
#include "tokens.hpp"
#include "users.hpp"

namespace accounts {
namespace {

constexpr size_t kTempPasswordBytes = 12;  // 16 base64url characters

User target_user(const Services& svc, const sdk::Request& rq) {
  std::optional<User> user = find_user(svc.db, id_param(rq, "user_id", "User not found"));
  if (!user) throw failure(404, "User not found");
  return *user;
}

bool is_self(const sdk::Request& rq, const User& user) {
  Caller caller = caller_of(rq);
  return caller.user_id && *caller.user_id == user.id;
}

bool only_active_admin(const Services& svc, const User& user) {
  return user.role == "admin" && user.is_active && count_active_admins(svc.db) <= 1;
}

std::string role_of(const Services& svc, const rapidjson::Value& body) {
  auto role = string_member(body, "role", 64);
  if (!role || !svc.roles.count(*role)) {
    std::string known;
    for (const auto& r : svc.roles) known += (known.empty() ? "" : ", ") + r;
    throw failure(400, "Invalid role: must be one of " + known);
  }
  return *role;
}

// A fresh single-use link token for `user`, valid for invite_seconds; returns the link.
std::string new_link(const Services& svc, int64_t user_id, int64_t* expires_at) {
  std::string token = random_token();
  *expires_at = now_seconds() + svc.settings.invite_seconds;
  set_invite(svc.db, user_id, sha256_hex(token), *expires_at);
  return svc.settings.public_url + "/invite/" + token;
}

// Ends every way the user is signed in: sessions, API keys, refresh tokens, access tokens.
void sign_out_everywhere(const Services& svc, int64_t user_id) {
  delete_user_sessions(svc.db, user_id);
  delete_user_api_keys(svc.db, user_id);
  revoke_refresh_tokens(svc.db, user_id);
  bump_token_generation(svc.db, user_id);
}

std::string success_with_user(const Services& svc, int64_t user_id) {
  std::optional<User> user = find_user(svc.db, user_id);
  return JsonObject().flag("success", true).raw("user", user ? user_json(*user) : "null").done();
}

}  // namespace

void list_all_users(const Services& svc, const sdk::Request&, sdk::Response& rs) {
  std::vector<std::string> items;
  for (const User& u : list_users(svc.db)) items.push_back(user_json(u));
  rs.json_text(JsonObject().raw("users", json_array(items)).done());
}

void create_user(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  rapidjson::Document body = parse_body(rq);
  auto email = string_member(body, "email", 254);
  if (!email || !valid_email(normalize_email(*email))) throw failure(400, "Invalid email address");
  NewUser u;
  u.email = normalize_email(*email);
  u.role = role_of(svc, body);
  u.display_name = string_member(body, "display_name", 200);
  auto temp = body.FindMember("temp_password");
  bool with_temp_password =
      temp != body.MemberEnd() && temp->value.IsBool() && temp->value.GetBool();
  std::string temp_password, invite_token;
  if (with_temp_password) {
    temp_password = random_token(kTempPasswordBytes);
    u.password_hash = hash_password(svc.settings.password_cost, temp_password);
    u.must_change_password = true;
  } else {
    invite_token = random_token();
    u.invite_token_hash = sha256_hex(invite_token);
    u.invite_expires_at = now_seconds() + svc.settings.invite_seconds;
  }
  std::optional<int64_t> id = insert_user(svc.db, u);
  if (!id) throw failure(409, "A user with this email already exists");
  svc.log(PH_LOG_INFO, "created user " + std::to_string(*id) + " with role " + u.role, &rq);
  JsonObject out;
  out.raw("user", user_json(*find_user(svc.db, *id)));
  if (with_temp_password) {
    out.str("temp_password", temp_password);
  } else {
    out.str("invite_url", svc.settings.public_url + "/invite/" + invite_token);
  }
  rs.json_text(out.done(), 201);
}

void reinvite_user(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  User user = target_user(svc, rq);
  if (user.password_hash) throw failure(400, "User has already accepted their invite");
  int64_t expires_at = 0;
  std::string link = new_link(svc, user.id, &expires_at);
  rs.json_text(JsonObject()
                   .raw("user", user_json(*find_user(svc.db, user.id)))
                   .str("invite_url", link)
                   .done());
}

void change_role(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  User user = target_user(svc, rq);
  std::string role = role_of(svc, parse_body(rq));
  if (role != "admin" && only_active_admin(svc, user)) {
    throw failure(409, "Cannot demote the only active admin");
  }
  set_role(svc.db, user.id, role);
  svc.log(PH_LOG_INFO, "user " + std::to_string(user.id) + " now has role " + role, &rq);
  rs.json_text(success_with_user(svc, user.id));
}

void reset_user_password(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  User user = target_user(svc, rq);
  int64_t expires_at = 0;
  std::string link = new_link(svc, user.id, &expires_at);
  rs.json_text(JsonObject()
                   .flag("success", true)
                   .str("reset_url", link)
                   .time("expires_at", expires_at)
                   .done());
}

void deactivate_user(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  User user = target_user(svc, rq);
  if (is_self(rq, user)) throw failure(409, "Cannot deactivate your own account");
  if (only_active_admin(svc, user)) throw failure(409, "Cannot deactivate the only active admin");
  set_active(svc.db, user.id, false);
  sign_out_everywhere(svc, user.id);
  rs.json_text(success_with_user(svc, user.id));
}

void reactivate_user(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  User user = target_user(svc, rq);
  set_active(svc.db, user.id, true);
  rs.json_text(success_with_user(svc, user.id));
}

void remove_user(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  User user = target_user(svc, rq);
  rapidjson::Document body = parse_body(rq);
  auto confirm = string_member(body, "confirm_email", 254);
  if (!confirm || normalize_email(*confirm) != user.email) {
    throw failure(400, "Email confirmation does not match");
  }
  if (is_self(rq, user)) throw failure(409, "Cannot delete your own account");
  if (only_active_admin(svc, user)) throw failure(409, "Cannot delete the only active admin");
  delete_user(svc.db, user.id);
  clear_failures_for_email(svc.db, user.email);
  svc.log(PH_LOG_INFO, "deleted user " + std::to_string(user.id), &rq);
  rs.json_text(JsonObject().flag("success", true).done());
}

void unlock_user(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  User user = target_user(svc, rq);
  clear_lock(svc.db, user.id);
  clear_failures_for_email(svc.db, user.email);
  rs.json_text(success_with_user(svc, user.id));
}

void revoke_user_sessions(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  User user = target_user(svc, rq);
  sign_out_everywhere(svc, user.id);
  svc.log(PH_LOG_INFO, "revoked every session of user " + std::to_string(user.id), &rq);
  rs.json_text(JsonObject().flag("success", true).done());
}

bool create_bootstrap_admin(const Services& svc) {
  const BootstrapAdmin& admin = svc.settings.bootstrap_admin;
  if (admin.email.empty() || !users_table_empty(svc.db)) return false;
  NewUser u;
  u.email = normalize_email(admin.email);
  u.role = "admin";
  u.password_hash = hash_password(svc.settings.password_cost, admin.password);
  u.must_change_password = admin.must_change_password;
  return insert_user(svc.db, u).has_value();
}

}  // namespace accounts
