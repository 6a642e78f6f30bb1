// settings.hpp — the plugin's `config:` block as a typed struct (schema defaults already applied
// by the host), and the keys derived from `secret_key`.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "crypto.hpp"
#include "passwords.hpp"

namespace accounts {

enum class CookieSecure { kAuto, kAlways, kNever };

struct BootstrapAdmin {
  std::string email;  // empty: no bootstrap
  std::string password;
  bool must_change_password = true;
};

// An OAuth 2.0 client registration (authorization-code flow with PKCE S256): a sign-in provider
// under oauth.providers, or a data-source connection under oauth.connections.
struct OAuthApp {
  std::string name;
  std::string authorize_url;
  std::string token_url;
  std::string userinfo_url;  // sign-in: required; connection: optional (names the account)
  std::string client_id;
  std::string client_secret;
  std::string scopes;        // space-separated
  std::string redirect_url;  // empty: public_url (or the request's Host) + the callback path
  std::string email_field = "email";
  bool allow_signup = false;
  bool trust_email = false;  // accept an e-mail without email_verified: true
  std::string signup_role = "viewer";
  std::vector<std::string> allowed_domains;  // empty: any
  long timeout_seconds = 10;
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
  std::map<std::string, OAuthApp> oauth_providers;    // sign-in, by provider name
  std::map<std::string, OAuthApp> oauth_connections;  // credentials, by source type
  int64_t oauth_state_seconds = 600;
  BootstrapAdmin bootstrap_admin;
};

// Reads the validated config. Throws std::invalid_argument naming the key when a value is
// unusable (a secret_key that is not base64 of exactly 32 bytes, above all).
Settings parse_settings(const rapidjson::Value& config);

}  // namespace accounts
