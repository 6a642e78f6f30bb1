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
  auto txn = svc.db.transaction();
  int64_t failures = 0;
  {
    auto st = txn.sql(
        "SELECT failures, locked_until, updated_at FROM accounts_login_failures"
        " WHERE ip_address = :ip AND email = :e");
    st.bind("ip", ip).bind("e", email);
    if (st.step()) {
      bool lock_over = !st.is_null(1) && st.int64(1) <= now;
      bool streak_stale = now - st.int64(2) > s.lockout_seconds;
      failures = lock_over || streak_stale ? 0 : st.int64(0);
    }
  }
  ++failures;
  std::optional<int64_t> locked_until;
  if (failures >= s.lockout_threshold) locked_until = now + s.lockout_seconds;
  txn.sql(
         "INSERT INTO accounts_login_failures (ip_address, email, failures, locked_until,"
         " updated_at) VALUES (:ip, :e, :n, :locked, :now) ON CONFLICT (ip_address, email)"
         " DO UPDATE SET failures = :n, locked_until = :locked, updated_at = :now")
      .bind("ip", ip)
      .bind("e", email)
      .bind("n", failures)
      .bind("locked", locked_until)
      .bind("now", now)
      .exec();
  txn.commit();
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
