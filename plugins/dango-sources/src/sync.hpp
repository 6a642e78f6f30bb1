// sync.hpp — syncs as host tasks: one run per source at a time (a unique index on running runs in
// host storage, so two hosts on one PostgreSQL cannot both start one), the run history, the
// activity log, multi-source jobs and the sync_* events on the host bus.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <plughost/plugin.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "settings.hpp"
#include "warehouse.hpp"

namespace dango {

namespace sdk = plughost::sdk;

constexpr const char* kSyncTask = "dango-sources/sync_source";

struct Migration {
  const char* name;
  const char* sql;
  const char* sql_postgres;
};
const std::vector<Migration>& migrations();

struct SyncRun {
  int64_t id = 0;
  std::string source;
  std::optional<int64_t> job_id;
  std::string status;  // running, success, failed, cancelled, timeout
  bool full_refresh = false;
  std::string triggered_by;  // api, trigger, schedule
  std::optional<int64_t> task_id;
  std::string started_at;
  std::optional<std::string> finished_at;
  std::optional<int64_t> duration_ms;
  int64_t rows_loaded = 0;
  int64_t rows_deleted = 0;
  std::optional<std::string> error;
  int64_t started_ms = 0;  // in memory only, for an exact duration
};

struct LogEntry {
  int64_t id = 0;
  std::string timestamp;
  std::optional<std::string> source;
  std::string level;  // info, warning, error
  std::string event;
  std::string message;
  std::optional<int64_t> run_id;
};

struct SyncOptions {
  bool full_refresh = false;
  bool allow_empty_replace = false;
  std::string start_date;  // YYYY-MM-DD or empty
  std::string end_date;
};

// Thrown inside a sync task whose cancellation was requested (TaskContext::cancelled()).
struct SyncCancelled : std::runtime_error {
  SyncCancelled() : std::runtime_error("sync cancelled") {}
};

class SyncEngine {
 public:
  SyncEngine(sdk::Services host, const Settings& settings, Warehouse& warehouse)
      : host_(host), settings_(settings), warehouse_(warehouse) {}

  // Starts a run of `source` and enqueues its task; nullopt when that source is already syncing.
  std::optional<SyncRun> start(const SourceConfig& source, const SyncOptions& options,
                               const std::string& triggered_by,
                               std::optional<int64_t> job_id = std::nullopt);
  // A job over several sources; the caller checked they exist.
  int64_t create_job(const std::vector<std::string>& sources, bool full_refresh);

  // The task handler.
  void run_task(sdk::TaskContext& task);
  // A sync task that failed, timed out or was cancelled (the host's task.* events): its run is
  // closed at once if the handler did not finish it.
  void task_ended(std::string_view task_json);

  std::optional<SyncRun> run(int64_t id);
  std::optional<SyncRun> latest_run(const std::string& source);
  std::vector<SyncRun> runs(const std::string& source, int limit);
  std::vector<SyncRun> job_runs(int64_t job_id);
  bool job_exists(int64_t job_id, std::string& created_at);

  void log(const std::optional<std::string>& source, const std::string& level,
           const std::string& event, const std::string& message,
           std::optional<int64_t> run_id = std::nullopt);
  std::vector<LogEntry> logs(const std::optional<std::string>& source, int limit);

 private:
  // A running run whose task ended without finishing it (the host stopped it, it timed out) is
  // closed here, so it does not hold its source forever.
  void reconcile(SyncRun& run);
  void close_run(SyncRun& run, const std::string& task_status, const std::string& task_error);
  void execute(SyncRun& run, const SyncOptions& options, const std::function<bool()>& cancelled,
               const std::function<void(int)>& progress);
  void finish(SyncRun& run, const std::string& status, const std::optional<std::string>& error);
  void publish(const std::string& type, const std::string& source, const std::string& extra_json);

  sdk::Services host_;
  const Settings& settings_;
  Warehouse& warehouse_;
};

}  // namespace dango
