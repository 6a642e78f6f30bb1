// The accounts plugin: Dango's users, sessions, API keys, 2FA and secrets, the automate API's
// token pair, and the "accounts" authenticator through which the host knows who is calling.
// This file is the table of contents: every route, the connector and the error formatter.
#include <plughost/plugin.hpp>

#include "admin_routes.hpp"
#include "auth_routes.hpp"
#include "authenticator.hpp"
#include "crypto.hpp"
#include "dummy_hash.hpp"
#include "oauth.hpp"
#include "replies.hpp"
#include "schema.hpp"
#include "secrets_routes.hpp"
#include "services.hpp"
#include "settings.hpp"
#include "token_routes.hpp"
#include "two_factor.hpp"

namespace accounts {

using Handler = void (*)(const Services&, const sdk::Request&, sdk::Response&);

constexpr const char* kPublic = PH_PERMISSION_PUBLIC;
constexpr const char* kSignedIn = PH_PERMISSION_AUTHENTICATED;
constexpr const char* kUsersManage = "users.manage";
constexpr const char* kConfigManage = "config.manage";
constexpr const char* kLoginRate = "login";

class Accounts : public sdk::Plugin {
  void init() override {
    init_crypto();
    Settings settings = parse_settings(config());  // throws on a malformed secret_key
    auto host_auth = auth_settings();
    if (host_auth.HasMember("csrf_cookie") && host_auth["csrf_cookie"].IsString()) {
      settings.csrf_cookie_name = host_auth["csrf_cookie"].GetString();
    }
    for (const Migration& m : migrations()) migration(m.name, m.sql, m.sql_postgres);
    services_ =
        std::make_unique<accounts::Services>(api(), host(), std::move(settings), role_names());
    // `plughost check` inits plugins without storage: the dummy hash is only needed to serve.
    if (!dialect().empty()) {
      DummyHash dummy = load_or_make_dummy_hash(services_->db, services_->settings.password_cost);
      services_->dummy_password_hash = std::move(dummy.hash);
      if (dummy.computed) info("computed and stored the dummy password hash");
    }
    check_oauth_settings(*services_);
    // `plughost check` inits plugins without storage: nothing to seed then.
    if (!dialect().empty() && create_bootstrap_admin(*services_))
      info("created the bootstrap admin account");

    connector({"authenticator", "accounts", "Dango sessions, API keys and access tokens", {}},
              [this](std::string_view operation, std::string_view input) {
                if (operation != "authenticate") {
                  throw sdk::Error(PH_ERR_UNSUPPORTED, "unknown operation");
                }
                return authenticate(*services_, input);
              });
    error_formatter([](int status, std::string_view code, std::string_view, std::string_view detail,
                       std::string_view) { return dango_error_body(status, code, detail); });

    // Authentication
    add("POST", "/api/auth/login", "Sign in with e-mail and password", kPublic, login, kLoginRate);
    add("POST", "/api/auth/logout", "End the current session", kSignedIn, logout);
    add("GET", "/api/auth/me", "Current user, or {auth_enabled: false}", kPublic, current_user);
    add("POST", "/api/auth/change-password", "Change own password", kSignedIn, change_password);
    add("GET", "/api/auth/sessions", "Own active sessions", kSignedIn, list_own_sessions);
    add("DELETE", "/api/auth/sessions/:session_id", "Revoke an own session", kSignedIn,
        revoke_own_session);
    add("POST", "/api/auth/api-keys", "Create an API key (shown once)", kSignedIn, create_key);
    add("GET", "/api/auth/api-keys", "Own API keys (prefix only)", kSignedIn, list_keys);
    add("DELETE", "/api/auth/api-keys/:key_id", "Revoke an own API key", kSignedIn, revoke_key);
    add("POST", "/api/auth/accept-invite", "Set a password from an invite or reset link", kPublic,
        accept_invite, kLoginRate);
    add("GET", "/api/auth/oauth/:provider/login", "Sign in with an OAuth provider (302)", kPublic,
        oauth_login, kLoginRate);
    add("GET", "/api/auth/oauth/:provider/callback", "OAuth sign-in callback (302)", kPublic,
        oauth_callback, kLoginRate);
    // Automate API tokens
    add("POST", "/api/auth/token", "Access + refresh token for a password", kPublic,
        obtain_token_pair, kLoginRate);
    add("POST", "/api/auth/token/refresh", "Rotate a refresh token", kPublic, refresh_token_pair,
        kLoginRate);
    // Two-factor authentication
    add("POST", "/api/auth/2fa/setup", "Begin TOTP setup", kSignedIn, begin_2fa_setup);
    add("POST", "/api/auth/2fa/verify-setup", "Confirm TOTP setup", kSignedIn, confirm_2fa_setup);
    add("POST", "/api/auth/2fa/verify", "Second sign-in step (partial session)", kPublic,
        verify_2fa_login, kLoginRate);
    add("POST", "/api/auth/2fa/disable", "Disable TOTP", kSignedIn, disable_2fa);
    add("POST", "/api/auth/2fa/regenerate-recovery", "New recovery codes", kSignedIn,
        regenerate_recovery_codes);
    // User management
    add("GET", "/api/admin/users", "All users", kUsersManage, list_all_users);
    add("POST", "/api/admin/users", "Create a user (invite or temp password)", kUsersManage,
        create_user);
    add("POST", "/api/admin/users/:user_id/reinvite", "New invite link", kUsersManage,
        reinvite_user);
    add("PUT", "/api/admin/users/:user_id/role", "Change a user's role", kUsersManage, change_role);
    add("POST", "/api/admin/users/:user_id/reset-password", "Password reset link", kUsersManage,
        reset_user_password);
    add("POST", "/api/admin/users/:user_id/deactivate", "Deactivate a user", kUsersManage,
        deactivate_user);
    add("POST", "/api/admin/users/:user_id/reactivate", "Reactivate a user", kUsersManage,
        reactivate_user);
    add("DELETE", "/api/admin/users/:user_id", "Delete a user ({confirm_email})", kUsersManage,
        remove_user);
    add("POST", "/api/admin/users/:user_id/unlock", "Clear a sign-in lockout", kUsersManage,
        unlock_user);
    add("POST", "/api/admin/users/:user_id/revoke-sessions", "Sign a user out everywhere",
        kUsersManage, revoke_user_sessions);
    // Secrets & OAuth credentials
    add("GET", "/api/secrets", "Stored secrets, masked", kConfigManage, list_secrets);
    add("POST", "/api/secrets", "Add or update a secret", kConfigManage, put_secret);
    add("DELETE", "/api/secrets/:key", "Delete a secret", kConfigManage, delete_secret);
    add("GET", "/api/secrets/oauth", "OAuth credential status", kConfigManage,
        list_oauth_credentials);
    add("DELETE", "/api/secrets/oauth/:source_type", "Disconnect OAuth credentials", kConfigManage,
        disconnect_oauth);
    add("GET", "/oauth/connect/:source_type", "Authorise a data source with OAuth (302)",
        kConfigManage, oauth_connect);
    add("GET", "/oauth/callback/:source_type", "OAuth data-source callback (302)", kConfigManage,
        oauth_connect_callback);
  }

  // Registers a route whose Failure exceptions become their status and JSON body; anything else
  // escapes to the host as a 500 (DANGO-G001 through the error formatter).
  void add(const char* method, const char* path, const char* summary, const char* permission,
           Handler handler, const char* rate_class = "") {
    route({method, path, summary, permission, rate_class, {}, {}},
          [this, handler](const sdk::Request& rq, sdk::Response& rs) {
            try {
              handler(*services_, rq, rs);
            } catch (const Failure& f) {
              rs.json_text(f.body(), f.status());
            }
          });
  }

  std::set<std::string> role_names() const {
    std::set<std::string> names;
    rapidjson::Document auth = auth_settings();
    auto roles = auth.FindMember("roles");
    if (roles != auth.MemberEnd() && roles->value.IsObject()) {
      for (const auto& r : roles->value.GetObject()) names.insert(r.name.GetString());
    }
    return names;
  }

  std::unique_ptr<accounts::Services> services_;
};

}  // namespace accounts

PLUGHOST_PLUGIN(accounts::Accounts, "accounts", "1.0.0",
                "Users, sessions, API keys, tokens, 2FA and secrets; the host's authenticator",
                "beta")
