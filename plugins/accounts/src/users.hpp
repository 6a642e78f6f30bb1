// users.hpp — the accounts_users table: the User record, its public JSON, and every read and
// write of a user row. Functions take the Db (or an open transaction) and run one statement each.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services.hpp"

namespace accounts {

struct User {
  int64_t id = 0;
  std::string email;
  std::optional<std::string> display_name;
  std::string role;
  std::optional<std::string> password_hash;
  bool is_active = true;
  std::optional<std::string> totp_secret;          // sealed
  std::optional<std::string> totp_pending_secret;  // sealed, between setup and verify-setup
  bool totp_enabled = false;
  std::optional<std::string> oauth_provider;
  int64_t failed_login_attempts = 0;
  std::optional<int64_t> locked_until;
  bool must_change_password = false;
  std::optional<int64_t> last_login;
  std::optional<std::string> invite_token_hash;
  std::optional<int64_t> invite_expires_at;
  int64_t token_generation = 0;  // access tokens of older generations are void
  int64_t created_at = 0;
  int64_t updated_at = 0;

  // Invited and not yet accepted (no password set).
  bool has_pending_invite() const { return invite_token_hash.has_value() && !password_hash; }
};

// Dango's user object: {id, email, role, is_active, totp_enabled, oauth_provider,
// failed_login_attempts, locked_until, must_change_password, last_login, invite_expires_at,
// created_at, updated_at, has_pending_invite, display_name}.
std::string user_json(const User& u);

// Trimmed and lower-cased.
std::string normalize_email(std::string_view email);
// Plausible address: 3..254 characters, one '@' with text on both sides, no whitespace.
bool valid_email(std::string_view email);

std::optional<User> find_user(const Db& db, int64_t id);
std::optional<User> find_user_by_email(const Db& db, std::string_view email);
std::optional<User> find_user_by_invite(const Db& db, std::string_view token_hash);
std::vector<User> list_users(const Db& db);
bool users_table_empty(const Db& db);
int64_t count_active_admins(const Db& db);

struct NewUser {
  std::string email;
  std::optional<std::string> display_name;
  std::string role;
  std::optional<std::string> password_hash;
  bool must_change_password = false;
  std::optional<std::string> invite_token_hash;
  std::optional<int64_t> invite_expires_at;
};
// The new id; nullopt when the e-mail is taken.
std::optional<int64_t> insert_user(const Db& db, const NewUser& u);

// Sets the password, clears any invite/reset token and must_change_password as given.
void set_password(const Db& db, int64_t id, std::string_view hash, bool must_change_password);
// Spends an invite/reset link: sets the password only while the user is active and `token_hash`
// is still its unexpired link, in one statement. False when the link is invalid, expired or was
// spent (e.g. by a concurrent request).
bool set_password_by_link(const Db& db, int64_t id, std::string_view token_hash,
                          std::string_view hash);
void set_invite(const Db& db, int64_t id, std::string_view token_hash, int64_t expires_at);
void set_display_name(const Db& db, int64_t id, std::string_view name);
void set_role(const Db& db, int64_t id, std::string_view role);
void set_active(const Db& db, int64_t id, bool active);
void delete_user(const Db& db, int64_t id);
// A successful sign-in: last_login = now, failure counters cleared.
void record_login(const Db& db, int64_t id);
// The OAuth provider the user last signed in with.
void set_oauth_provider(const Db& db, int64_t id, std::string_view provider);
// A failed sign-in for an existing account; `locked_until` set when it caused a lock.
void record_failed_login(const Db& db, int64_t id, std::optional<int64_t> locked_until);
// Clears the sign-in lock and the second-factor lock (admin unlock, a password set by link).
void clear_lock(const Db& db, int64_t id);

// Second-factor lockout, per user (both /2fa/verify and the token endpoint count): seconds the
// user's 2FA stays locked (0 = not locked).
int64_t two_factor_lock_remaining(const Db& db, int64_t id);
// Counts one wrong second-factor code in one statement (an expired lock restarts the streak);
// the `threshold`-th in a row locks 2FA for `lock_seconds`. Returns the new streak.
int64_t record_failed_2fa(const Db& db, int64_t id, int64_t threshold, int64_t lock_seconds);
// A correct code: ends the streak. False (nothing changed) when the user's 2FA is locked, e.g.
// by a concurrent wrong guess.
bool clear_2fa_failures(const Db& db, int64_t id);
// Voids every access token issued so far.
void bump_token_generation(const Db& db, int64_t id);
void set_pending_totp(const Db& db, int64_t id, const std::optional<std::string>& sealed);
// Turns TOTP on with `sealed`; `step` (the step of the code that confirmed it) is spent.
void enable_totp(const Db& db, int64_t id, std::string_view sealed, int64_t step);
// Records `step` as the user's last accepted TOTP step, in one statement; false (a replay, or a
// concurrent use of the same code) when that step or a later one was already accepted.
bool claim_totp_step(const Db& db, int64_t id, int64_t step);
void disable_totp(const Db& db, int64_t id);

}  // namespace accounts
