// routes.hpp — the handlers of Dango's status, config, sources, sync, logs and file routes.
// Each takes the plugin's parts (Context) and throws Reply for a documented error answer.
#pragma once

#include <plughost/plugin.hpp>
#include <string>

#include "settings.hpp"
#include "sync.hpp"
#include "warehouse.hpp"

namespace dango {

struct Context {
  sdk::Services host;
  const Settings& settings;
  Warehouse& warehouse;
  SyncEngine& engine;
};

using Handler = void (*)(Context&, const sdk::Request&, sdk::Response&);

void service_status(Context&, const sdk::Request&, sdk::Response&);
void project_config(Context&, const sdk::Request&, sdk::Response&);
void list_sources(Context&, const sdk::Request&, sdk::Response&);
void source_details(Context&, const sdk::Request&, sdk::Response&);
void sync_source(Context&, const sdk::Request&, sdk::Response&);
void trigger_sync(Context&, const sdk::Request&, sdk::Response&);
void sync_job_status(Context&, const sdk::Request&, sdk::Response&);
void source_logs(Context&, const sdk::Request&, sdk::Response&);
void all_logs(Context&, const sdk::Request&, sdk::Response&);
void list_source_files(Context&, const sdk::Request&, sdk::Response&);
void delete_source_file(Context&, const sdk::Request&, sdk::Response&);

// A secret-looking config value masked as Dango does: first 2 + "*" + last 2, "****" if <= 4.
std::string mask_secret(const std::string& value);
// The options object with every secret-looking key's value masked (recursively).
std::string masked_options_json(const std::string& options_json);

}  // namespace dango
