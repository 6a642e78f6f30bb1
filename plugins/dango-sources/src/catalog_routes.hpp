// catalog_routes.hpp — the handlers of part 2: governance (drift, PII, attention), models, the
// catalog, monitoring and the agent tools. They share the part-1 Context plus the governance
// settings and the model project.
#pragma once

#include <memory>
#include <plughost/plugin.hpp>
#include <string>
#include <utility>
#include <vector>

#include "governance.hpp"
#include "models.hpp"
#include "routes.hpp"

namespace dango {

struct CatalogContext {
  Context& base;
  GovernanceSettings settings;
};

using CatalogHandler = void (*)(CatalogContext&, const sdk::Request&, sdk::Response&);

// Governance
void schema_drift(CatalogContext&, const sdk::Request&, sdk::Response&);
void accept_drift(CatalogContext&, const sdk::Request&, sdk::Response&);
void pii_report(CatalogContext&, const sdk::Request&, sdk::Response&);
void pii_overrides(CatalogContext&, const sdk::Request&, sdk::Response&);
void attention(CatalogContext&, const sdk::Request&, sdk::Response&);

// A `source` path parameter or query value: nullopt when absent; 400 DANGO-V002 when invalid.
std::optional<std::string> name_query(const sdk::Request& rq, const char* key);
// A model name path parameter, lower-cased; 400 DANGO-V002 when it is not [A-Za-z0-9_]{1,128}.
std::string model_param(const sdk::Request& rq, const char* key);
// `s`, or nullopt (JSON null) when it is empty.
inline std::optional<std::string> text_or_null(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}
// Enqueues a one-attempt task of `kind` and answers 202 {success, message, task_id}.
void answer_task_started(CatalogContext& c, sdk::Response& rs, const std::string& kind,
                         const std::string& payload_json, const std::string& message);

}  // namespace dango

namespace dango {

constexpr const char* kModelRunTask = "dango-sources/run_models";

// The project as configured (`dbt.project_dir`), read and compiled now.
ModelProject current_project(CatalogContext& c);

// dbt Operations
void list_models(CatalogContext&, const sdk::Request&, sdk::Response&);
void run_model(CatalogContext&, const sdk::Request&, sdk::Response&);
// The task behind run_model: builds the model (and downstream), then runs their tests.
void run_models_task(CatalogContext&, sdk::TaskContext&);
// Builds `selected` and everything downstream of them (the seed's cascade), in dependency order,
// as task `t`, then runs their tests; model → status (success, tests_failed, failed, skipped).
// Throws std::runtime_error for a project error or an unknown model.
std::vector<std::pair<std::string, std::string>> run_model_selection(
    CatalogContext&, const std::vector<std::string>& selected, sdk::TaskContext& t);

}  // namespace dango

namespace dango {

constexpr const char* kProfileTask = "dango-sources/profile_table";

// Data Catalog
void table_columns_route(CatalogContext&, const sdk::Request&, sdk::Response&);
void profile_table(CatalogContext&, const sdk::Request&, sdk::Response&);
void catalog_models(CatalogContext&, const sdk::Request&, sdk::Response&);
void catalog_model(CatalogContext&, const sdk::Request&, sdk::Response&);
void catalog_search(CatalogContext&, const sdk::Request&, sdk::Response&);
void catalog_lineage(CatalogContext&, const sdk::Request&, sdk::Response&);
void catalog_impact(CatalogContext&, const sdk::Request&, sdk::Response&);
// The task behind profile_table: computes and stores the profile of one table.
void profile_table_task(CatalogContext&, sdk::TaskContext&);

}  // namespace dango

namespace dango {

constexpr const char* kMonitoringTask = "dango-sources/monitoring_run";

// Monitoring: metric checks over the metrics recorded at each sync.
void monitoring_results(CatalogContext&, const sdk::Request&, sdk::Response&);
void monitoring_run(CatalogContext&, const sdk::Request&, sdk::Response&);
void monitoring_history(CatalogContext&, const sdk::Request&, sdk::Response&);
void monitoring_task(CatalogContext&, sdk::TaskContext&);

// AI / Agent
void catalog_summary(CatalogContext&, const sdk::Request&, sdk::Response&);
void agent_tools(CatalogContext&, const sdk::Request&, sdk::Response&);

}  // namespace dango
