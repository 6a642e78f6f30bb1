#include "sign_in.hpp"

#include "crypto.hpp"
#include "lockout.hpp"
#include "passwords.hpp"
#include "replies.hpp"
#include "sessions.hpp"

namespace accounts {

CredentialCheck check_credentials(const Services& svc, std::string_view ip, std::string_view email,
                                  std::string_view password) {
  CredentialCheck result;
  if (int64_t remaining = lock_remaining(svc, ip, email); remaining > 0) {
    result.outcome = CredentialCheck::Outcome::kLocked;
    result.remaining_seconds = remaining;
    return result;
  }
  std::optional<User> user = find_user_by_email(svc.db, email);
  const std::string& stored =
      user && user->password_hash ? *user->password_hash : svc.dummy_password_hash;
  bool matches = verify_password(stored, password) && user && user->password_hash;
  if (matches && user->is_active) {
    clear_failures(svc.db, ip, email);
    record_login(svc.db, user->id);
    result.outcome = CredentialCheck::Outcome::kOk;
    result.user = find_user(svc.db, user->id);
    return result;
  }
  if (matches) return result;  // deactivated: not a guess, so not counted
  std::optional<int64_t> locked_until = record_failure(svc, ip, email);
  if (user) record_failed_login(svc.db, user->id, locked_until);
  return result;
}

int64_t open_session(const Services& svc, const sdk::Request& rq, sdk::Response& rs,
                     const User& user) {
  NewSession s = create_session(svc, user.id, /*partial=*/false, rq.remote_address(),
                                rq.header("User-Agent").value_or(""));
  rs.header("Set-Cookie", session_cookie(svc.settings, rq, s.token, s.max_age_seconds));
  rs.header("Set-Cookie", csrf_cookie(svc.settings, rq, random_token()));
  return s.id;
}

std::string signed_in_body(const Services& svc, const User& user) {
  return JsonObject()
      .raw("user", user_json(user))
      .flag("must_change_password", user.must_change_password)
      .flag("requires_2fa_setup", svc.settings.require_2fa && !user.totp_enabled)
      .done();
}

std::optional<std::string> session_token(const Services& svc, const sdk::Request& rq) {
  auto cookie = rq.cookie(svc.settings.cookie_name);
  if (!cookie || cookie->empty()) return std::nullopt;
  return std::string(*cookie);
}

}  // namespace accounts
