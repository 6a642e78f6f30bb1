// api.hpp — the inspector's HTTP handlers (djdesk.inspector.urls):
//   GET  /api/workspaces/:slug/status/   status payload
//   POST /api/task-runs/                 queue a preset run; 201 with the status + task_run
//   GET  /api/task-runs/:id/             one run with its log and metadata
#pragma once

#include <plughost/plugin.hpp>

#include "host_services.hpp"
#include "run_store.hpp"
#include "scan_store.hpp"
#include "settings.hpp"

namespace inspector {

constexpr const char* kRunPresetTask = "run_preset";

class InspectorApi {
 public:
  InspectorApi(const Settings& settings, const HostServices& host, const RunStore& runs,
               const ScanStore& scans)
      : settings_(settings), host_(host), runs_(runs), scans_(scans) {}

  void workspace_status(const plughost::sdk::Request& rq, plughost::sdk::Response& rs) const;
  void create_task_run(const plughost::sdk::Request& rq, plughost::sdk::Response& rs) const;
  void task_run_detail(const plughost::sdk::Request& rq, plughost::sdk::Response& rs) const;

 private:
  // Creates the run and its host task; nullopt when the host refused the task.
  std::optional<RunRecord> dispatch(const Workspace& workspace, const Preset& preset,
                                    const std::string& notes) const;

  const Settings& settings_;
  const HostServices& host_;
  const RunStore& runs_;
  const ScanStore& scans_;
};

}  // namespace inspector
