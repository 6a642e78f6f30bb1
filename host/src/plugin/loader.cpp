#include "plugin/loader.hpp"

#include <boost/dll/runtime_symbol_info.hpp>
#include <chrono>
#include <cstddef>
#include <filesystem>

#include "common/time_format.hpp"
#include "events/event_bus.hpp"
#include "identity/identity.hpp"
#include "plugin/host_api.hpp"
#include "scheduler/scheduler.hpp"

namespace plughost {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "plughost_";
constexpr std::string_view kSuffix = ".so";

// The descriptor must at least hold every 1.0 member; `shutdown` is the last of them.
constexpr size_t kMinDescriptorSize =
    offsetof(ph_plugin_descriptor, shutdown) + sizeof(ph_shutdown_fn);

std::string abi_string(uint32_t major, uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

std::string checked_string(const char* s) {
  return s ? s : "";
}

}  // namespace

const char* plugin_status_name(PluginStatus s) {
  switch (s) {
    case PluginStatus::kFound: return "found";
    case PluginStatus::kDisabled: return "disabled";
    case PluginStatus::kLoaded: return "loaded";
    case PluginStatus::kFailed: return "failed";
    case PluginStatus::kRunning: return "running";
    case PluginStatus::kStopped: return "stopped";
  }
  return "unknown";
}

std::map<std::string, std::string> discover_plugins(const std::string& dir) {
  std::map<std::string, std::string> found;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string file = it->path().filename().string();
    if (file.size() <= kPrefix.size() + kSuffix.size()) continue;
    if (file.compare(0, kPrefix.size(), kPrefix) != 0) continue;
    if (file.compare(file.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) continue;
    std::string name = file.substr(kPrefix.size(), file.size() - kPrefix.size() - kSuffix.size());
    found.emplace(name, fs::absolute(it->path()).string());
  }
  return found;
}

std::string default_plugins_dir() {
  fs::path exe_dir = boost::dll::program_location().parent_path();
  fs::path build_tree = exe_dir.parent_path() / "plugins";
  if (fs::is_directory(build_tree)) return build_tree.string();
  return (exe_dir.parent_path() / "lib" / "plughost" / "plugins").string();
}

OpenResult open_plugin_library(PluginRecord& record) {
  namespace dll = boost::dll;
  try {
    // rtld_now: an unresolved symbol fails here, not at first call in the middle of a request.
    record.library.load(record.file, dll::load_mode::rtld_now | dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    return {false, record.file + ": cannot load library: " + e.what()};
  }
  if (!record.library.has(PH_ENTRY_SYMBOL)) {
    return {false, record.file + ": not a plughost plugin (no '" PH_ENTRY_SYMBOL "' symbol)"};
  }
  auto entry = record.library.get<const ph_plugin_descriptor*()>(PH_ENTRY_SYMBOL);
  const ph_plugin_descriptor* d = entry();
  if (!d || d->struct_size < sizeof(size_t) + 2 * sizeof(uint32_t)) {
    return {false, record.file + ": entry symbol returned no descriptor"};
  }
  record.abi_major = d->abi_major;
  record.abi_minor = d->abi_minor;
  std::string plugin_abi = abi_string(d->abi_major, d->abi_minor);
  std::string host_abi = abi_string(PH_ABI_MAJOR, PH_ABI_MINOR);
  if (d->abi_major != PH_ABI_MAJOR) {
    return {false, record.file + ": plugin ABI " + plugin_abi + " is incompatible with host ABI " +
                       host_abi + " (major versions differ)"};
  }
  if (d->abi_minor > PH_ABI_MINOR) {
    return {false, record.file + ": plugin ABI " + plugin_abi + " is newer than host ABI " +
                       host_abi + "; upgrade the host"};
  }
  if (d->struct_size < kMinDescriptorSize || !d->name || !d->init || !d->shutdown) {
    return {false, record.file + ": descriptor is truncated or lacks name/init/shutdown"};
  }
  if (record.name != d->name) {
    return {false, record.file + ": file is named for plugin '" + record.name +
                       "' but the descriptor says '" + d->name + "'"};
  }
  record.descriptor = d;
  record.version = checked_string(d->version);
  record.description = checked_string(d->description);
  record.stability = checked_string(d->status);
  record.config_schema = checked_string(d->config_schema);
  record.status = PluginStatus::kLoaded;
  return {true, {}};
}

PluginSet::PluginSet(Logger& log, const Config& config, Services* services)
    : log_(log),
      config_(config),
      services_(services),
      started_at_(iso8601_utc(
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count())) {}

PluginSet::~PluginSet() {
  stop();
}

void PluginSet::fail(PluginRecord& record, const std::string& message, const Mark& mark,
                     std::vector<Diagnostic>& diagnostics) {
  record.status = PluginStatus::kFailed;
  record.error = message;
  diagnostics.push_back({config_.file, mark.line, mark.column, "plugins." + record.name, message});
  log_.write(record.required ? LogLevel::kError : LogLevel::kWarn, "loader",
             record.required ? "required plugin failed" : "plugin disabled after failure",
             {{"plugin", record.name}, {"error", message}});
}

bool PluginSet::start(std::vector<Diagnostic>& diagnostics) {
  std::string dir = config_.plugins_dir.empty() ? default_plugins_dir() : config_.plugins_dir;
  auto found = discover_plugins(dir);
  bool required_ok = true;
  for (const PluginConfig& pc : config_.plugins) {
    auto record = std::make_unique<PluginRecord>();
    record->name = pc.name;
    record->required = pc.required;
    auto it = found.find(pc.name);
    if (it != found.end()) {
      record->file = it->second;
      found.erase(it);
    }
    plugins_.push_back(std::move(record));
    size_t index = plugins_.size() - 1;
    if (!pc.enabled) {
      plugins_[index]->status = PluginStatus::kDisabled;
      continue;
    }
    if (!init_plugin(index, pc, diagnostics) && pc.required) required_ok = false;
  }
  for (const auto& [name, file] : found) {
    auto record = std::make_unique<PluginRecord>();
    record->name = name;
    record->file = file;
    plugins_.push_back(std::move(record));
  }
  registry_.build_router();
  if (services_ && !services_->fatal.empty()) return false;
  return required_ok;
}

bool PluginSet::init_plugin(size_t index, const PluginConfig& pc,
                            std::vector<Diagnostic>& diagnostics) {
  PluginRecord& record = *plugins_[index];
  if (record.file.empty()) {
    std::string dir = config_.plugins_dir.empty() ? default_plugins_dir() : config_.plugins_dir;
    fail(record, "plugin library plughost_" + pc.name + ".so not found in " + dir, pc.mark,
         diagnostics);
    return false;
  }
  OpenResult opened = open_plugin_library(record);
  if (!opened.ok) {
    fail(record, opened.error, pc.mark, diagnostics);
    return false;
  }
  PluginConfigCheck checked = check_plugin_config(config_, pc, record.config_schema);
  if (!checked.diagnostics.empty()) {
    std::string first = checked.diagnostics.front().message;
    for (auto& d : checked.diagnostics) diagnostics.push_back(std::move(d));
    record.status = PluginStatus::kFailed;
    record.error = "invalid config: " + first;
    log_.write(record.required ? LogLevel::kError : LogLevel::kWarn, "loader",
               "plugin config is invalid", {{"plugin", record.name}, {"error", first}});
    return false;
  }
  record.host = std::make_unique<ph_host>();
  ph_host& host = *record.host;
  host.set = this;
  host.registry = &registry_;
  host.services = services_;
  host.record = &record;
  host.plugin_index = index;
  host.config_json = std::move(checked.config_json);
  host.auth_settings_json = Identity::settings_json(config_.auth);
  if (auto level = parse_log_level(pc.log_level)) host.log_level = static_cast<int>(*level);
  host.registering = true;

  char message[1024] = {0};
  ph_error err{sizeof(ph_error), message, sizeof(message)};
  void* state = nullptr;
  int rc = record.descriptor->init(host_api_table(), &host, &state, &err);
  host.registering = false;
  if (rc != PH_OK) {
    // A failed init may have allocated state; the contract says shutdown runs only after a
    // successful init, so nothing is called here and the library stays loaded until stop().
    fail(record,
         "init failed (code " + std::to_string(rc) + "): " + (message[0] ? message : "no message"),
         pc.mark, diagnostics);
    host.pending = PendingRegistrations();
    metrics_.drop_plugin(record.name);
    if (services_ && services_->events) {
      for (uint64_t id : host.subscriptions) services_->events->unsubscribe(id);
    }
    if (services_ && services_->scheduler) services_->scheduler->remove_owned_by(record.name);
    host.subscriptions.clear();
    return false;
  }
  record.state = state;
  record.status = PluginStatus::kRunning;
  size_t routes = host.pending.routes.size();
  registry_.commit(std::move(host.pending));
  host.pending = PendingRegistrations();
  init_order_.push_back(index);
  log_.info("loader", "plugin started",
            {{"plugin", record.name},
             {"version", record.version},
             {"abi", abi_string(record.abi_major, record.abi_minor)},
             {"routes", static_cast<int64_t>(routes)}});
  return true;
}

void PluginSet::inspect_disabled() {
  for (auto& record : plugins_) {
    if (record->status != PluginStatus::kFound && record->status != PluginStatus::kDisabled) {
      continue;
    }
    if (record->file.empty()) continue;
    PluginStatus before = record->status;
    OpenResult opened = open_plugin_library(*record);
    if (opened.ok) {
      record->status = before;
    } else {
      record->status = PluginStatus::kFailed;
      record->error = opened.error;
    }
  }
}

bool PluginSet::all_running() const {
  for (const auto& record : plugins_) {
    if (record->status == PluginStatus::kFailed) return false;
  }
  return true;
}

void PluginSet::stop() {
  for (auto it = init_order_.rbegin(); it != init_order_.rend(); ++it) {
    PluginRecord& record = *plugins_[*it];
    if (record.status != PluginStatus::kRunning) continue;
    if (services_ && services_->events && record.host) {
      for (uint64_t id : record.host->subscriptions) services_->events->unsubscribe(id);
      record.host->subscriptions.clear();
    }
    record.descriptor->shutdown(record.state);
    record.state = nullptr;
    record.status = PluginStatus::kStopped;
    log_.info("loader", "plugin stopped", {{"plugin", record.name}});
  }
  init_order_.clear();
  // No function pointer into a plugin may outlive its library: drop the route table first.
  registry_ = Registry();
  for (auto& record : plugins_) {
    record->descriptor = nullptr;
    record->host.reset();
    if (record->library.is_loaded()) record->library.unload();
  }
}

}  // namespace plughost
