#include "settings.hpp"

#include <sodium.h>

#include <stdexcept>

namespace accounts {
namespace {

std::string text(const rapidjson::Value& obj, const char* key, std::string fallback) {
  auto it = obj.FindMember(key);
  return it != obj.MemberEnd() && it->value.IsString() ? it->value.GetString() : fallback;
}

int64_t number(const rapidjson::Value& obj, const char* key, int64_t fallback) {
  auto it = obj.FindMember(key);
  return it != obj.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : fallback;
}

bool flag(const rapidjson::Value& obj, const char* key, bool fallback) {
  auto it = obj.FindMember(key);
  return it != obj.MemberEnd() && it->value.IsBool() ? it->value.GetBool() : fallback;
}

Keys keys_from(const std::string& secret_key) {
  const std::string hint =
      "accounts: config secret_key must be the base64 of 32 random bytes "
      "(generate one with `openssl rand -base64 32`)";
  if (secret_key.empty()) throw std::invalid_argument(hint + "; it is not set");
  auto raw = base64_decode(secret_key);
  if (!raw) throw std::invalid_argument(hint + "; it is not valid base64");
  if (raw->size() != 32) {
    throw std::invalid_argument(hint + "; it decodes to " + std::to_string(raw->size()) + " bytes");
  }
  Keys keys = derive_keys(*raw);
  sodium_memzero(raw->data(), raw->size());
  return keys;
}

std::map<std::string, OAuthApp> oauth_apps(const rapidjson::Value& oauth, const char* group,
                                           bool sign_in) {
  std::map<std::string, OAuthApp> apps;
  auto it = oauth.FindMember(group);
  if (it == oauth.MemberEnd() || !it->value.IsObject()) return apps;
  for (const auto& m : it->value.GetObject()) {
    if (!m.value.IsObject()) continue;
    const rapidjson::Value& v = m.value;
    OAuthApp a;
    a.name = m.name.GetString();
    const std::string where = std::string("accounts: config oauth.") + group + "." + a.name;
    a.authorize_url = text(v, "authorize_url", "");
    a.token_url = text(v, "token_url", "");
    a.userinfo_url = text(v, "userinfo_url", "");
    a.client_id = text(v, "client_id", "");
    a.client_secret = text(v, "client_secret", "");
    a.redirect_url = text(v, "redirect_url", "");
    a.email_field = text(v, "email_field", a.email_field);
    a.allow_signup = flag(v, "allow_signup", a.allow_signup);
    a.trust_email = flag(v, "trust_email", a.trust_email);
    a.signup_role = text(v, "signup_role", a.signup_role);
    a.timeout_seconds = static_cast<long>(number(v, "timeout_seconds", a.timeout_seconds));
    auto scopes = v.FindMember("scopes");
    if (scopes != v.MemberEnd() && scopes->value.IsArray()) {
      for (const auto& sc : scopes->value.GetArray()) {
        if (sc.IsString()) a.scopes += (a.scopes.empty() ? "" : " ") + std::string(sc.GetString());
      }
    }
    auto domains = v.FindMember("allowed_domains");
    if (domains != v.MemberEnd() && domains->value.IsArray()) {
      for (const auto& d : domains->value.GetArray()) {
        if (d.IsString()) a.allowed_domains.push_back(d.GetString());
      }
    }
    if (a.authorize_url.empty() || a.token_url.empty() || a.client_id.empty()) {
      throw std::invalid_argument(where + " needs authorize_url, token_url and client_id");
    }
    if (sign_in && a.userinfo_url.empty()) {
      throw std::invalid_argument(where + " needs userinfo_url (the e-mail comes from it)");
    }
    apps.emplace(a.name, std::move(a));
  }
  return apps;
}

}  // namespace

Settings parse_settings(const rapidjson::Value& c) {
  static const rapidjson::Value kEmpty(rapidjson::kObjectType);
  const rapidjson::Value& config = c.IsObject() ? c : kEmpty;
  Settings s;
  s.keys = keys_from(text(config, "secret_key", ""));
  s.cookie_name = text(config, "cookie_name", s.cookie_name);
  std::string secure = text(config, "cookie_secure", "auto");
  s.cookie_secure = secure == "always"  ? CookieSecure::kAlways
                    : secure == "never" ? CookieSecure::kNever
                                        : CookieSecure::kAuto;
  s.session_absolute_seconds =
      number(config, "session_absolute_seconds", s.session_absolute_seconds);
  s.session_idle_seconds = number(config, "session_idle_seconds", s.session_idle_seconds);
  s.partial_session_seconds = number(config, "partial_session_seconds", s.partial_session_seconds);
  s.access_token_seconds = number(config, "access_token_seconds", s.access_token_seconds);
  s.refresh_token_seconds = number(config, "refresh_token_seconds", s.refresh_token_seconds);
  s.lockout_threshold = static_cast<int>(number(config, "lockout_threshold", s.lockout_threshold));
  s.lockout_seconds = number(config, "lockout_seconds", s.lockout_seconds);
  s.max_2fa_attempts = static_cast<int>(number(config, "max_2fa_attempts", s.max_2fa_attempts));
  s.invite_seconds = number(config, "invite_seconds", s.invite_seconds);
  s.require_2fa = flag(config, "require_2fa", s.require_2fa);
  s.totp_issuer = text(config, "totp_issuer", s.totp_issuer);
  s.public_url = text(config, "public_url", s.public_url);
  while (!s.public_url.empty() && s.public_url.back() == '/') s.public_url.pop_back();

  auto hashing = config.FindMember("password_hashing");
  if (hashing != config.MemberEnd() && hashing->value.IsObject()) {
    s.password_cost.opslimit = static_cast<unsigned long long>(
        number(hashing->value, "opslimit", static_cast<int64_t>(s.password_cost.opslimit)));
    s.password_cost.memlimit_bytes =
        static_cast<size_t>(number(hashing->value, "memlimit_kib",
                                   static_cast<int64_t>(s.password_cost.memlimit_bytes / 1024)) *
                            1024);
  }
  if (s.password_cost.opslimit < crypto_pwhash_OPSLIMIT_MIN ||
      s.password_cost.memlimit_bytes < crypto_pwhash_MEMLIMIT_MIN) {
    throw std::invalid_argument("accounts: config password_hashing is below Argon2id's minimum");
  }

  auto admin = config.FindMember("bootstrap_admin");
  if (admin != config.MemberEnd() && admin->value.IsObject()) {
    s.bootstrap_admin.email = text(admin->value, "email", "");
    s.bootstrap_admin.password = text(admin->value, "password", "");
    s.bootstrap_admin.must_change_password =
        flag(admin->value, "must_change_password", s.bootstrap_admin.must_change_password);
  }
  auto oauth = config.FindMember("oauth");
  if (oauth != config.MemberEnd() && oauth->value.IsObject()) {
    s.oauth_providers = oauth_apps(oauth->value, "providers", /*sign_in=*/true);
    s.oauth_connections = oauth_apps(oauth->value, "connections", /*sign_in=*/false);
    s.oauth_state_seconds = number(oauth->value, "state_seconds", s.oauth_state_seconds);
  }
  if (!s.bootstrap_admin.email.empty() && s.bootstrap_admin.password.empty()) {
    throw std::invalid_argument("accounts: config bootstrap_admin.password is empty");
  }
  return s;
}

}  // namespace accounts
