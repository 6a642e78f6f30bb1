// schedules.hpp — Dango's schedules: a YAML file of cron schedules (time zone, sources, models)
// run by the plugin's own loop on host tasks, so that they can be reloaded at run time (the host
// scheduler takes schedules only during init and cannot drop one). Each armed due time is one
// delayed host task, `dango-sources/schedule_tick`, with an idempotency key made of the schedule,
// the file's version and the due time: hosts sharing a database arm and fire it once between
// them, and a tick armed by an older version of the file does nothing when it comes due.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <plughost/plugin.hpp>
#include <string>
#include <vector>

#include "cron.hpp"
#include "settings.hpp"
#include "sync.hpp"

namespace dango {

constexpr const char* kScheduleTickTask = "dango-sources/schedule_tick";

struct ScheduleDef {
  std::string name;  // lower-cased, [a-z0-9_]{1,128}
  std::string cron;
  CronSpec spec;
  std::string timezone = "UTC";
  const date::time_zone* tz = nullptr;
  std::vector<std::string> sources;  // configured source names
  std::vector<std::string> models;   // dbt models: listed, recorded; not run by this plugin
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
  std::string status;  // running, success, failed, cancelled, timeout, skipped
  std::optional<std::string> finished_at;
  int64_t rows_loaded = 0;
  std::optional<std::string> error;
};

class ScheduleEngine {
 public:
  ScheduleEngine(sdk::Services host, const Settings& settings, SyncEngine& engine,
                 std::string file_path);

  // Loads the file and arms every enabled schedule. A missing file means no schedules; a bad one
  // is logged and leaves none (the plugin still serves; reload reports the error).
  void start();
  // Re-reads the file. On success the new schedules replace the old ones at once and are armed;
  // on error throws std::invalid_argument and the old schedules stay.
  std::shared_ptr<const ScheduleFile> reload();
  std::shared_ptr<const ScheduleFile> current() const;
  const std::string& file_path() const { return path_; }

  // The tick task's handler.
  void run_tick(sdk::TaskContext& task);
  // Starts the schedule's syncs now as one job; records and returns the execution.
  ScheduleExecution fire(const ScheduleDef& schedule, const std::string& trigger,
                         const std::string& triggered_by, std::optional<int64_t> due);

  std::optional<int64_t> next_run(const std::string& name) const;
  std::optional<ScheduleExecution> last_execution(const std::string& schedule);
  std::vector<ScheduleExecution> active(const std::string& schedule);
  // Newest first; `schedule` empty: every schedule.
  std::vector<ScheduleExecution> history(const std::string& schedule, int limit, int offset);
  int64_t history_count(const std::string& schedule);

  // Asks every running sync of the job to stop (host task cancellation); the names of the
  // sources asked. Empty when nothing of the job runs; nullopt when there is no such job.
  std::optional<std::vector<std::string>> cancel_job(int64_t job_id);

 private:
  void arm_all(const ScheduleFile& file);
  void arm(const ScheduleDef& schedule, const std::string& version, int64_t after);
  std::vector<ScheduleExecution> select(const std::string& where, const std::string& schedule,
                                        int limit, int offset);
  void settle(ScheduleExecution& e);

  sdk::Services host_;
  const Settings& settings_;
  SyncEngine& engine_;
  std::string path_;
  mutable std::mutex mu_;
  std::shared_ptr<const ScheduleFile> file_;
  std::map<std::string, std::pair<int64_t, int64_t>> armed_;  // name → (due, tick task id)
};

}  // namespace dango
