// settings.hpp — the plugin's `config:` block as a typed struct (schema defaults already applied
// by the host), and the keys derived from `secret_key`.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <string>

#include "crypto.hpp"
#include "passwords.hpp"

namespace accounts {

enum class CookieSecure { kAuto, kAlways, kNever };

struct BootstrapAdmin {
  std::string email;  // empty: no bootstrap
  std::string password;
  bool must_change_password = true;
};

struct Settings {
  Keys keys;  // derived from secret_key
  std::string cookie_name = "dango_session";
  std::string csrf_cookie_name = "csrftoken";  // the host's auth.csrf_cookie
  CookieSecure cookie_secure = CookieSecure::kAuto;
  int64_t session_absolute_seconds = 365LL * 24 * 3600;
  int64_t session_idle_seconds = 1440LL * 60;
  int64_t partial_session_seconds = 300;
  int64_t access_token_seconds = 3600;
  int64_t refresh_token_seconds = 14LL * 24 * 3600;
  int lockout_threshold = 5;
  int64_t lockout_seconds = 900;
  int max_2fa_attempts = 5;
  int64_t invite_seconds = 72LL * 3600;
  bool require_2fa = false;
  std::string totp_issuer = "Dango";
  std::string public_url;  // prefix of invite and reset links; empty: relative links
  PasswordCost password_cost;
  BootstrapAdmin bootstrap_admin;
};

// Reads the validated config. Throws std::invalid_argument naming the key when a value is
// unusable (a secret_key that is not base64 of exactly 32 bytes, above all).
Settings parse_settings(const rapidjson::Value& config);

}  // namespace accounts
