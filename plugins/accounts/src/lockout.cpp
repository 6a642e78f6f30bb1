#include "lockout.hpp"

namespace accounts {

int64_t lock_remaining(const Services& svc, std::string_view ip, std::string_view email) {
  auto st = svc.db.sql(
      "SELECT locked_until FROM accounts_login_failures WHERE ip_address = :ip AND email = :e");
  st.bind("ip", ip).bind("e", email);
  if (!st.step() || st.is_null(0)) return 0;
  int64_t remaining = st.int64(0) - now_seconds();
  return remaining > 0 ? remaining : 0;
}

std::optional<int64_t> record_failure(const Services& svc, std::string_view ip,
                                      std::string_view email) {
  const Settings& s = svc.settings;
  int64_t now = now_seconds();
  // One statement, so concurrent failures (PostgreSQL runs them in parallel) each count: the
  // streak restarts when the last lock is over or the last failure is older than lockout_seconds.
  // SET expressions see the row's old values; valid on SQLite >= 3.35 and PostgreSQL.
  const std::string streak =
      "(CASE WHEN (accounts_login_failures.locked_until IS NOT NULL"
      " AND accounts_login_failures.locked_until <= :now)"
      " OR :now - accounts_login_failures.updated_at > :window THEN 1"
      " ELSE accounts_login_failures.failures + 1 END)";
  auto st = svc.db.sql(
      "INSERT INTO accounts_login_failures (ip_address, email, failures, locked_until, updated_at)"
      " VALUES (:ip, :e, 1, CASE WHEN 1 >= :threshold THEN CAST(:locked AS BIGINT) ELSE NULL END,"
      " :now) ON CONFLICT (ip_address, email) DO UPDATE SET failures = " +
      streak + ", locked_until = CASE WHEN " + streak +
      " >= :threshold THEN CAST(:locked AS BIGINT) ELSE NULL END, updated_at = :now"
      " RETURNING failures, locked_until");
  st.bind("ip", ip)
      .bind("e", email)
      .bind("now", now)
      .bind("window", s.lockout_seconds)
      .bind("threshold", static_cast<int64_t>(s.lockout_threshold))
      .bind("locked", now + s.lockout_seconds);
  std::optional<int64_t> locked_until;
  if (st.step() && !st.is_null(1)) locked_until = st.int64(1);
  st.exec();
  return locked_until;
}

void clear_failures(const Db& db, std::string_view ip, std::string_view email) {
  db.sql("DELETE FROM accounts_login_failures WHERE ip_address = :ip AND email = :e")
      .bind("ip", ip)
      .bind("e", email)
      .exec();
}

void clear_failures_for_email(const Db& db, std::string_view email) {
  db.sql("DELETE FROM accounts_login_failures WHERE email = :e").bind("e", email).exec();
}

}  // namespace accounts
