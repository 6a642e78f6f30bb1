#include "schema.hpp"

namespace accounts {
namespace {

// `{ID}` stands for the dialect's auto-increment primary key.
constexpr const char* kInitial = R"sql(
CREATE TABLE accounts_users (
  id {ID},
  email TEXT NOT NULL UNIQUE,
  display_name TEXT,
  role TEXT NOT NULL,
  password_hash TEXT,
  is_active INTEGER NOT NULL DEFAULT 1,
  totp_secret TEXT,
  totp_pending_secret TEXT,
  totp_enabled INTEGER NOT NULL DEFAULT 0,
  oauth_provider TEXT,
  failed_login_attempts INTEGER NOT NULL DEFAULT 0,
  locked_until BIGINT,
  must_change_password INTEGER NOT NULL DEFAULT 0,
  last_login BIGINT,
  invite_token_hash TEXT UNIQUE,
  invite_expires_at BIGINT,
  token_generation INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE accounts_sessions (
  id {ID},
  token_hash TEXT NOT NULL UNIQUE,
  user_id BIGINT NOT NULL REFERENCES accounts_users(id) ON DELETE CASCADE,
  partial INTEGER NOT NULL DEFAULT 0,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  ip_address TEXT,
  user_agent TEXT
);
CREATE INDEX accounts_sessions_user ON accounts_sessions(user_id);
CREATE TABLE accounts_api_keys (
  id {ID},
  user_id BIGINT NOT NULL REFERENCES accounts_users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  key_prefix TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  last_used_at BIGINT
);
CREATE INDEX accounts_api_keys_user ON accounts_api_keys(user_id);
CREATE TABLE accounts_refresh_tokens (
  id {ID},
  user_id BIGINT NOT NULL REFERENCES accounts_users(id) ON DELETE CASCADE,
  token_hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT
);
CREATE INDEX accounts_refresh_tokens_user ON accounts_refresh_tokens(user_id);
CREATE TABLE accounts_recovery_codes (
  id {ID},
  user_id BIGINT NOT NULL REFERENCES accounts_users(id) ON DELETE CASCADE,
  code_hash TEXT NOT NULL,
  used_at BIGINT
);
CREATE INDEX accounts_recovery_codes_user ON accounts_recovery_codes(user_id);
CREATE TABLE accounts_login_failures (
  ip_address TEXT NOT NULL,
  email TEXT NOT NULL,
  failures INTEGER NOT NULL,
  locked_until BIGINT,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (ip_address, email)
);
CREATE TABLE accounts_secrets (
  name TEXT PRIMARY KEY,
  value_sealed TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE accounts_oauth_credentials (
  source_type TEXT PRIMARY KEY,
  provider TEXT NOT NULL,
  account TEXT,
  token_sealed TEXT NOT NULL,
  connected_at BIGINT NOT NULL,
  expires_at BIGINT
);
)sql";

// Per-user second-factor failures, shared by /2fa/verify and the token endpoint: the
// max_2fa_attempts-th wrong code in a row locks the user's 2FA until totp_locked_until.
constexpr const char* k2faLockout = R"sql(
ALTER TABLE accounts_users ADD COLUMN totp_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts_users ADD COLUMN totp_locked_until BIGINT;
)sql";

// The last TOTP step accepted per user: a code of that step or an earlier one is refused.
constexpr const char* kTotpLastStep = R"sql(
ALTER TABLE accounts_users ADD COLUMN totp_last_step BIGINT;
)sql";

std::string with_id(std::string sql, const std::string& id) {
  for (size_t at; (at = sql.find("{ID}")) != std::string::npos;) sql.replace(at, 4, id);
  return sql;
}

}  // namespace

// OAuth authorisation requests in flight: the state is a bearer secret (stored as its SHA-256),
// spent by the callback; the PKCE verifier is sealed.
constexpr const char* kOAuthStates = R"sql(
CREATE TABLE accounts_oauth_states (
  state_hash TEXT PRIMARY KEY,
  purpose TEXT NOT NULL,
  app TEXT NOT NULL,
  verifier_sealed TEXT NOT NULL,
  next_path TEXT NOT NULL,
  user_id BIGINT,
  expires_at BIGINT NOT NULL
);
)sql";

// Small values the plugin keeps between starts (the dummy password hash), by name.
constexpr const char* kState = R"sql(
CREATE TABLE accounts_state (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql";

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> all = {
      {"0001_accounts", with_id(kInitial, "INTEGER PRIMARY KEY AUTOINCREMENT"),
       with_id(kInitial, "BIGSERIAL PRIMARY KEY")},
      {"0002_accounts_2fa_lockout", k2faLockout, k2faLockout},
      {"0003_accounts_totp_last_step", kTotpLastStep, kTotpLastStep},
      {"0004_accounts_oauth_states", kOAuthStates, kOAuthStates},
      {"0005_accounts_state", kState, kState},
  };
  return all;
}

}  // namespace accounts
