// status_payload.hpp — the body of GET /api/workspaces/<slug>/status/ (and of the POST
// /api/task-runs/ answer), built from the workspace's scans, runs and the config:
// workspace, insights, apps, activity, schema, log_excerpt, scans, tasks, doc_links (+ alias
// docs), data_lab.
#pragma once

#include <rapidjson/document.h>

#include "host_services.hpp"
#include "run_store.hpp"
#include "scan_store.hpp"
#include "settings.hpp"

namespace inspector {

struct StatusSources {
  const Settings& settings;
  const RunStore& runs;
  const ScanStore& scans;
  const HostServices& host;
};

// Fills `out` (an object) with the status payload of `workspace`.
void build_status_payload(const StatusSources& sources, const Workspace& workspace,
                          rapidjson::Document& out);

// A run as the status lists it: id, preset, label, status, progress, log, requested_at,
// completed_at.
void write_task_run_summary(const RunRecord& run, rapidjson::Value& out,
                            rapidjson::Document::AllocatorType& alloc);

}  // namespace inspector
