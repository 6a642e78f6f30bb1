// ops.hpp — the operations side of the plugin (issue 9): schedules, notifications, notebooks,
// initial sync and the deployment/Metabase answers. Ops holds those parts next to the core
// Context; each handler throws Reply for a documented error answer.
#pragma once

#include <plughost/plugin.hpp>
#include <string>

#include "notebooks.hpp"
#include "notifications.hpp"
#include "routes.hpp"
#include "schedules.hpp"

namespace dango {

// The operations keys of the plugin config (parsed apart from Settings to keep areas separate).
struct OpsSettings {
  std::string schedules_file;  // default <data_dir>/schedules.yml
  NotebookSettings notebooks;
};
// Throws std::invalid_argument naming the bad key.
OpsSettings parse_ops_settings(const rapidjson::Value& config, const Settings& settings);

struct Ops {
  Context& core;
  ScheduleEngine& schedules;
  Notifier& notifier;
  NotebookStore& notebooks;
};

using OpsHandler = void (*)(Ops&, const sdk::Request&, sdk::Response&);

// The caller's display name ("name", else "id", else "anonymous").
std::string caller_name(const sdk::Request& rq);

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

}  // namespace dango
