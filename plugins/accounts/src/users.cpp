#include "users.hpp"

#include <cctype>

#include "replies.hpp"

namespace accounts {
namespace {

constexpr const char* kColumns =
    "SELECT id, email, display_name, role, password_hash, is_active, totp_secret,"
    " totp_pending_secret, totp_enabled, oauth_provider, failed_login_attempts, locked_until,"
    " must_change_password, last_login, invite_token_hash, invite_expires_at, token_generation,"
    " created_at, updated_at FROM accounts_users ";

std::optional<int64_t> maybe_int(const sdk::Statement& st, int col) {
  if (st.is_null(col)) return std::nullopt;
  return st.int64(col);
}

User read_user(const sdk::Statement& st) {
  User u;
  u.id = st.int64(0);
  u.email = st.text(1);
  u.display_name = st.maybe_text(2);
  u.role = st.text(3);
  u.password_hash = st.maybe_text(4);
  u.is_active = st.int64(5) != 0;
  u.totp_secret = st.maybe_text(6);
  u.totp_pending_secret = st.maybe_text(7);
  u.totp_enabled = st.int64(8) != 0;
  u.oauth_provider = st.maybe_text(9);
  u.failed_login_attempts = st.int64(10);
  u.locked_until = maybe_int(st, 11);
  u.must_change_password = st.int64(12) != 0;
  u.last_login = maybe_int(st, 13);
  u.invite_token_hash = st.maybe_text(14);
  u.invite_expires_at = maybe_int(st, 15);
  u.token_generation = st.int64(16);
  u.created_at = st.int64(17);
  u.updated_at = st.int64(18);
  return u;
}

template <typename Bind>
std::optional<User> find_one(const Db& db, const std::string& where, Bind&& bind) {
  auto st = db.sql(kColumns + where);
  bind(st);
  if (!st.step()) return std::nullopt;
  return read_user(st);
}

// Runs `UPDATE accounts_users SET <set>, updated_at = :now WHERE id = :id`.
template <typename Bind>
void update(const Db& db, int64_t id, const std::string& set, Bind&& bind) {
  auto st = db.sql("UPDATE accounts_users SET " + set + ", updated_at = :now WHERE id = :id");
  st.bind("id", id).bind("now", now_seconds());
  bind(st);
  st.exec();
}

void no_params(sdk::Statement&) {}

}  // namespace

std::string user_json(const User& u) {
  bool locked = u.locked_until && *u.locked_until > now_seconds();
  return JsonObject()
      .num("id", u.id)
      .str("email", u.email)
      .str_or_null("display_name", u.display_name)
      .str("role", u.role)
      .flag("is_active", u.is_active)
      .flag("totp_enabled", u.totp_enabled)
      .str_or_null("oauth_provider", u.oauth_provider)
      .num("failed_login_attempts", u.failed_login_attempts)
      .time("locked_until", locked ? u.locked_until : std::nullopt)
      .flag("must_change_password", u.must_change_password)
      .time("last_login", u.last_login)
      .time("invite_expires_at", u.has_pending_invite() ? u.invite_expires_at : std::nullopt)
      .time("created_at", u.created_at)
      .time("updated_at", u.updated_at)
      .flag("has_pending_invite", u.has_pending_invite())
      .done();
}

std::string normalize_email(std::string_view email) {
  size_t b = 0, e = email.size();
  while (b < e && std::isspace(static_cast<unsigned char>(email[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(email[e - 1]))) --e;
  std::string out(email.substr(b, e - b));
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool valid_email(std::string_view email) {
  if (email.size() < 3 || email.size() > 254) return false;
  size_t at = email.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == email.size()) return false;
  if (email.find('@', at + 1) != std::string_view::npos) return false;
  for (char c : email) {
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c)))
      return false;
  }
  return true;
}

std::optional<User> find_user(const Db& db, int64_t id) {
  return find_one(db, "WHERE id = :id", [&](sdk::Statement& st) { st.bind("id", id); });
}

std::optional<User> find_user_by_email(const Db& db, std::string_view email) {
  return find_one(db, "WHERE email = :email", [&](sdk::Statement& st) { st.bind("email", email); });
}

std::optional<User> find_user_by_invite(const Db& db, std::string_view token_hash) {
  return find_one(db, "WHERE invite_token_hash = :h",
                  [&](sdk::Statement& st) { st.bind("h", token_hash); });
}

std::vector<User> list_users(const Db& db) {
  std::vector<User> out;
  auto st = db.sql(std::string(kColumns) + "ORDER BY id");
  while (st.step()) out.push_back(read_user(st));
  return out;
}

bool users_table_empty(const Db& db) {
  auto st = db.sql("SELECT COUNT(*) FROM accounts_users");
  st.step();
  return st.int64(0) == 0;
}

int64_t count_active_admins(const Db& db) {
  auto st = db.sql("SELECT COUNT(*) FROM accounts_users WHERE role = 'admin' AND is_active = 1");
  st.step();
  return st.int64(0);
}

std::optional<int64_t> insert_user(const Db& db, const NewUser& u) {
  if (find_user_by_email(db, u.email)) return std::nullopt;
  int64_t now = now_seconds();
  try {
    auto st = db.sql(
        "INSERT INTO accounts_users (email, display_name, role, password_hash,"
        " must_change_password, invite_token_hash, invite_expires_at, created_at, updated_at)"
        " VALUES (:email, :display_name, :role, :password_hash, :must_change, :invite,"
        " :invite_expires, :now, :now) RETURNING id");
    st.bind("email", u.email)
        .bind("display_name", u.display_name)
        .bind("role", u.role)
        .bind("password_hash", u.password_hash)
        .bind("must_change", u.must_change_password ? 1 : 0)
        .bind("invite", u.invite_token_hash)
        .bind("invite_expires", u.invite_expires_at)
        .bind("now", now);
    st.step();
    int64_t id = st.int64(0);
    st.exec();
    return id;
  } catch (const sdk::Error&) {
    if (find_user_by_email(db, u.email)) return std::nullopt;  // lost a race for the address
    throw;
  }
}

void set_password(const Db& db, int64_t id, std::string_view hash, bool must_change_password) {
  update(db, id,
         "password_hash = :hash, must_change_password = :must, invite_token_hash = NULL,"
         " invite_expires_at = NULL",
         [&](sdk::Statement& st) {
           st.bind("hash", hash).bind("must", must_change_password ? 1 : 0);
         });
}

bool set_password_by_link(const Db& db, int64_t id, std::string_view token_hash,
                          std::string_view hash) {
  return db.sql(
               "UPDATE accounts_users SET password_hash = :hash, must_change_password = 0,"
               " invite_token_hash = NULL, invite_expires_at = NULL, updated_at = :now"
               " WHERE id = :id AND invite_token_hash = :h AND invite_expires_at > :now"
               " AND is_active = 1")
             .bind("hash", hash)
             .bind("now", now_seconds())
             .bind("id", id)
             .bind("h", token_hash)
             .exec() == 1;
}

void set_invite(const Db& db, int64_t id, std::string_view token_hash, int64_t expires_at) {
  update(db, id, "invite_token_hash = :h, invite_expires_at = :exp",
         [&](sdk::Statement& st) { st.bind("h", token_hash).bind("exp", expires_at); });
}

void set_display_name(const Db& db, int64_t id, std::string_view name) {
  update(db, id, "display_name = :name", [&](sdk::Statement& st) { st.bind("name", name); });
}

void set_role(const Db& db, int64_t id, std::string_view role) {
  update(db, id, "role = :role", [&](sdk::Statement& st) { st.bind("role", role); });
}

void set_active(const Db& db, int64_t id, bool active) {
  update(db, id, "is_active = :active",
         [&](sdk::Statement& st) { st.bind("active", active ? 1 : 0); });
}

void delete_user(const Db& db, int64_t id) {
  db.sql("DELETE FROM accounts_users WHERE id = :id").bind("id", id).exec();
}

void record_login(const Db& db, int64_t id) {
  update(db, id, "last_login = :now, failed_login_attempts = 0, locked_until = NULL", no_params);
}

void set_oauth_provider(const Db& db, int64_t id, std::string_view provider) {
  update(db, id, "oauth_provider = :p", [&](sdk::Statement& st) { st.bind("p", provider); });
}

void record_failed_login(const Db& db, int64_t id, std::optional<int64_t> locked_until) {
  update(db, id,
         "failed_login_attempts = failed_login_attempts + 1,"
         " locked_until = COALESCE(:locked, locked_until)",
         [&](sdk::Statement& st) { st.bind("locked", locked_until); });
}

void clear_lock(const Db& db, int64_t id) {
  update(db, id,
         "failed_login_attempts = 0, locked_until = NULL, totp_failures = 0,"
         " totp_locked_until = NULL",
         no_params);
}

int64_t two_factor_lock_remaining(const Db& db, int64_t id) {
  auto st = db.sql("SELECT totp_locked_until FROM accounts_users WHERE id = :id");
  st.bind("id", id);
  if (!st.step() || st.is_null(0)) return 0;
  int64_t remaining = st.int64(0) - now_seconds();
  return remaining > 0 ? remaining : 0;
}

int64_t record_failed_2fa(const Db& db, int64_t id, int64_t threshold, int64_t lock_seconds) {
  // SET expressions see the row's old values, on SQLite and PostgreSQL alike.
  constexpr const char* kStreak =
      "(CASE WHEN totp_locked_until IS NOT NULL AND totp_locked_until <= :now THEN 1"
      " ELSE totp_failures + 1 END)";
  auto st = db.sql(std::string("UPDATE accounts_users SET totp_failures = ") + kStreak +
                   ", totp_locked_until = CASE WHEN " + kStreak +
                   " >= :threshold THEN CAST(:locked AS BIGINT) ELSE NULL END, updated_at = :now"
                   " WHERE id = :id RETURNING totp_failures");
  int64_t now = now_seconds();
  st.bind("id", id).bind("now", now).bind("threshold", threshold).bind("locked", now + lock_seconds);
  int64_t streak = st.step() ? st.int64(0) : 0;
  st.exec();
  return streak;
}

bool clear_2fa_failures(const Db& db, int64_t id) {
  return db.sql(
               "UPDATE accounts_users SET totp_failures = 0, totp_locked_until = NULL"
               " WHERE id = :id AND (totp_locked_until IS NULL OR totp_locked_until <= :now)")
             .bind("id", id)
             .bind("now", now_seconds())
             .exec() == 1;
}

void bump_token_generation(const Db& db, int64_t id) {
  update(db, id, "token_generation = token_generation + 1", no_params);
}

void set_pending_totp(const Db& db, int64_t id, const std::optional<std::string>& sealed) {
  update(db, id, "totp_pending_secret = :s", [&](sdk::Statement& st) { st.bind("s", sealed); });
}

void enable_totp(const Db& db, int64_t id, std::string_view sealed, int64_t step) {
  update(db, id,
         "totp_secret = :s, totp_pending_secret = NULL, totp_enabled = 1, totp_last_step = :step",
         [&](sdk::Statement& st) { st.bind("s", sealed).bind("step", step); });
}

bool claim_totp_step(const Db& db, int64_t id, int64_t step) {
  return db.sql(
               "UPDATE accounts_users SET totp_last_step = :step"
               " WHERE id = :id AND (totp_last_step IS NULL OR totp_last_step < :step)")
             .bind("id", id)
             .bind("step", step)
             .exec() == 1;
}

void disable_totp(const Db& db, int64_t id) {
  update(db, id,
         "totp_secret = NULL, totp_pending_secret = NULL, totp_enabled = 0, totp_last_step = NULL",
         no_params);
}

}  // namespace accounts
