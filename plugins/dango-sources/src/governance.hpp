// governance.hpp — what the plugin learns about raw tables at each sync (schema drift, PII, row
// and null counts for monitoring), its settings (`governance:` in the config) and migration
// 0003_catalog, which holds it in host storage.
#pragma once

#include <cstdint>
#include <plughost/plugin.hpp>
#include <string>
#include <vector>

#include "drift.hpp"
#include "pii.hpp"
#include "source_types.hpp"
#include "sync.hpp"
#include "warehouse.hpp"

namespace dango {

struct PiiOverride {
  std::string source;
  std::string table;
  std::string column;
  std::string pii_type;  // "none": not personal data
  std::string reason;
};

struct GovernanceSettings {
  std::vector<PiiOverride> pii_overrides;
  std::string dbt_project_dir;  // `dbt.project_dir`; empty: no models
};

// From the plugin config's `governance` and `dbt` objects. Throws std::invalid_argument.
GovernanceSettings parse_governance_settings(const rapidjson::Value& config);

// Migration 0003_catalog: snapshots, drift, PII findings, table metrics, profiles, model runs and
// monitoring results.
Migration catalog_migration();

struct LoadNote {
  std::string level;  // info, warning
  std::string event;  // schema_drift, pii_detected
  std::string message;
};

// Called by the sync engine after a successful load of `batch` into raw_<source>: records each
// delivered table's column drift, its row count and null rates (monitoring), and scans a sample of
// it for PII. Never throws: a failure is logged as a warning and the sync stays successful.
// `loaded`: tables that hold exactly the load's rows, whose counts replace a scan of the table.
std::vector<LoadNote> observe_load(sdk::Services host, Warehouse& warehouse,
                                   const std::string& source, int64_t run_id,
                                   const SourceBatch& batch,
                                   const std::vector<LoadedTable>& loaded = {});

struct StoredPiiFinding {
  std::string source;
  std::string table;
  PiiFinding finding;
  std::string scanned_at;
  bool overridden = false;
  std::string override_reason;
};

// The stored findings with the overrides applied (a "none" override drops a finding; another type
// replaces it; an override on an unflagged column adds one). Filtered by source/table when given.
std::vector<StoredPiiFinding> pii_findings(sdk::Services host, const GovernanceSettings& settings,
                                           const std::string& source, const std::string& table);

// Rows sampled per table by the PII scan.
constexpr size_t kPiiSampleRows = 1000;

// Scans `source`.`table` of the warehouse now and stores its findings (replacing the old ones).
std::vector<PiiFinding> scan_table_for_pii(sdk::Services host, Warehouse& warehouse,
                                           const std::string& source, const std::string& table);

}  // namespace dango
