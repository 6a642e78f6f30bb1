// ops.hpp — the operations side of the plugin (issue 9): schedules, notifications, notebooks,
// initial sync and the deployment/Metabase answers. Ops holds those parts next to the core
// Context; each handler throws Reply for a documented error answer.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <plughost/plugin.hpp>
#include <string>

#include "initial_sync.hpp"
#include "notebooks.hpp"
#include "notifications.hpp"
#include "routes.hpp"
#include "schedules.hpp"

namespace dango {

// The operations keys of the plugin config (parsed apart from Settings to keep areas separate).
struct OpsSettings {
  std::string schedules_file;  // default <data_dir>/schedules.yml
  NotebookSettings notebooks;
  // Upstreams answered or proxied (seed: /api/deployments/history, /api/metabase-config, Proxy
  // Endpoints); empty: not configured → 502.
  std::string deploy_journal;  // JSON Lines, one deployment per line
  std::string metabase_url;    // e.g. http://localhost:3000
  std::optional<int64_t> metabase_database_id;
  std::string metabase_database_name = "dango";  // looked up when no id is configured
  std::string metabase_api_key;                  // X-API-Key for the lookup; never answered
  // Single sign-on (seed, Proxy Endpoints: "with SSO session bridging"): the Metabase account
  // signed-in Dango users are bridged into on /metabase/*; empty email: no bridging.
  std::string metabase_sso_email;
  std::string metabase_sso_password;  // never answered or logged
  struct SessionCache {
    std::mutex mu;
    std::string id;  // the Metabase session in use (under mu); "" until one is made
  };
  std::shared_ptr<SessionCache> metabase_session = std::make_shared<SessionCache>();
  std::string dbt_docs_url;                      // e.g. http://localhost:8081
  double upstream_timeout_seconds = 5;
};
// Throws std::invalid_argument naming the bad key.
OpsSettings parse_ops_settings(const rapidjson::Value& config, const Settings& settings);

struct Ops {
  Context& core;
  ScheduleEngine& schedules;
  Notifier& notifier;
  NotebookStore& notebooks;
  InitialSync& initial_sync;
  const OpsSettings& settings;
};

using OpsHandler = void (*)(Ops&, const sdk::Request&, sdk::Response&);

// The caller's display name ("name", else "id", else "anonymous").
std::string caller_name(const sdk::Request& rq);
// Whether the principal (rq.principal()) is the host's anonymous one.
bool is_anonymous(const rapidjson::Value& principal);

// Schedules
void list_schedules(Ops&, const sdk::Request&, sdk::Response&);
void schedule_details(Ops&, const sdk::Request&, sdk::Response&);
void schedule_history(Ops&, const sdk::Request&, sdk::Response&);
void recent_schedule_history(Ops&, const sdk::Request&, sdk::Response&);
void trigger_schedule(Ops&, const sdk::Request&, sdk::Response&);
void reload_schedules(Ops&, const sdk::Request&, sdk::Response&);
void cancel_schedule_job(Ops&, const sdk::Request&, sdk::Response&);
void unscheduled_sources(Ops&, const sdk::Request&, sdk::Response&);

// Notifications
void notification_config(Ops&, const sdk::Request&, sdk::Response&);
void test_notification(Ops&, const sdk::Request&, sdk::Response&);
void notification_deliveries(Ops&, const sdk::Request&, sdk::Response&);

// Notebooks
void list_notebooks(Ops&, const sdk::Request&, sdk::Response&);
void create_notebook(Ops&, const sdk::Request&, sdk::Response&);
void delete_notebook(Ops&, const sdk::Request&, sdk::Response&);
void lock_notebook(Ops&, const sdk::Request&, sdk::Response&);
void heartbeat_notebook(Ops&, const sdk::Request&, sdk::Response&);
void release_notebook(Ops&, const sdk::Request&, sdk::Response&);
void force_release_notebook(Ops&, const sdk::Request&, sdk::Response&);
void copy_notebook(Ops&, const sdk::Request&, sdk::Response&);

// Initial sync
void start_initial_sync(Ops&, const sdk::Request&, sdk::Response&);
void initial_sync_status(Ops&, const sdk::Request&, sdk::Response&);
void skip_initial_sync_source(Ops&, const sdk::Request&, sdk::Response&);
void cancel_initial_sync(Ops&, const sdk::Request&, sdk::Response&);

// Deployments, Metabase and the proxy paths
void deployment_history(Ops&, const sdk::Request&, sdk::Response&);
void metabase_config(Ops&, const sdk::Request&, sdk::Response&);
void proxy_metabase(Ops&, const sdk::Request&, sdk::Response&);
void proxy_dbt_docs(Ops&, const sdk::Request&, sdk::Response&);

}  // namespace dango
