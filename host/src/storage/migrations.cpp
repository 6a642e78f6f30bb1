#include "storage/migrations.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include "common/time_format.hpp"
#include "storage/statement.hpp"

namespace plughost {
namespace {}  // namespace

std::string utc_now_iso() {
  using namespace std::chrono;
  return iso8601_utc(duration<double>(system_clock::now().time_since_epoch()).count());
}

void ensure_host_schema(Database& db) {
  Transaction txn(db);
  // Several hosts may start at once on PostgreSQL: serialise schema creation with an advisory
  // lock held until commit. SQLite's BEGIN IMMEDIATE already serialises.
  if (db.dialect() == Dialect::kPostgres) txn.exec_script("SELECT pg_advisory_xact_lock(7351)");
  txn.exec_script(
      "CREATE TABLE IF NOT EXISTS plughost_migrations ("
      " plugin TEXT NOT NULL, name TEXT NOT NULL, checksum TEXT NOT NULL,"
      " applied_at TEXT NOT NULL, PRIMARY KEY (plugin, name))");
  txn.commit();
}

std::string migration_checksum(const std::string& sql) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : sql) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

MigrationResult apply_migration(Database& db, const std::string& plugin, const std::string& name,
                                const std::string& sql) {
  std::string checksum = migration_checksum(sql);
  Transaction txn(db);
  if (db.dialect() == Dialect::kPostgres) txn.exec_script("SELECT pg_advisory_xact_lock(7351)");
  {
    Statement existing(
        txn, "SELECT checksum FROM plughost_migrations WHERE plugin = :plugin AND name = :name");
    existing.bind("plugin", Value::text(plugin));
    existing.bind("name", Value::text(name));
    if (existing.step()) {
      std::string recorded(existing.column_bytes(0));
      if (recorded == checksum) return {MigrationOutcome::kAlreadyApplied, {}};
      return {MigrationOutcome::kChecksumMismatch,
              "migration " + plugin + "/" + name + " changed after it was applied (ledger " +
                  recorded + ", code " + checksum + "); add a new migration instead"};
    }
  }
  txn.exec_script(sql);
  {
    Statement record(txn,
                     "INSERT INTO plughost_migrations (plugin, name, checksum, applied_at) "
                     "VALUES (:plugin, :name, :checksum, :at)");
    record.bind("plugin", Value::text(plugin));
    record.bind("name", Value::text(name));
    record.bind("checksum", Value::text(checksum));
    record.bind("at", Value::text(utc_now_iso()));
    record.step();
  }
  txn.commit();
  return {MigrationOutcome::kApplied, {}};
}

std::vector<LedgerRow> read_ledger(Database& db) {
  std::vector<LedgerRow> rows;
  Statement st(db,
               "SELECT plugin, name, checksum, applied_at FROM plughost_migrations "
               "ORDER BY applied_at, plugin, name");
  while (st.step()) {
    rows.push_back({std::string(st.column_bytes(0)), std::string(st.column_bytes(1)),
                    std::string(st.column_bytes(2)), std::string(st.column_bytes(3))});
  }
  return rows;
}

}  // namespace plughost
