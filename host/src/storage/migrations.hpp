// migrations.hpp — per-plugin schema migrations recorded in one ledger table,
// plughost_migrations(plugin, name, checksum, applied_at).
#pragma once

#include <string>
#include <vector>

#include "storage/database.hpp"

namespace plughost {

struct LedgerRow {
  std::string plugin;
  std::string name;
  std::string checksum;
  std::string applied_at;  // ISO-8601 UTC
};

enum class MigrationOutcome { kApplied, kAlreadyApplied, kChecksumMismatch };

struct MigrationResult {
  MigrationOutcome outcome;
  std::string message;  // for kChecksumMismatch: names both checksums
};

// Creates the ledger (and the host's own tables) if missing. Idempotent; safe with several hosts.
void ensure_host_schema(Database& db);

// FNV-1a 64-bit of the SQL, as 16 hex digits: stable across hosts and releases.
std::string migration_checksum(const std::string& sql);

// Applies one migration unless the ledger has it; the SQL and the ledger row commit together.
// Throws std::runtime_error when the SQL fails (nothing is recorded then).
MigrationResult apply_migration(Database& db, const std::string& plugin, const std::string& name,
                                const std::string& sql);

std::vector<LedgerRow> read_ledger(Database& db);

// Current UTC time as ISO-8601 with milliseconds ("2026-11-23T08:00:00.000Z").
std::string utc_now_iso();

}  // namespace plughost
