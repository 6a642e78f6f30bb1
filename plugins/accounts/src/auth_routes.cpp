#include "auth_routes.hpp"

#include "api_keys.hpp"
#include "crypto.hpp"
#include "passwords.hpp"
#include "replies.hpp"
#include "sessions.hpp"
#include "sign_in.hpp"
#include "tokens.hpp"
#include "users.hpp"

namespace accounts {
namespace {

constexpr size_t kMaxKeyName = 100;

User load_user(const Services& svc, int64_t id) {
  std::optional<User> user = find_user(svc.db, id);
  if (!user || !user->is_active) throw authentication_required();
  return *user;
}

}  // namespace

int64_t id_param(const sdk::Request& rq, const char* name, const char* not_found) {
  std::string text(rq.param(name).value_or(""));
  if (text.empty() || text.size() > 18 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    throw failure(404, not_found);
  }
  return std::stoll(text);
}

void require_strong_password(std::string_view password, std::string_view email) {
  std::vector<std::string> issues = password_issues(password, email);
  if (password.size() > kMaxPasswordLength) issues.push_back("Password is too long");
  if (issues.empty()) return;
  throw Failure(400, JsonObject()
                         .str("message", "Password is too weak")
                         .raw("issues", json_strings(issues))
                         .done());
}

void login(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  rapidjson::Document body = parse_body(rq);
  auto email = string_member(body, "email", 254);
  auto password = string_member(body, "password", kMaxPasswordLength);
  if (!email || !password || email->empty() || password->empty()) {
    throw failure(400, "Invalid request body");
  }
  CredentialCheck check =
      check_credentials(svc, rq.remote_address(), normalize_email(*email), *password);
  if (check.outcome == CredentialCheck::Outcome::kLocked) {
    throw Failure(423, JsonObject()
                           .str("message", "Account is temporarily locked")
                           .num("remaining_seconds", check.remaining_seconds)
                           .done());
  }
  if (check.outcome != CredentialCheck::Outcome::kOk) {
    throw failure(400, "Invalid email or password");
  }
  const User& user = *check.user;
  if (user.totp_enabled) {
    NewSession partial = create_session(svc, user.id, /*partial=*/true, rq.remote_address(),
                                        rq.header("User-Agent").value_or(""));
    rs.header("Set-Cookie",
              session_cookie(svc.settings, rq, partial.token, partial.max_age_seconds));
    rs.json_text(JsonObject().flag("requires_2fa", true).done());
    return;
  }
  open_session(svc, rq, rs, user);
  svc.log(PH_LOG_INFO, "user " + std::to_string(user.id) + " signed in", &rq);
  rs.json_text(signed_in_body(svc, user));
}

void logout(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  Caller caller = caller_of(rq);
  int64_t user_id = require_user(caller);
  if (caller.session_id) delete_session(svc.db, user_id, *caller.session_id);
  rs.header("Set-Cookie", expired_session_cookie(svc.settings, rq));
  rs.json_text(JsonObject().flag("success", true).done());
}

void current_user(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  Caller caller = caller_of(rq);
  if (!caller.auth_enabled) {
    rs.json_text(JsonObject().flag("auth_enabled", false).done());
    return;
  }
  User user = load_user(svc, require_user(caller));
  rs.json_text(JsonObject()
                   .flag("auth_enabled", true)
                   .raw("user", user_json(user))
                   .str("auth_method", caller.scheme)
                   .done());
}

void change_password(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  Caller caller = caller_of(rq);
  User user = load_user(svc, require_user(caller));
  rapidjson::Document body = parse_body(rq);
  auto current = string_member(body, "current_password", kMaxPasswordLength);
  auto next = string_member(body, "new_password", kMaxPasswordLength * 2);
  if (!current || !next) throw failure(400, "Invalid request body");
  if (!user.password_hash || !verify_password(*user.password_hash, *current)) {
    throw failure(400, "Current password is incorrect");
  }
  if (*next == *current) throw failure(400, "New password must be different from current password");
  require_strong_password(*next, user.email);
  set_password(svc.db, user.id, hash_password(svc.settings.password_cost, *next), false);
  // Every session and token issued before the change dies; the caller continues in a new one.
  delete_user_sessions(svc.db, user.id);
  revoke_refresh_tokens(svc.db, user.id);
  bump_token_generation(svc.db, user.id);
  if (caller.session_id) open_session(svc, rq, rs, user);
  svc.log(PH_LOG_INFO, "user " + std::to_string(user.id) + " changed their password", &rq);
  rs.json_text(JsonObject().flag("success", true).done());
}

void list_own_sessions(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  Caller caller = caller_of(rq);
  std::vector<std::string> items;
  for (const SessionRow& s : list_sessions(svc, require_user(caller))) {
    items.push_back(session_json(s, caller.session_id));
  }
  rs.json_text(JsonObject().raw("sessions", json_array(items)).done());
}

void revoke_own_session(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  Caller caller = caller_of(rq);
  int64_t user_id = require_user(caller);
  int64_t id = id_param(rq, "session_id", "Session not found");
  if (caller.session_id && *caller.session_id == id) {
    throw failure(400, "Cannot revoke current session. Use logout.");
  }
  if (!delete_session(svc.db, user_id, id)) throw failure(404, "Session not found");
  rs.json_text(JsonObject().flag("success", true).done());
}

void accept_invite(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  rapidjson::Document body = parse_body(rq);
  auto token = string_member(body, "token", 256);
  auto password = string_member(body, "password", kMaxPasswordLength * 2);
  auto display_name = string_member(body, "display_name", 200);
  if (!token || !password) throw failure(400, "Invalid request body");
  std::string token_hash = sha256_hex(*token);
  std::optional<User> user = find_user_by_invite(svc.db, token_hash);
  if (!user || !user->invite_expires_at || *user->invite_expires_at <= now_seconds() ||
      !user->is_active) {
    throw failure(400, "This invite link is invalid or has expired");
  }
  require_strong_password(*password, user->email);
  // The check above is only a fast answer: the link is spent by the UPDATE itself, so of
  // concurrent uses exactly one sets a password.
  if (!set_password_by_link(svc.db, user->id, token_hash,
                            hash_password(svc.settings.password_cost, *password))) {
    throw failure(400, "This invite link is invalid or has expired");
  }
  if (display_name && !display_name->empty()) set_display_name(svc.db, user->id, *display_name);
  clear_lock(svc.db, user->id);
  delete_user_sessions(svc.db, user->id);
  revoke_refresh_tokens(svc.db, user->id);
  bump_token_generation(svc.db, user->id);
  svc.log(PH_LOG_INFO, "user " + std::to_string(user->id) + " set a password by link", &rq);
  rs.json_text(message_body("Password set successfully"));
}

void create_key(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  int64_t user_id = require_user(caller_of(rq));
  rapidjson::Document body = parse_body(rq);
  auto name = string_member(body, "name", kMaxKeyName);
  if (!name || name->empty()) throw failure(400, "Key name is required (1-100 characters)");
  std::optional<int64_t> expires_at;
  auto exp = body.FindMember("expires_at");
  if (exp != body.MemberEnd() && !exp->value.IsNull()) {
    if (exp->value.IsString()) expires_at = parse_iso8601(exp->value.GetString());
    if (!expires_at) throw failure(400, "Invalid expires_at: expected an ISO-8601 date-time");
    if (*expires_at <= now_seconds()) throw failure(400, "expires_at must be in the future");
  }
  CreatedKey created = create_api_key(svc.db, user_id, *name, expires_at);
  svc.log(PH_LOG_INFO,
          "user " + std::to_string(user_id) + " created API key " + created.row.key_prefix + "…",
          &rq);
  rs.json_text(JsonObject()
                   .num("id", created.row.id)
                   .str("name", created.row.name)
                   .str("key", created.key)
                   .str("key_prefix", created.row.key_prefix)
                   .time("created_at", created.row.created_at)
                   .time("expires_at", created.row.expires_at)
                   .done());
}

void list_keys(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  std::vector<std::string> items;
  for (const ApiKeyRow& k : list_api_keys(svc.db, require_user(caller_of(rq)))) {
    items.push_back(api_key_json(k));
  }
  rs.json_text(JsonObject().raw("api_keys", json_array(items)).done());
}

void revoke_key(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  int64_t user_id = require_user(caller_of(rq));
  int64_t id = id_param(rq, "key_id", "API key not found");
  if (!delete_api_key(svc.db, user_id, id)) throw failure(404, "API key not found");
  rs.json_text(JsonObject().flag("success", true).done());
}

}  // namespace accounts
