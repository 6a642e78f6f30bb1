// sign_in.hpp — the steps every way of signing in shares: checking an e-mail and password
// against the lockout and the stored hash, and opening a browser session (cookies included).
#pragma once

#include <cstdint>
#include <optional>
#include <plughost/plugin.hpp>
#include <string>
#include <string_view>

#include "services.hpp"
#include "users.hpp"

namespace accounts {

struct CredentialCheck {
  enum class Outcome { kOk, kInvalid, kLocked };
  Outcome outcome = Outcome::kInvalid;
  std::optional<User> user;       // when kOk
  int64_t remaining_seconds = 0;  // when kLocked
};

// Checks `password` for `email` from address `ip`. Unknown e-mails, users without a password and
// deactivated users are kInvalid after the same Argon2id work as a real check; every kInvalid
// except a deactivated user's correct password counts towards the lockout.
CredentialCheck check_credentials(const Services& svc, std::string_view ip, std::string_view email,
                                  std::string_view password);

// Starts a full session for `user`: sets the session cookie and a fresh csrftoken cookie, and
// records the sign-in. Returns the session's id.
int64_t open_session(const Services& svc, const sdk::Request& rq, sdk::Response& rs,
                     const User& user);

// {user, must_change_password, requires_2fa_setup}: what a completed sign-in answers.
std::string signed_in_body(const Services& svc, const User& user);

// The cookie the plugin's session cookie has in this request, if any.
std::optional<std::string> session_token(const Services& svc, const sdk::Request& rq);

}  // namespace accounts
