#include "two_factor.hpp"

#include "crypto.hpp"
#include "passwords.hpp"
#include "replies.hpp"
#include "sessions.hpp"
#include "sign_in.hpp"
#include "totp.hpp"
#include "users.hpp"

namespace accounts {
namespace {

constexpr size_t kTotpSecretBytes = 20;  // 160 bits, RFC 4226's recommendation

User signed_in_user(const Services& svc, const sdk::Request& rq) {
  std::optional<User> user = find_user(svc.db, require_user(caller_of(rq)));
  if (!user || !user->is_active) throw authentication_required();
  return *user;
}

void require_password(const User& user, const rapidjson::Value& body) {
  auto password = string_member(body, "password", kMaxPasswordLength);
  if (!password) throw failure(400, "Invalid request body");
  if (!user.password_hash || !verify_password(*user.password_hash, *password)) {
    throw failure(400, "Password is incorrect");
  }
}

std::string code_of(const rapidjson::Value& body) {
  auto code = string_member(body, "code", 64);
  if (!code || code->empty()) throw failure(400, "Invalid request body");
  return *code;
}

// The step `code` belongs to under the sealed secret, or nullopt.
std::optional<int64_t> totp_step(const Services& svc, const std::optional<std::string>& sealed,
                                 std::string_view code) {
  if (!sealed) return std::nullopt;
  std::optional<std::string> secret = unseal(svc.settings.keys, *sealed);
  if (!secret) return std::nullopt;
  return totp_match_step(*secret, code, now_seconds());
}

// True when `code` is the user's current TOTP and its step was not accepted before; the step is
// then spent, so the same code (or an earlier one) never works twice.
bool totp_accepted(const Services& svc, const User& user, std::string_view code) {
  std::optional<int64_t> step = totp_step(svc, user.totp_secret, code);
  return step && claim_totp_step(svc.db, user.id, *step);
}

// Replaces the user's recovery codes; returns the new ones (the only time they exist in clear).
std::vector<std::string> replace_recovery_codes(const Db& db, int64_t user_id) {
  std::vector<std::string> codes;
  auto txn = db.transaction();
  txn.sql("DELETE FROM accounts_recovery_codes WHERE user_id = :u").bind("u", user_id).exec();
  for (int i = 0; i < kRecoveryCodeCount; ++i) {
    codes.push_back(new_recovery_code());
    txn.sql("INSERT INTO accounts_recovery_codes (user_id, code_hash) VALUES (:u, :h)")
        .bind("u", user_id)
        .bind("h", sha256_hex(normalize_recovery_code(codes.back())))
        .exec();
  }
  txn.commit();
  return codes;
}

// Spends one unused recovery code; false when the user has no such unused code.
bool spend_recovery_code(const Db& db, int64_t user_id, std::string_view code) {
  return db.sql(
               "UPDATE accounts_recovery_codes SET used_at = :now"
               " WHERE user_id = :u AND code_hash = :h AND used_at IS NULL")
             .bind("now", now_seconds())
             .bind("u", user_id)
             .bind("h", sha256_hex(normalize_recovery_code(code)))
             .exec() > 0;
}

Failure two_factor_locked(int64_t remaining_seconds) {
  return Failure(423, JsonObject()
                          .str("message", "Account is temporarily locked")
                          .num("remaining_seconds", remaining_seconds)
                          .done());
}

}  // namespace

void begin_2fa_setup(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  User user = signed_in_user(svc, rq);
  rapidjson::Document body = parse_body(rq);
  require_password(user, body);
  if (user.totp_enabled) throw failure(400, "Two-factor authentication is already enabled");
  std::string secret = random_bytes(kTotpSecretBytes);
  std::string base32 = base32_encode(secret);
  set_pending_totp(svc.db, user.id, seal(svc.settings.keys, secret));
  std::vector<std::string> codes = replace_recovery_codes(svc.db, user.id);
  rs.json_text(JsonObject()
                   .str("secret", base32)
                   .str("otpauth_uri", otpauth_uri(svc.settings.totp_issuer, user.email, base32))
                   .raw("recovery_codes", json_strings(codes))
                   .done());
}

void confirm_2fa_setup(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  User user = signed_in_user(svc, rq);
  std::string code = code_of(parse_body(rq));
  if (user.totp_enabled) throw failure(400, "Two-factor authentication is already enabled");
  if (!user.totp_pending_secret) throw failure(400, "Two-factor setup has not been started");
  std::optional<int64_t> step = totp_step(svc, user.totp_pending_secret, code);
  if (!step) throw failure(400, "Invalid verification code");
  enable_totp(svc.db, user.id, *user.totp_pending_secret, *step);
  svc.log(PH_LOG_INFO, "user " + std::to_string(user.id) + " enabled two-factor authentication",
          &rq);
  rs.json_text(JsonObject().flag("success", true).flag("totp_enabled", true).done());
}

void verify_2fa_login(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  Caller caller = caller_of(rq);
  if (!caller.partial || !caller.user_id || !caller.session_id) throw authentication_required();
  rapidjson::Document body = parse_body(rq);
  std::string code = code_of(body);
  auto is_recovery = body.FindMember("is_recovery");
  bool recovery = (is_recovery != body.MemberEnd() && is_recovery->value.IsBool() &&
                   is_recovery->value.GetBool()) ||
                  looks_like_recovery_code(code);
  std::optional<User> user = find_user(svc.db, *caller.user_id);
  if (!user || !user->is_active) throw authentication_required();
  // The per-user lock holds across partial sessions (re-login) and the token endpoint.
  if (int64_t remaining = two_factor_lock_remaining(svc.db, user->id); remaining > 0) {
    throw two_factor_locked(remaining);
  }
  bool ok = recovery ? spend_recovery_code(svc.db, user->id, code)
                     : totp_accepted(svc, *user, code);
  if (!ok) {
    record_failed_2fa(svc.db, user->id, svc.settings.max_2fa_attempts,
                      svc.settings.lockout_seconds);
    if (note_failed_2fa(svc.db, *caller.session_id) >= svc.settings.max_2fa_attempts) {
      delete_session(svc.db, user->id, *caller.session_id);
      rs.header("Set-Cookie", expired_session_cookie(svc.settings, rq));
      throw failure(401, "Too many failed attempts. Please log in again.");
    }
    throw failure(400, "Invalid verification code");
  }
  // Spend the partial session first: of concurrent requests on it only one gets past here, and
  // none once too many wrong codes ended it.
  if (!consume_partial_session(svc.db, user->id, *caller.session_id)) {
    throw authentication_required();
  }
  if (!clear_2fa_failures(svc.db, user->id)) {
    throw two_factor_locked(two_factor_lock_remaining(svc.db, user->id));
  }
  open_session(svc, rq, rs, *user);
  svc.log(PH_LOG_INFO, "user " + std::to_string(user->id) + " completed two-factor sign-in", &rq);
  rs.json_text(signed_in_body(svc, *user));
}

void disable_2fa(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  User user = signed_in_user(svc, rq);
  require_password(user, parse_body(rq));
  if (!user.totp_enabled) throw failure(400, "Two-factor authentication is not enabled");
  disable_totp(svc.db, user.id);
  svc.db.sql("DELETE FROM accounts_recovery_codes WHERE user_id = :u").bind("u", user.id).exec();
  svc.log(PH_LOG_INFO, "user " + std::to_string(user.id) + " disabled two-factor authentication",
          &rq);
  rs.json_text(JsonObject().flag("success", true).done());
}

void regenerate_recovery_codes(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  User user = signed_in_user(svc, rq);
  rapidjson::Document body = parse_body(rq);
  require_password(user, body);
  if (!user.totp_enabled) throw failure(400, "Two-factor authentication is not enabled");
  if (!totp_accepted(svc, user, code_of(body))) {
    throw failure(400, "Invalid verification code");
  }
  rs.json_text(JsonObject()
                   .raw("recovery_codes", json_strings(replace_recovery_codes(svc.db, user.id)))
                   .done());
}

}  // namespace accounts
