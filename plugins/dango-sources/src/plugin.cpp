// The dango-sources plugin: Dango's data sources, their syncs into the warehouse, the activity
// log and the upload folders' files. This file is the table of contents: every route, the sync
// task, the built-in `source` connectors, the schedules and the error formatter.
#include <filesystem>
#include <memory>
#include <plughost/plugin.hpp>

#include "ops.hpp"
#include "replies.hpp"
#include "routes.hpp"
#include "settings.hpp"
#include "source_types.hpp"
#include "sync.hpp"
#include "warehouse.hpp"

namespace dango {

constexpr const char* kPublic = PH_PERMISSION_PUBLIC;
// The seed's bare "None": any signed-in caller (NOTES.md §5).
constexpr const char* kSignedIn = PH_PERMISSION_AUTHENTICATED;

class DangoSources : public sdk::Plugin {
  void init() override {
    settings_ = std::make_unique<Settings>(parse_settings(config()));
    // `plughost check` inits plugins without storage: check the config, touch nothing.
    const bool serving = !dialect().empty();
    if (serving) {
      for (const auto& s : settings_->sources) std::filesystem::create_directories(s.folder);
    }
    warehouse_ = std::make_unique<Warehouse>(settings_->warehouse_url,
                                             settings_->warehouse_pool_size, serving);
    for (const Migration& m : migrations()) migration(m.name, m.sql, m.sql_postgres);
    engine_ = std::make_unique<SyncEngine>(services(), *settings_, *warehouse_);
    context_ = std::make_unique<Context>(Context{services(), *settings_, *warehouse_, *engine_});
    ops_settings_ = std::make_unique<OpsSettings>(parse_ops_settings(config(), *settings_));
    schedules_ = std::make_unique<ScheduleEngine>(services(), *settings_, *engine_,
                                                  ops_settings_->schedules_file);
    notifier_ = std::make_unique<Notifier>(services(), parse_notification_settings(config()));
    notebooks_ = std::make_unique<NotebookStore>(services(), ops_settings_->notebooks);
    if (serving) std::filesystem::create_directories(ops_settings_->notebooks.dir);
    initial_sync_ = std::make_unique<InitialSync>(services(), *settings_, *engine_,
                                                  parse_initial_sync_settings(config()));
    ops_ = std::make_unique<Ops>(
        Ops{*context_, *schedules_, *notifier_, *notebooks_, *initial_sync_, *ops_settings_});

    // Source types: a connector of kind `source` each (source_types.hpp has the protocol).
    connector({"source", "csv", "CSV files of the source's upload folder", {}},
              [](std::string_view op, std::string_view input) {
                return read_operation(op, input, read_csv_source);
              });
    connector({"source", "json", "JSON arrays and NDJSON files of the source's upload folder", {}},
              [](std::string_view op, std::string_view input) {
                return read_operation(op, input, read_json_source);
              });
    task("sync_source", "Sync one Dango source into the warehouse",
         [this](sdk::TaskContext& t) { engine_->run_task(t); });
    for (const char* outcome : {"task.failed", "task.cancelled", "task.timed_out"}) {
      subscribe(outcome, [this](std::string_view, std::string_view task_json) {
        engine_->task_ended(task_json);
      });
    }
    for (const auto& s : settings_->sources) {
      if (s.enabled && !s.schedule.empty()) {
        schedule("dango-sources." + s.name, s.schedule, kSyncTask, {},
                 Json().begin().key("source").str(s.name).end().text());
      }
    }
    // Schedules of the schedules file: the plugin's own loop on delayed host tasks (schedules.hpp).
    task("schedule_tick", "Fire a due schedule of the schedules file and arm its next run",
         [this](sdk::TaskContext& t) { schedules_->run_tick(t); });
    if (serving) schedules_->start();
    // Webhook notifications of sync outcomes: queued from the bus, posted by a host task.
    task("deliver_notification", "Post one queued webhook notification, with retries",
         [this](sdk::TaskContext& t) { notifier_->run_delivery(t); });
    task("initial_sync", "Sync every source once after a deployment, one after another",
         [this](sdk::TaskContext& t) { initial_sync_->run_task(t); });
    for (const char* outcome : {"sync_completed", "sync_failed"}) {
      subscribe(outcome, [this](std::string_view type, std::string_view payload) {
        notifier_->on_sync_event(type, payload);
      });
    }
    error_formatter([](int status, std::string_view code, std::string_view, std::string_view detail,
                       std::string_view) { return dango_error_body(status, code, detail); });

    // Health & Status, Configuration
    add("GET", "/api/status", "Service health status", kPublic, service_status);
    add("GET", "/api/config", "Project config, secrets masked", kPublic, project_config);
    // Sources
    add("GET", "/api/sources", "Sources with sync status, row counts and freshness", kSignedIn,
        list_sources);
    add("GET", "/api/sources/:name/details", "Source details, masked config, sync history",
        kSignedIn, source_details);
    // Sync
    add("POST", "/api/sources/:name/sync", "Sync one source (409 while it syncs)", "source.sync",
        sync_source);
    add("POST", "/api/sync/trigger", "Sync several sources as one job", "source.sync",
        trigger_sync);
    add("GET", "/api/sync/status/:record_id", "Status of a sync job", "source.sync",
        sync_job_status);
    // Files
    add("GET", "/api/sources/:name/csv-files", "Files on disk and loaded", kSignedIn,
        list_source_files);
    add("DELETE", "/api/sources/:name/csv-files", "Delete a file of the source's folder",
        "csv.delete", delete_source_file);
    // Logs
    add("GET", "/api/sources/:name/logs", "A source's activity log", kSignedIn, source_logs);
    add("GET", "/api/logs", "All activity", kSignedIn, all_logs);
    // Schedules
    add_ops("GET", "/api/schedules", "Schedules with next run, last run, active jobs",
            "scheduler.view", list_schedules);
    add_ops("GET", "/api/schedules/history/recent", "Recent executions of every schedule",
            "scheduler.view", recent_schedule_history);
    add_ops("GET", "/api/schedules/:name", "Schedule details", "scheduler.view", schedule_details);
    add_ops("GET", "/api/schedules/:name/history", "A schedule's executions, paginated",
            "scheduler.view", schedule_history);
    add_ops("POST", "/api/schedules/:name/trigger", "Run a schedule now", "source.sync",
            trigger_schedule);
    add_ops("POST", "/api/schedules/reload", "Reload the schedules file", "scheduler.manage",
            reload_schedules);
    add_ops("POST", "/api/schedules/jobs/:job_id/cancel", "Stop a running sync job",
            "scheduler.manage", cancel_schedule_job);
    add_ops("GET", "/api/sources/unscheduled", "Sources no schedule syncs", "scheduler.view",
            unscheduled_sources);
    add_ops("GET", "/api/notifications/config", "Notification webhooks (URLs masked)",
            "scheduler.view", notification_config);
    add_ops("POST", "/api/notifications/test", "Send a test notification to every webhook",
            "scheduler.manage", test_notification);
    add_ops("GET", "/api/notifications/deliveries", "The notification delivery log",
            "scheduler.view", notification_deliveries);
    // Notebooks
    add_ops("GET", "/api/notebooks", "Notebooks with lock status", "notebooks.view",
            list_notebooks);
    add_ops("POST", "/api/notebooks", "Create a notebook from a template", "notebooks.execute",
            create_notebook);
    add_ops("DELETE", "/api/notebooks/:name", "Delete a notebook", "notebooks.execute",
            delete_notebook);
    add_ops("POST", "/api/notebooks/:name/lock", "Take the editing lock; where to edit",
            "notebooks.execute", lock_notebook);
    add_ops("POST", "/api/notebooks/:name/heartbeat", "Extend the editing lock",
            "notebooks.execute", heartbeat_notebook);
    add_ops("POST", "/api/notebooks/:name/release", "Release the editing lock", "notebooks.execute",
            release_notebook);
    add_ops("DELETE", "/api/notebooks/:name/lock", "Force-release another user's lock",
            "notebooks.manage", force_release_notebook);
    add_ops("POST", "/api/notebooks/:name/copy", "Copy a notebook", "notebooks.execute",
            copy_notebook);
    // Initial sync (deploy token or admin; the handlers check)
    add_ops("POST", "/api/initial-sync/start", "Start the initial sync (deploy token or admin)",
            kPublic, start_initial_sync);
    add_ops("GET", "/api/initial-sync/status", "Initial sync progress per source", kPublic,
            initial_sync_status);
    add_ops("POST", "/api/initial-sync/skip-source", "Skip the source syncing now",
            "initial_sync.manage", skip_initial_sync_source);
    add_ops("POST", "/api/initial-sync/cancel", "Cancel the initial sync", "initial_sync.manage",
            cancel_initial_sync);
    // Deployments, Metabase, proxies: 502 when the upstream is not configured or not answering
    add_ops("GET", "/api/deployments/history", "Deployments from the deploy journal",
            "platform.manage", deployment_history);
    add_ops("GET", "/api/metabase-config", "Metabase's database id", kPublic, metabase_config);
    for (const char* method : {"GET", "POST", "PUT", "DELETE"}) {
      add_ops(method, "/metabase/*", "Proxy to Metabase", kPublic, proxy_metabase,
              PH_ROUTE_CSRF_EXEMPT);
    }
    for (const char* path : {"/app/*", "/public/*", "/styles.css"}) {
      add_ops("GET", path, "Proxy to Metabase's assets", kPublic, proxy_metabase);
    }
    for (const char* path : {"/dbt-docs/*", "/manifest.json", "/catalog.json"}) {
      add_ops("GET", path, "Proxy to dbt docs", kPublic, proxy_dbt_docs);
    }
  }

  static std::string read_operation(std::string_view op, std::string_view input,
                                    SourceBatch (*read)(const ReadRequest&)) {
    if (op != "read") throw sdk::Error(PH_ERR_UNSUPPORTED, "unknown operation");
    try {
      return batch_json(read(parse_read_request(input)));
    } catch (const std::invalid_argument& e) {
      throw sdk::Error(PH_ERR_INVALID_ARGUMENT, e.what());
    }
  }

  // Registers a route whose Reply exceptions become their status and body; anything else reaches
  // the host as a 500 (DANGO-G001 through the error formatter).
  void add(const char* method, const char* path, const char* summary, const char* permission,
           Handler handler) {
    route({method, path, summary, permission, {}, {}, {}},
          [this, handler](const sdk::Request& rq, sdk::Response& rs) {
            try {
              handler(*context_, rq, rs);
            } catch (const Reply& r) {
              rs.json_text(r.body(), r.status());
            }
          });
  }

  // The same for the operations routes (ops.hpp).
  void add_ops(const char* method, const char* path, const char* summary, const char* permission,
               OpsHandler handler, uint32_t flags = 0) {
    route({method, path, summary, permission, {}, {}, {}, flags},
          [this, handler](const sdk::Request& rq, sdk::Response& rs) {
            try {
              handler(*ops_, rq, rs);
            } catch (const Reply& r) {
              rs.json_text(r.body(), r.status());
            }
          });
  }

  std::unique_ptr<Settings> settings_;
  std::unique_ptr<Warehouse> warehouse_;
  std::unique_ptr<SyncEngine> engine_;
  std::unique_ptr<Context> context_;
  std::unique_ptr<OpsSettings> ops_settings_;
  std::unique_ptr<ScheduleEngine> schedules_;
  std::unique_ptr<Notifier> notifier_;
  std::unique_ptr<NotebookStore> notebooks_;
  std::unique_ptr<InitialSync> initial_sync_;
  std::unique_ptr<Ops> ops_;
};

}  // namespace dango

PLUGHOST_PLUGIN(dango::DangoSources, "dango-sources", "0.1.0",
                "Dango's data sources: CSV/JSON and connector source types, syncs into a SOCI "
                "warehouse, activity logs",
                "experimental")
