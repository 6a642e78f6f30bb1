// The dango-sources plugin: Dango's data sources, their syncs into the warehouse, the activity
// log and the upload folders' files. This file is the table of contents: every route, the sync
// task, the built-in `source` connectors, the schedules and the error formatter.
#include <filesystem>
#include <functional>
#include <memory>
#include <plughost/plugin.hpp>

#include "catalog_routes.hpp"
#include "http_json_source.hpp"
#include "ops.hpp"
#include "query.hpp"
#include "replies.hpp"
#include "routes.hpp"
#include "settings.hpp"
#include "source_types.hpp"
#include "sql_source.hpp"
#include "sync.hpp"
#include "upload.hpp"
#include "warehouse.hpp"
// Live: file watcher, freshness events, platform health, WS /ws
#include "freshness.hpp"
#include "live_events.hpp"
#include "platform_health.hpp"
#include "watcher.hpp"
#include "websocket.hpp"

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
    catalog_ = std::make_unique<CatalogContext>(
        CatalogContext{*context_, parse_governance_settings(config())});
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
    connector(
        {"source", "sql", "Tables and queries of a SOCI database (sqlite://, postgresql://)", {}},
        [](std::string_view op, std::string_view input) {
          return read_operation(op, input, read_sql_source);
        });
    connector({"source", "http_json", "A paginated JSON REST endpoint", {}},
              [](std::string_view op, std::string_view input) {
                return read_operation(op, input, read_http_json_source);
              });
    task("sync_source", "Sync one Dango source into the warehouse",
         [this](sdk::TaskContext& t) { engine_->run_task(t); });
    for (const char* outcome : {"task.failed", "task.cancelled", "task.timed_out"}) {
      subscribe(outcome, [this](std::string_view, std::string_view task_json) {
        engine_->task_ended(task_json);
      });
    }
    for (const auto& s : source_schedules(*settings_)) {
      schedule(s.name, s.cron, s.task_kind, s.timezone, s.payload_json);
    }
    // Schedules of the schedules file, on the host scheduler (ABI 1.6, schedules.hpp).
    task("schedule_tick", "Start the syncs of a schedule of the schedules file that came due",
         [this](sdk::TaskContext& t) { schedules_->run_tick(t); });
    task("schedule_models", "Build a schedule execution's models once its syncs succeeded",
         [this](sdk::TaskContext& t) { schedules_->run_models_task(t); });
    schedules_->set_model_runner(
        [this](const std::vector<std::string>& models, sdk::TaskContext& t) {
          return run_model_selection(*catalog_, models, t);
        });
    for (const char* outcome : {"sync_completed", "sync_failed"}) {
      subscribe(outcome, [this](std::string_view, std::string_view payload) {
        schedules_->on_sync_event(payload);
      });
    }
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
    // Upload and query
    // PH_ROUTE_LARGE_BODY: the host checks the caller and the size from the headers, then
    // streams the body to a spool file that upload_file reads memory-mapped.
    add("POST", "/api/sources/:name/upload-csv", "Upload a CSV/JSON file (multipart/form-data)",
        "csv.upload", upload_file, PH_ROUTE_LARGE_BODY);
    add("POST", "/api/query", "Run one read-only SELECT against the warehouse", "query.execute",
        run_query);

    // Governance (catalog_routes.hpp)
    add("GET", "/api/governance/schema-drift", "Schema drift events (?source=&table=)",
        "governance.view", schema_drift);
    add("GET", "/api/governance/pii", "PII findings with overrides applied (?source=&table=)",
        "governance.view", pii_report);
    add("GET", "/api/governance/pii/overrides", "PII column overrides from the config",
        "governance.view", pii_overrides);
    add("POST", "/api/governance/drift/:source/accept",
        "Accept a source's schema drift and clear its flag", "governance.manage", accept_drift);
    add("GET", "/api/governance/attention", "Sources with drift, PII or a failed sync",
        "governance.view", attention);
    // dbt Operations: the project in `dbt.project_dir`, built by task run_models
    add("GET", "/api/dbt/models", "Models with materialisation, last run, status, row count",
        kSignedIn, list_models);
    add("POST", "/api/dbt/models/:name/run",
        "Build a model (and downstream unless ?cascade=false) and run its tests", "dbt.run",
        run_model);
    task("run_models", "Build dbt-style models in the warehouse and run their tests",
         [this](sdk::TaskContext& t) { run_models_task(*catalog_, t); });
    // Data Catalog ({source} is a source, or the model layer staging / marts)
    add("GET", "/api/catalog/:source/:table/columns", "Column schema and cached profile",
        "governance.view", table_columns_route);
    add("POST", "/api/catalog/:source/:table/profile", "Profile a table afresh (task)",
        "governance.view", profile_table);
    task("profile_table", "Profile one warehouse table",
         [this](sdk::TaskContext& t) { profile_table_task(*catalog_, t); });
    add("GET", "/api/catalog/models", "Models and sources with an overview", "governance.view",
        catalog_models);
    add("GET", "/api/catalog/models/:model_name", "Model or source details and lineage",
        "governance.view", catalog_model);
    add("GET", "/api/catalog/search", "Search models and sources by name, description, column",
        "governance.view", catalog_search);
    add("GET", "/api/catalog/lineage", "The lineage DAG: sources through models", "governance.view",
        catalog_lineage);
    add("GET", "/api/catalog/impact/:model_name", "Downstream impact tree of a model or source",
        "governance.view", catalog_impact);
    // Monitoring
    add("GET", "/api/monitoring", "Cached metric check results", "governance.view",
        monitoring_results);
    add("POST", "/api/monitoring/run", "Run the metric checks afresh (task; ?source=)",
        "governance.view", monitoring_run);
    task("monitoring_run", "Row count, NULL share and freshness checks",
         [this](sdk::TaskContext& t) { monitoring_task(*catalog_, t); });
    add("GET", "/api/monitoring/history", "Metric values recorded at each sync (?days=&source=)",
        "governance.view", monitoring_history);
    // AI / Agent
    add("GET", "/api/catalog/summary",
        "Machine-readable catalog: tables, schemas, freshness (+ quality with governance.view)",
        "source.view", catalog_summary);
    add("GET", "/api/tools", "The API as agent tools, from the host's route table", "source.view",
        agent_tools);

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

    // Live: the file watcher, freshness_update events, platform health and WS /ws
    init_live(serving);
  }

  void init_live(bool serving) {
    LiveSettings live = parse_live_settings(config(), *settings_);
    health_ = live.health;
    watcher_ = std::make_unique<FolderWatcher>(live.watcher, *settings_, *engine_);
    freshness_ = std::make_unique<FreshnessNotifier>(services(), *settings_, *engine_,
                                                     live.freshness_check_seconds);
    if (serving && live.websocket.enabled) {
      socket_ = std::make_unique<EventSocket>(
          live.websocket, read_socket_access(services(), "dango-sources"), services());
    }
    subscribe("sync_*", [this](std::string_view type, std::string_view payload) {
      if (type == "sync_completed" || type == "sync_failed") {
        freshness_->sync_ended(event_source(payload));
      }
    });
    for (const char* pattern : kLiveEventPatterns) {
      subscribe(pattern, [this](std::string_view type, std::string_view payload) {
        if (socket_) socket_->broadcast(live_frame(type, payload));  // no-op until started
      });
    }
    add_live("/api/watcher/status", "File watcher status",
             [this] { return watcher_->status_json(); });
    add_live("/api/health/platform", "Platform health: warehouse, disk, sync failures",
             [this] { return platform_health_json(*settings_, health_, *warehouse_, *engine_); });
    if (!serving) return;
    watcher_->start();
    freshness_->start();
    if (socket_) {
      // A taken port costs the live events, not the plugin: its HTTP API keeps serving.
      try {
        socket_->start();
        info("dango-sources: WS /ws listening on ws://" + live.websocket.host + ":" +
             std::to_string(socket_->port()) + "/ws");
      } catch (const std::exception& e) {
        error(std::string("dango-sources: WS /ws disabled: ") + e.what());
      }
    }
  }

  // A public GET route answering the JSON `body` returns.
  void add_live(const char* path, const char* summary, std::function<std::string()> body) {
    route({"GET", path, summary, kPublic, {}, {}, {}, 0},
          [body](const sdk::Request&, sdk::Response& rs) { rs.json_text(body()); });
  }

  void shutdown() override {
    if (socket_) socket_->stop();
    if (freshness_) freshness_->stop();
    if (watcher_) watcher_->stop();
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

  // A route body calling `handler` with `*context`: a Reply it throws becomes its status and
  // body; anything else reaches the host as a 500 (DANGO-G001 through the error formatter).
  template <typename Context, typename Fn>
  static auto replying(const std::unique_ptr<Context>& context, Fn handler) {
    return [&context, handler](const sdk::Request& rq, sdk::Response& rs) {
      try {
        handler(*context, rq, rs);
      } catch (const Reply& r) {
        rs.json_text(r.body(), r.status());
      }
    };
  }

  // Registers a route of part 1's handlers (replying() maps their Reply exceptions).
  void add(const char* method, const char* path, const char* summary, const char* permission,
           Handler handler, uint32_t flags = 0) {
    route({method, path, summary, permission, {}, {}, {}, flags}, replying(context_, handler));
  }

  // The same for part 2's handlers, which also see the governance settings.
  void add(const char* method, const char* path, const char* summary, const char* permission,
           CatalogHandler handler) {
    route({method, path, summary, permission, {}, {}, {}}, replying(catalog_, handler));
  }

  // The same for the operations routes (ops.hpp).
  void add_ops(const char* method, const char* path, const char* summary, const char* permission,
               OpsHandler handler, uint32_t flags = 0) {
    route({method, path, summary, permission, {}, {}, {}, flags}, replying(ops_, handler));
  }

  std::unique_ptr<Settings> settings_;
  std::unique_ptr<Warehouse> warehouse_;
  std::unique_ptr<SyncEngine> engine_;
  std::unique_ptr<Context> context_;
  std::unique_ptr<CatalogContext> catalog_;
  std::unique_ptr<OpsSettings> ops_settings_;
  std::unique_ptr<ScheduleEngine> schedules_;
  std::unique_ptr<Notifier> notifier_;
  std::unique_ptr<NotebookStore> notebooks_;
  std::unique_ptr<InitialSync> initial_sync_;
  std::unique_ptr<Ops> ops_;
  // Live parts, declared last so they stop before what they use is destroyed.
  HealthSettings health_;
  std::unique_ptr<FolderWatcher> watcher_;
  std::unique_ptr<FreshnessNotifier> freshness_;
  std::unique_ptr<EventSocket> socket_;
};

}  // namespace dango

PLUGHOST_PLUGIN(dango::DangoSources, "dango-sources", "0.1.0",
                "Dango's data sources: CSV/JSON and connector source types, syncs into a SOCI "
                "warehouse, activity logs",
                "experimental")
