#include "token_routes.hpp"

#include "crypto.hpp"
#include "passwords.hpp"
#include "replies.hpp"
#include "sign_in.hpp"
#include "tokens.hpp"
#include "totp.hpp"
#include "users.hpp"

namespace accounts {
namespace {

Failure envelope(const sdk::Request& rq, int status, const char* code, const std::string& message) {
  return Failure(status, sdk::error_envelope(code, message, rq.trace_id()));
}

rapidjson::Document object_body(const sdk::Request& rq) {
  rapidjson::Document doc;
  std::string error;
  if (!sdk::parse_json(rq.body(), doc, error) || !doc.IsObject()) {
    throw envelope(rq, 400, "VALIDATION_ERROR", "request body must be a JSON object");
  }
  return doc;
}

void answer_pair(const Services& svc, const User& user, sdk::Response& rs) {
  rs.json_text(JsonObject()
                   .str("access", issue_access_token(svc.settings, user.id, user.token_generation))
                   .str("refresh", issue_refresh_token(svc, user.id))
                   .num("expires_in", svc.settings.access_token_seconds)
                   .str("token_type", "Bearer")
                   .done());
}

}  // namespace

void obtain_token_pair(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  rapidjson::Document body = object_body(rq);
  auto username = string_member(body, "username", 254);
  if (!username) username = string_member(body, "email", 254);
  auto password = string_member(body, "password", kMaxPasswordLength);
  if (!username || !password || username->empty() || password->empty()) {
    throw Failure(400, sdk::error_envelope("VALIDATION_ERROR", "username and password are required",
                                           rq.trace_id(),
                                           {{"username", "required"}, {"password", "required"}}));
  }
  CredentialCheck check =
      check_credentials(svc, rq.remote_address(), normalize_email(*username), *password);
  if (check.outcome == CredentialCheck::Outcome::kLocked) {
    throw envelope(rq, 423, "ACCOUNT_LOCKED",
                   "account is temporarily locked; retry in " +
                       std::to_string(check.remaining_seconds) + " s");
  }
  if (check.outcome != CredentialCheck::Outcome::kOk) {
    throw envelope(rq, 401, "UNAUTHORIZED", "invalid credentials");
  }
  const User& user = *check.user;
  if (user.totp_enabled) {
    // The correct password has just cleared the (IP, e-mail) lockout: wrong codes count against
    // the user's own second-factor lock, shared with /api/auth/2fa/verify.
    auto locked = [&](int64_t remaining) {
      return envelope(rq, 423, "ACCOUNT_LOCKED",
                      "account is temporarily locked; retry in " + std::to_string(remaining) +
                          " s");
    };
    if (int64_t remaining = two_factor_lock_remaining(svc.db, user.id); remaining > 0) {
      throw locked(remaining);
    }
    auto code = string_member(body, "code", 16);
    std::optional<std::string> secret =
        user.totp_secret ? unseal(svc.settings.keys, *user.totp_secret) : std::nullopt;
    std::optional<int64_t> step =
        code && secret ? totp_match_step(*secret, *code, now_seconds()) : std::nullopt;
    if (!step || !claim_totp_step(svc.db, user.id, *step)) {
      if (code && !code->empty()) {
        record_failed_2fa(svc.db, user.id, svc.settings.max_2fa_attempts,
                          svc.settings.lockout_seconds);
      }
      throw envelope(rq, 401, "UNAUTHORIZED", "a valid two-factor code is required (\"code\")");
    }
    if (!clear_2fa_failures(svc.db, user.id)) {
      throw locked(two_factor_lock_remaining(svc.db, user.id));
    }
  }
  answer_pair(svc, user, rs);
}

void refresh_token_pair(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  rapidjson::Document body = object_body(rq);
  auto refresh = string_member(body, "refresh", 256);
  if (!refresh) {
    throw Failure(400, sdk::error_envelope("VALIDATION_ERROR", "refresh is required", rq.trace_id(),
                                           {{"refresh", "required"}}));
  }
  std::optional<int64_t> user_id = redeem_refresh_token(svc, *refresh);
  std::optional<User> user = user_id ? find_user(svc.db, *user_id) : std::nullopt;
  if (!user || !user->is_active) {
    throw envelope(rq, 401, "UNAUTHORIZED", "refresh token is invalid, expired or already used");
  }
  answer_pair(svc, *user, rs);
}

}  // namespace accounts
