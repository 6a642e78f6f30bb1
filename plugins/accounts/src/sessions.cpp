#include "sessions.hpp"

#include <algorithm>

#include "crypto.hpp"
#include "replies.hpp"

namespace accounts {
namespace {

constexpr const char* kColumns =
    "SELECT id, user_id, partial, failed_attempts, created_at, last_seen_at, expires_at,"
    " ip_address, user_agent FROM accounts_sessions ";

SessionRow read_session(const sdk::Statement& st) {
  SessionRow s;
  s.id = st.int64(0);
  s.user_id = st.int64(1);
  s.partial = st.int64(2) != 0;
  s.failed_attempts = st.int64(3);
  s.created_at = st.int64(4);
  s.last_seen_at = st.int64(5);
  s.expires_at = st.int64(6);
  s.ip_address = st.maybe_text(7);
  s.user_agent = st.maybe_text(8);
  return s;
}

bool live(const Settings& settings, const SessionRow& s, int64_t now) {
  if (s.expires_at <= now) return false;
  return s.partial || now - s.last_seen_at <= settings.session_idle_seconds;
}

}  // namespace

NewSession create_session(const Services& svc, int64_t user_id, bool partial,
                          std::string_view ip_address, std::string_view user_agent) {
  const Settings& s = svc.settings;
  int64_t now = now_seconds();
  NewSession out;
  out.token = random_token();
  out.max_age_seconds = partial ? s.partial_session_seconds : s.session_absolute_seconds;
  {
    // Expired rows of this user go when a new one comes: the table stays small without a sweeper.
    svc.db.sql("DELETE FROM accounts_sessions WHERE user_id = :u AND expires_at <= :now")
        .bind("u", user_id)
        .bind("now", now)
        .exec();
  }
  auto st = svc.db.sql(
      "INSERT INTO accounts_sessions (token_hash, user_id, partial, created_at, last_seen_at,"
      " expires_at, ip_address, user_agent) VALUES (:h, :u, :p, :now, :now, :exp, :ip, :ua)"
      " RETURNING id");
  st.bind("h", sha256_hex(out.token))
      .bind("u", user_id)
      .bind("p", partial ? 1 : 0)
      .bind("now", now)
      .bind("exp", now + out.max_age_seconds)
      .bind("ip", ip_address)
      .bind("ua", user_agent.substr(0, 512));
  st.step();
  out.id = st.int64(0);
  st.exec();
  return out;
}

std::optional<SessionRow> find_live_session(const Services& svc, std::string_view token) {
  int64_t now = now_seconds();
  std::optional<SessionRow> found;
  {
    auto st = svc.db.sql(std::string(kColumns) + "WHERE token_hash = :h");
    st.bind("h", sha256_hex(token));
    if (st.step()) found = read_session(st);
  }
  if (!found || !live(svc.settings, *found, now)) return std::nullopt;
  int64_t touch_every =
      std::max<int64_t>(1, std::min<int64_t>(60, svc.settings.session_idle_seconds / 10));
  if (!found->partial && now - found->last_seen_at >= touch_every) {
    svc.db.sql("UPDATE accounts_sessions SET last_seen_at = :now WHERE id = :id")
        .bind("now", now)
        .bind("id", found->id)
        .exec();
    found->last_seen_at = now;
  }
  return found;
}

std::vector<SessionRow> list_sessions(const Services& svc, int64_t user_id) {
  int64_t now = now_seconds();
  std::vector<SessionRow> out;
  auto st = svc.db.sql(std::string(kColumns) +
                       "WHERE user_id = :u AND partial = 0 ORDER BY created_at DESC, id DESC");
  st.bind("u", user_id);
  while (st.step()) {
    SessionRow s = read_session(st);
    if (live(svc.settings, s, now)) out.push_back(std::move(s));
  }
  return out;
}

std::string session_json(const SessionRow& s, std::optional<int64_t> current_id) {
  return JsonObject()
      .num("id", s.id)
      .time("created_at", s.created_at)
      .time("last_seen_at", s.last_seen_at)
      .time("expires_at", s.expires_at)
      .str_or_null("ip_address", s.ip_address)
      .str_or_null("user_agent", s.user_agent)
      .flag("current", current_id && *current_id == s.id)
      .done();
}

bool delete_session(const Db& db, int64_t user_id, int64_t session_id) {
  return db.sql("DELETE FROM accounts_sessions WHERE id = :id AND user_id = :u")
             .bind("id", session_id)
             .bind("u", user_id)
             .exec() > 0;
}

bool consume_partial_session(const Db& db, int64_t user_id, int64_t session_id) {
  return db.sql(
               "DELETE FROM accounts_sessions WHERE id = :id AND user_id = :u AND partial = 1"
               " AND expires_at > :now")
             .bind("id", session_id)
             .bind("u", user_id)
             .bind("now", now_seconds())
             .exec() == 1;
}

void delete_user_sessions(const Db& db, int64_t user_id) {
  db.sql("DELETE FROM accounts_sessions WHERE user_id = :u").bind("u", user_id).exec();
}

int64_t note_failed_2fa(const Db& db, int64_t session_id) {
  auto st = db.sql(
      "UPDATE accounts_sessions SET failed_attempts = failed_attempts + 1 WHERE id = :id"
      " RETURNING failed_attempts");
  st.bind("id", session_id);
  int64_t count = st.step() ? st.int64(0) : 0;
  st.exec();
  return count;
}

}  // namespace accounts
