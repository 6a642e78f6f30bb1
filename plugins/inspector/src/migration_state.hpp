// migration_state.hpp — which migrations of a project are pending: migration files on disk
// against the applied ones, read from the workspace database's `django_migrations` table
// (SQLite, opened read-only) or, for other databases, from `manage.py showmigrations --list`.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace inspector {

// Migration names in a migrations directory, sorted: the `*.py` modules (and packages) whose
// names do not start with "_" or "~", as Django's MigrationLoader finds them.
std::vector<std::string> migration_files(const std::string& directory);

using AppliedMigrations = std::map<std::string, std::set<std::string>>;  // app label -> names

struct AppliedRead {
  std::optional<AppliedMigrations> applied;
  std::string error;
};

// Reads `django_migrations` from a SQLite file without writing to it. A missing file or table
// means nothing is applied yet.
AppliedRead read_applied_sqlite(const std::string& database_path);

// The applied ("[X]") migrations in `showmigrations --list` output.
AppliedMigrations parse_showmigrations(const std::vector<std::string>& lines);

}  // namespace inspector
