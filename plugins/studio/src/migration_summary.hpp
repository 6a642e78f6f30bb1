// migration_summary.hpp — per-plugin migration statistics with heads and branch conflicts.
// Plugins are Studio's apps (app_label = plugin name). A plugin's migrations form a chain by
// their order number (the name's leading digits, "0003_add_tags" -> 3; a name without digits is
// its own step): each step's parent is the step before it. Heads are the migrations of the last
// step; two migrations claiming the same step (the same parent) are a branch, i.e. a conflict.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "host_snapshot.hpp"

namespace studio {

struct Conflict {
  std::string app_label;
  std::string order;               // the contested step, e.g. "0008"
  std::vector<std::string> heads;  // the migrations claiming it, sorted
  std::string message;
};

struct AppMigrations {
  std::string app_label;
  int total = 0;
  int applied = 0;
  int pending = 0;  // never negative
  bool has_conflicts = false;
  std::vector<std::string> head_migrations;
  std::optional<std::string> last_applied;
};

struct MigrationSummary {
  int total = 0;
  int applied = 0;
  int pending = 0;
  std::vector<AppMigrations> apps;  // by app_label
  std::vector<Conflict> conflicts;
  std::optional<std::string> last_applied;  // latest applied_at over all apps (ties: by name)
};

MigrationSummary summarize_migrations(const std::vector<MigrationRow>& rows);

}  // namespace studio
