// scans.hpp — the schema and migration scans of a workspace, as host tasks with progress:
//   schema      introspects the project (apps, models, fields, relations);
//   migrations  introspects it too, then compares migration files with the applied ones.
// Queued on demand (at start, one per workspace and kind) and by the config's cron schedule.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <plughost/plugin.hpp>
#include <string_view>
#include <thread>

#include "host_services.hpp"
#include "scan_store.hpp"
#include "settings.hpp"

namespace inspector {

constexpr const char* kSchemaScanTask = "scan_schema";
constexpr const char* kMigrationScanTask = "scan_migrations";

class Scanner {
 public:
  Scanner(const Settings& settings, const HostServices& host, const ScanStore& scans)
      : settings_(settings), host_(host), scans_(scans) {}

  // Records a pending scan; returns its id.
  int64_t record_pending(const Workspace& workspace, std::string_view kind) const;
  // Queues the task that runs pending scan `scan_id`; throws plughost::sdk::Error when the host
  // refuses it.
  void enqueue(const Workspace& workspace, std::string_view kind, int64_t scan_id) const;

  // Task handlers. Payload {"workspace": slug, "scan_id": id}, or {} (the schedule's) to scan
  // every workspace.
  void run_schema_scan(plughost::sdk::TaskContext& task) const;
  void run_migration_scan(plughost::sdk::TaskContext& task) const;

 private:
  void run_scans(plughost::sdk::TaskContext& task, std::string_view kind) const;
  void scan_workspace(plughost::sdk::TaskContext& task, const Workspace& workspace,
                      std::string_view kind, std::optional<int64_t> scan_id) const;

  const Settings& settings_;
  const HostServices& host_;
  const ScanStore& scans_;
};

// Queues one schema and one migration scan per workspace as soon as the host accepts the
// plugin's task kinds: they become known only when init has returned, so this runs on a thread of
// its own, retrying every 50 ms for up to a minute. Stops (and joins) on destruction.
class StartupScans {
 public:
  StartupScans(const Scanner& scanner, const Settings& settings, const HostServices& host);
  ~StartupScans();
  StartupScans(const StartupScans&) = delete;
  StartupScans& operator=(const StartupScans&) = delete;

 private:
  void run();

  const Scanner& scanner_;
  const Settings& settings_;
  const HostServices& host_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace inspector
