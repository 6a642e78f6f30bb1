// plugin.cpp — the inspector plugin: djdesk's workspace inspector REST API over Django projects
// configured as workspaces. Its routes, tasks, schedules and tables, in one screen.
#include <plughost/plugin.hpp>

#include "api.hpp"
#include "django_responses.hpp"
#include "preset_run.hpp"
#include "presets.hpp"
#include "run_store.hpp"
#include "scan_store.hpp"
#include "scans.hpp"
#include "settings.hpp"

namespace inspector {

using plughost::sdk::Request;
using plughost::sdk::Response;
using plughost::sdk::TaskContext;

constexpr const char* kTaskRunRequestSchema =
    R"({"type":"object","required":["workspace","preset","confirm_safe"],"properties":{"workspace":{"type":"string"},"preset":{"type":"string"},"notes":{"type":"string","maxLength":280},"confirm_safe":{"type":["string","boolean"]}}})";

class InspectorPlugin final : public plughost::sdk::Plugin, public HostServices {
  void init() override {
    settings_ = load_settings(config());  // a bad workspace path fails init, naming it
    for (const auto& m : table_migrations()) migration(m.name, m.sql, m.sql_postgres);
    error_formatter(
        [](int status, std::string_view code, std::string_view message, std::string_view detail,
           std::string_view) { return format_host_error(status, code, message, detail); });

    route({"GET",
           "/api/workspaces/:slug/status/",
           "Dashboard status of a workspace",
           "inspector.view",
           {},
           {},
           {},
           PH_ROUTE_ISSUE_CSRF_COOKIE},
          [this](const Request& rq, Response& rs) { api_.workspace_status(rq, rs); });
    route({"POST",
           "/api/task-runs/",
           "Queue a read-only manage.py preset on a workspace",
           "inspector.run",
           {},
           kTaskRunRequestSchema,
           {},
           0},
          [this](const Request& rq, Response& rs) { api_.create_task_run(rq, rs); });
    route({"GET",
           "/api/task-runs/:id/",
           "One preset run with its log and metadata",
           "inspector.view",
           {},
           {},
           {},
           PH_ROUTE_ISSUE_CSRF_COOKIE},
          [this](const Request& rq, Response& rs) { api_.task_run_detail(rq, rs); });

    task(kRunPresetTask, "Runs one requested preset command in its workspace",
         [this](TaskContext& t) { presets_.run(t); });
    task(kSchemaScanTask, "Introspects a workspace's apps, models and relations",
         [this](TaskContext& t) { scanner_.run_schema_scan(t); });
    task(kMigrationScanTask, "Compares a workspace's migration files with its database",
         [this](TaskContext& t) { scanner_.run_migration_scan(t); });

    if (!settings_.scan_cron.empty()) {
      schedule("inspector-scan-schema", settings_.scan_cron,
               std::string("inspector/") + kSchemaScanTask, settings_.scan_timezone);
      schedule("inspector-scan-migrations", settings_.scan_cron,
               std::string("inspector/") + kMigrationScanTask, settings_.scan_timezone);
    }
    if (settings_.scan_on_start) {
      startup_scans_ = std::make_unique<StartupScans>(scanner_, settings_, *this);
    }
    warn_about_unlisted_presets();
  }

  void shutdown() override { startup_scans_.reset(); }

  // Such a preset stays selectable and fails at run time, as djdesk's did.
  void warn_about_unlisted_presets() const {
    for (const auto& p : settings_.presets) {
      if (!check_safe_command(p.command, settings_.safe_commands).ok()) {
        warn("preset \"" + p.key + "\" runs `" + p.command +
             "`, which is not in the allow-list; its runs will fail");
      }
    }
  }

  // HostServices, forwarded to the SDK.
  plughost::sdk::Statement query(std::string_view text) const override { return sql(text); }
  int64_t enqueue_task(const plughost::sdk::TaskRequest& r) const override { return enqueue(r); }
  std::optional<std::string> host_task(int64_t id) const override { return task_json(id); }
  void warn_log(std::string_view message) const override { warn(message); }

  Settings settings_;
  RunStore runs_{*this};
  ScanStore scans_{*this};
  PresetRunner presets_{settings_, runs_};
  Scanner scanner_{settings_, *this, scans_};
  InspectorApi api_{settings_, *this, runs_, scans_};
  std::unique_ptr<StartupScans> startup_scans_;
};

}  // namespace inspector

PLUGHOST_PLUGIN(inspector::InspectorPlugin, "inspector", "1.0.0",
                "djdesk workspace inspector: Django schema, migrations and read-only presets",
                "beta")
