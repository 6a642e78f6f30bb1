// schedules.hpp — Dango's schedules: a YAML file of cron schedules (time zone, sources, models)
// run by the host scheduler. The plugin hands the host its whole set of schedules (the file's
// plus the sources' own `schedule:`) through ABI 1.6's schedules_replace, at start and on each
// reload: the host checks the set all or nothing (a bad file is refused and the old schedules
// keep running) and at each due time enqueues `dango-sources/schedule_tick` once across all hosts
// (idempotency key "schedule:<name>:<due>"), with the due time in the payload. The tick starts
// the schedule's syncs as one job; once they all succeeded, `dango-sources/schedule_models` runs
// the schedule's models (and what is downstream of them) and records the outcome in the
// execution.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <plughost/plugin.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cron.hpp"
#include "settings.hpp"
#include "sync.hpp"

namespace dango {

constexpr const char* kScheduleTickTask = "dango-sources/schedule_tick";
constexpr const char* kScheduleModelsTask = "dango-sources/schedule_models";
// The host scheduler's name of a file schedule (sources' own schedules are "dango-sources.<src>";
// source names have no dots, so the two never clash).
inline std::string host_schedule_name(const std::string& schedule) {
  return "dango-sources.schedule." + schedule;
}

struct ScheduleDef {
  std::string name;  // lower-cased, [a-z0-9_]{1,128}
  std::string cron;
  CronSpec spec;
  std::string timezone = "UTC";
  const date::time_zone* tz = nullptr;
  std::vector<std::string> sources;  // configured source names
  std::vector<std::string> models;   // models run (with what is downstream) after the syncs
  bool full_refresh = false;
  bool enabled = true;
  std::string description;
};

struct ScheduleFile {
  std::vector<ScheduleDef> schedules;  // sorted by name
  std::string version;                 // 16 hex digits of FNV-1a over the file's bytes
};

// Parses and checks a schedules file against the configured sources. Throws
// std::invalid_argument with a message naming the entry and key ("schedules[1] (nightly).cron:
// hour field: value 24 out of range 0-23"). An empty text is a file without schedules.
ScheduleFile parse_schedule_file(const std::string& yaml_text, const Settings& settings);

// One execution of a schedule (cron or manual): a sync job over its sources.
struct ScheduleExecution {
  int64_t id = 0;
  std::string schedule;
  std::string trigger;       // cron, manual
  std::string triggered_by;  // "scheduler" or the caller's name
  std::optional<std::string> due_at;
  std::string started_at;
  std::optional<int64_t> job_id;  // the sync job (GET /api/sync/status/{job_id})
  std::vector<std::string> sources;
  std::vector<std::string> skipped;  // "<source>: <why>"
  std::vector<std::string> models;
  // "" without models; else starting, waiting (for the syncs), queued, running, success,
  // tests_failed, failed, or skipped (a sync did not succeed)
  std::string models_status;
  std::vector<std::pair<std::string, std::string>> model_results;  // model → run status
  std::optional<std::string> models_finished_at;
  std::string status;  // running, success, failed, cancelled, timeout, skipped
  std::optional<std::string> finished_at;
  int64_t rows_loaded = 0;
  std::optional<std::string> error;
};

// The sources' own `schedule:` entries as host schedules (registered during init, and part of
// every set the engine hands the host).
std::vector<sdk::Schedule> source_schedules(const Settings& settings);

// Runs `models` and everything downstream of them in dependency order; model → run status.
using ModelRunner = std::function<std::vector<std::pair<std::string, std::string>>(
    const std::vector<std::string>& models, sdk::TaskContext& task)>;

class ScheduleEngine {
 public:
  ScheduleEngine(sdk::Services host, const Settings& settings, SyncEngine& engine,
                 std::string file_path);

  // Set during init, before any task runs.
  void set_model_runner(ModelRunner runner) { run_models_ = std::move(runner); }

  // Loads the file and hands its schedules to the host scheduler. A missing file means no
  // schedules; a bad one is logged and leaves none (the plugin still serves; reload reports it).
  void start();
  // Re-reads the file. On success the host scheduler runs the new set at once; on error (the
  // file's or the host's) throws std::invalid_argument and the old schedules stay.
  std::shared_ptr<const ScheduleFile> reload();
  std::shared_ptr<const ScheduleFile> current() const;
  const std::string& file_path() const { return path_; }

  // The tick task's handler: payload {"schedule", "due"} from the host scheduler.
  void run_tick(sdk::TaskContext& task);
  // The models task's handler: payload {"execution_id"}.
  void run_models_task(sdk::TaskContext& task);
  // A sync_completed/sync_failed event: queues the models of executions whose syncs are done.
  void on_sync_event(std::string_view payload_json);
  // Starts the schedule's syncs now as one job; records and returns the execution.
  ScheduleExecution fire(const ScheduleDef& schedule, const std::string& trigger,
                         const std::string& triggered_by, std::optional<int64_t> due);

  // The host scheduler's next due time of a file schedule (ISO-8601 UTC), if it has one.
  std::optional<std::string> next_run(const std::string& name) const;
  std::optional<ScheduleExecution> last_execution(const std::string& schedule);
  std::vector<ScheduleExecution> active(const std::string& schedule);
  // Newest first; `schedule` empty: every schedule.
  std::vector<ScheduleExecution> history(const std::string& schedule, int limit, int offset);
  int64_t history_count(const std::string& schedule);

  // Asks every running sync of the job to stop (host task cancellation); the names of the
  // sources asked. Empty when nothing of the job runs; nullopt when there is no such job.
  std::optional<std::vector<std::string>> cancel_job(int64_t job_id);

 private:
  // Hands `file`'s set to the host; throws std::invalid_argument with the host's reason.
  void install(const ScheduleFile& file);
  // Queues the models of execution `id` once (compare-and-set on its models state).
  void queue_models(int64_t id);
  // One execution as stored (not settled); `models_text` gets its raw models column.
  std::optional<ScheduleExecution> load(int64_t id, std::string* models_text);
  std::vector<ScheduleExecution> select(const std::string& where, const std::string& schedule,
                                        int limit, int offset);
  void settle(ScheduleExecution& e);
  void settle_syncs(ScheduleExecution& e);  // status, rows and error from the job's sync runs

  sdk::Services host_;
  const Settings& settings_;
  SyncEngine& engine_;
  std::string path_;
  ModelRunner run_models_;
  std::mutex reload_mu_;  // one reload at a time: the host's set and file_ change together
  mutable std::mutex mu_;
  std::shared_ptr<const ScheduleFile> file_;
};

}  // namespace dango
