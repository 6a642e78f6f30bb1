// scan_store.hpp — schema and migration scans (djdesk's ScanJob) in the plugin's own table
// `inspector_scans`; a scan's findings are kept as JSON in `result`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host_services.hpp"

namespace inspector {

// kind: schema | migrations (djdesk also named logs and fixtures; this plugin runs neither).
// status: pending | running | completed | failed
struct ScanRecord {
  int64_t id = 0;
  std::string workspace;
  std::string kind;
  std::string status = "pending";
  int progress = 0;
  std::string summary;
  std::string log;  // "[HH:MM:SS] line" joined with "\n"
  std::optional<std::string> result_json;
  std::optional<int64_t> task_id;
  double created_at = 0;
  std::optional<double> started_at;
  std::optional<double> completed_at;
};

// djdesk's display name of a scan kind ("Schema ingest" …).
std::string scan_kind_label(std::string_view kind);

class ScanStore {
 public:
  explicit ScanStore(const HostServices& host) : host_(host) {}

  int64_t create(const ScanRecord& scan) const;
  void set_task(int64_t id, int64_t task_id) const;
  std::optional<ScanRecord> get(int64_t id) const;
  std::vector<ScanRecord> newest(std::string_view workspace, int limit) const;
  // The newest completed scans of one kind, newest first (the latest and the one before it).
  std::vector<ScanRecord> completed(std::string_view workspace, std::string_view kind,
                                    int limit) const;
  void update(const ScanRecord& scan) const;

 private:
  const HostServices& host_;
};

}  // namespace inspector
