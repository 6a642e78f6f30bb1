// loader.hpp — finds plugin libraries, checks their ABI, inits them in config order, shuts them
// down in reverse and unloads them last. A plugin that fails is reported and disabled; the host
// keeps the others.
#pragma once

#include <plughost/abi.h>

#include <atomic>
#include <boost/dll/shared_library.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "log/log.hpp"
#include "metrics/plugin_metrics.hpp"
#include "plugin/registry.hpp"
#include "plugin/services.hpp"

struct ph_host;

namespace plughost {

enum class PluginStatus {
  kFound,     // in plugins_dir, not enabled in config
  kDisabled,  // `enabled: false`
  kLoaded,    // library loaded, ABI accepted, not yet initialised
  kFailed,    // load, ABI, config or init failed (see error)
  kRunning,   // init succeeded
  kStopped,   // shut down
};
const char* plugin_status_name(PluginStatus s);

struct PluginRecord {
  std::string name;
  std::string file;  // absolute path of the library; empty when not found
  bool required = false;
  PluginStatus status = PluginStatus::kFound;
  std::string error;

  // From the descriptor (copied, so they outlive the library).
  uint32_t abi_major = 0;
  uint32_t abi_minor = 0;
  std::string version;
  std::string description;
  std::string stability;
  std::string config_schema;

  boost::dll::shared_library library;
  const ph_plugin_descriptor* descriptor = nullptr;
  void* state = nullptr;
  std::unique_ptr<ph_host> host;
};

// Result of checking one library on disk, without initialising it.
struct OpenResult {
  bool ok = false;
  std::string error;
};

// Loads `record.file`, resolves the entry symbol and validates the descriptor against this
// host's ABI. Never throws.
OpenResult open_plugin_library(PluginRecord& record);

// Maps plugin name -> library path for every `plughost_<name>.so` in `dir`.
std::map<std::string, std::string> discover_plugins(const std::string& dir);

// The default plugins_dir: `<exe dir>/../plugins` when it exists (the build tree), else
// `<exe dir>/../lib/plughost/plugins` (the install tree).
std::string default_plugins_dir();

class PluginSet {
 public:
  PluginSet(Logger& log, const Config& config, Services* services = nullptr);
  ~PluginSet();  // shuts down and unloads whatever is still loaded
  PluginSet(const PluginSet&) = delete;
  PluginSet& operator=(const PluginSet&) = delete;

  // Discovers, loads, validates config and inits every enabled plugin in config order, then
  // builds the route table. Problems go to `diagnostics` (and the log). Returns false when a
  // `required: true` plugin failed.
  bool start(std::vector<Diagnostic>& diagnostics);
  // Loads every library found in plugins_dir that is not enabled, to read its descriptor
  // (for `plughost plugins`); never initialises it.
  void inspect_disabled();
  // Shuts running plugins down in reverse init order, then unloads every library.
  void stop();

  const Registry& registry() const { return registry_; }
  const std::vector<std::unique_ptr<PluginRecord>>& plugins() const { return plugins_; }
  const PluginRecord& plugin(size_t index) const { return *plugins_[index]; }
  bool all_running() const;
  Logger& log() const { return log_; }
  const Config& config() const { return config_; }
  const std::string& started_at() const { return started_at_; }
  Services* services() const { return services_; }
  // Metrics plugins registered (ABI 1.3); rendered by /metrics.
  PluginMetrics& metrics() { return metrics_; }
  const PluginMetrics& metrics() const { return metrics_; }

 private:
  bool init_plugin(size_t index, const PluginConfig& pc, std::vector<Diagnostic>& diagnostics);
  void fail(PluginRecord& record, const std::string& message, const Mark& mark,
            std::vector<Diagnostic>& diagnostics);

  Logger& log_;
  const Config& config_;
  Services* services_;
  Registry registry_;
  std::vector<std::unique_ptr<PluginRecord>> plugins_;  // config order, then found-only ones
  std::vector<size_t> init_order_;
  std::string started_at_;  // ISO-8601 UTC
  PluginMetrics metrics_;
};

}  // namespace plughost

// A host-owned byte buffer (connector output, task JSON).
struct ph_buffer {
  std::string data;
};

// The opaque handle a plugin receives; one per plugin.
struct ph_host {
  plughost::PluginSet* set = nullptr;
  plughost::Registry* registry = nullptr;
  plughost::Services* services = nullptr;
  plughost::PluginRecord* record = nullptr;
  size_t plugin_index = 0;
  bool registering = false;
  std::string config_json;
  plughost::PendingRegistrations pending;
  std::vector<uint64_t> subscriptions;  // event bus ids, dropped before shutdown
  std::string auth_settings_json;
  ph_error_formatter error_formatter = nullptr;  // formats host-made errors on its routes
  void* error_formatter_data = nullptr;
  ph_reconfigure_handler reconfigure = nullptr;  // since 1.4: takes a new config block live
  void* reconfigure_data = nullptr;
  // The plugin's log threshold (a LogLevel), or -1 for the host's; swapped on SIGHUP reload.
  std::atomic<int> log_level{-1};
};
