// run_store.hpp — preset runs (djdesk's WorkspaceTaskRun) in the plugin's own table
// `inspector_runs`; each run is executed by one host task whose id is kept in `task_id`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host_services.hpp"

namespace inspector {

// requested | running | succeeded | failed | cancelled
struct RunRecord {
  int64_t id = 0;
  std::string workspace;
  std::string preset;
  std::string label;
  std::string command;
  std::string notes;
  std::string status = "requested";
  int progress = 0;
  std::string log;                   // "[HH:MM:SS] line" joined with "\n"
  std::string metadata_json = "{}";  // {"notes": …, "command": {…}}
  std::optional<int64_t> task_id;
  double requested_at = 0;
  std::optional<double> started_at;
  std::optional<double> completed_at;

  bool finished() const {
    return status == "succeeded" || status == "failed" || status == "cancelled";
  }
};

// The plugin's migrations for its two tables (runs and scans), in order: {name, sqlite, postgres}.
struct TableMigration {
  std::string name;
  std::string sql;
  std::string sql_postgres;
};
const std::vector<TableMigration>& table_migrations();

class RunStore {
 public:
  explicit RunStore(const HostServices& host) : host_(host) {}

  int64_t create(const RunRecord& run) const;  // returns the new id
  void set_task(int64_t id, int64_t task_id) const;
  std::optional<RunRecord> get(int64_t id) const;
  std::vector<RunRecord> newest(std::string_view workspace, int limit) const;
  // Writes status, progress, log, metadata and the time stamps of `run`.
  void update(const RunRecord& run) const;

 private:
  const HostServices& host_;
};

}  // namespace inspector
