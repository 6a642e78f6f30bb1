#include "cli/cli.hpp"

#include <plughost/abi.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "cli/new_plugin.hpp"
#include "config/config.hpp"
#include "config/reload.hpp"
#include "events/event_bus.hpp"
#include "http/docs_ui.hpp"
#include "http/server.hpp"
#include "log/log.hpp"
#include "openapi/openapi.hpp"
#include "plugin/loader.hpp"
#include "scheduler/scheduler.hpp"
#include "storage/database.hpp"
#include "storage/migrations.hpp"
#include "tasks/task_queue.hpp"

#ifndef PLUGHOST_VERSION
#define PLUGHOST_VERSION "0.0.0"
#endif

namespace plughost {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

struct Options {
  std::string verb;
  std::string config;
  std::vector<std::string> args;  // positional arguments after the verb
  bool json = false;
  bool help = false;
};

const std::map<std::string, std::string>& verb_help() {
  static const std::map<std::string, std::string> help = {
      {"run",
       "usage: plughost run [--config FILE]\n"
       "Loads the config and every enabled plugin, then serves HTTP until SIGTERM/SIGINT.\n"},
      {"check",
       "usage: plughost check [--config FILE]\n"
       "Validates the config and every enabled plugin (ABI, config schema, init, routes)\n"
       "without opening a port. Prints every problem as file:line:col: path: message.\n"},
      {"plugins",
       "usage: plughost plugins [--config FILE] [--json]\n"
       "Lists plugins: name, version, ABI, status, file.\n"},
      {"routes",
       "usage: plughost routes [--config FILE] [--json]\n"
       "Lists the route table: method, path, plugin, permission.\n"},
      {"version", "usage: plughost version [--json]\nPrints the host version and ABI.\n"},
      {"openapi",
       "usage: plughost openapi [--config FILE]\n"
       "Prints the OpenAPI 3.0 document of every route (the host's and each enabled plugin's),\n"
       "the same document GET /openapi.json serves.\n"},
      {"new-plugin",
       "usage: plughost new-plugin NAME DIR\n"
       "Writes a plugin project into DIR (new or empty): CMake against the installed SDK, a\n"
       "config schema, a route and a connector, a test that runs it in the real host, README.\n"},
  };
  return help;
}

const char* kUsage =
    "usage: plughost <command> [options]\n"
    "\n"
    "commands:\n"
    "  run       serve HTTP with the configured plugins\n"
    "  check     validate config and plugins; exit 1 on any problem\n"
    "  plugins   list plugins\n"
    "  routes    list routes\n"
    "  version   print version and ABI\n"
    "  openapi   print the OpenAPI 3.0 document of all routes\n"
    "  new-plugin NAME DIR   write a buildable plugin project\n"
    "\n"
    "options: --config FILE (default: $PLUGHOST_CONFIG or config/plughost.yaml), --json, --help\n"
    "exit codes: 0 ok, 1 invalid config or failed start, 2 usage error\n";

// Parses argv; returns an error message for usage errors.
std::string parse_args(int argc, char** argv, Options& opt) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      opt.help = true;
    } else if (a == "--json") {
      opt.json = true;
    } else if (a == "--config" || a == "-c") {
      if (i + 1 >= argc) return "--config needs a file";
      opt.config = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      opt.config = a.substr(9);
    } else if (!a.empty() && a[0] == '-') {
      return "unknown option " + a;
    } else if (opt.verb.empty()) {
      opt.verb = a;
    } else if (opt.verb == "new-plugin") {
      opt.args.push_back(a);
    } else {
      return "unexpected argument " + a;
    }
  }
  if (opt.config.empty()) {
    const char* env = std::getenv("PLUGHOST_CONFIG");
    opt.config = env ? env : "config/plughost.yaml";
  }
  return {};
}

LogFormat resolve_format(const std::string& format, std::FILE* out) {
  if (format == "json") return LogFormat::kJson;
  if (format == "text") return LogFormat::kText;
  return isatty(fileno(out)) ? LogFormat::kText : LogFormat::kJson;
}

std::unique_ptr<Logger> make_logger(const Config& config, std::FILE* out) {
  LogLevel level = parse_log_level(config.log.level).value_or(LogLevel::kInfo);
  return std::make_unique<Logger>(level, resolve_format(config.log.format, out), out);
}

void print_diagnostics(const std::vector<Diagnostic>& diagnostics) {
  for (const auto& d : diagnostics) std::cerr << d.to_string() << "\n";
}

std::string abi_of(const PluginRecord& r) {
  if (r.abi_major == 0 && r.abi_minor == 0) return "-";
  return std::to_string(r.abi_major) + "." + std::to_string(r.abi_minor);
}

// Loads config, then plugins. Returns the exit code to use when it is not kExitOk.
struct Loaded {
  ConfigResult config;
  std::unique_ptr<Logger> log;
  std::unique_ptr<Database> db;
  std::unique_ptr<EventBus> events;
  std::unique_ptr<TaskQueue> tasks;
  std::unique_ptr<Scheduler> scheduler;
  Services services;
  std::unique_ptr<PluginSet> plugins;
  std::vector<Diagnostic> diagnostics;
  bool required_ok = true;
};

std::string default_node_name() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

// Opens storage, brings the host's own tables up to date and, for `run`, creates the task queue.
// Returns false with a diagnostic when storage cannot be used.
bool open_services(Loaded& loaded, bool run_mode) {
  const Config& config = loaded.config.config;
  std::string error;
  auto url = parse_storage_url(config.storage_url, config.directory, error);
  loaded.services.dry_run = !run_mode;
  if (!run_mode) {
    for (const auto& sc : config.schedules) {
      std::string err;
      bool ok = CronExpression::parse(sc.cron, err).has_value() &&
                (sc.timezone.empty() || TimeZone::load(sc.timezone, err).has_value());
      if (!ok) {
        loaded.diagnostics.push_back(
            {config.file, sc.mark.line, sc.mark.column, "schedules." + sc.name, err});
      }
    }
  }
  if (!run_mode && url && url->dialect == Dialect::kSqlite &&
      !std::filesystem::exists(url->sqlite_path)) {
    return true;  // inspecting verbs never create the database; there is no ledger to check yet
  }
  try {
    if (!url) throw std::runtime_error(error);
    if (run_mode && url->dialect == Dialect::kSqlite && url->sqlite_path != ":memory:") {
      std::filesystem::create_directories(std::filesystem::path(url->sqlite_path).parent_path());
    }
    if (run_mode) check_sqlite_writable(*url);
    loaded.db = std::make_unique<Database>(*url, static_cast<size_t>(config.storage_pool_size));
    if (run_mode) {
      ensure_host_schema(*loaded.db);
      apply_migration(*loaded.db, "plughost", "0001_tasks", task_table_sql(loaded.db->dialect()));
      apply_migration(*loaded.db, "plughost", "0002_events",
                      events_table_sql(loaded.db->dialect()));
    }
  } catch (const std::exception& e) {
    loaded.diagnostics.push_back({config.file, 0, 0, "storage.url", e.what()});
    loaded.log->error("storage", "storage unavailable", {{"error", e.what()}});
    loaded.db.reset();
    return false;
  }
  loaded.services.db = loaded.db.get();
  if (run_mode) {
    const TasksConfig& tc = config.tasks;
    TaskSettings settings;
    settings.workers = tc.workers;
    settings.lease_seconds = tc.lease_seconds;
    settings.poll_interval_seconds = tc.poll_interval_seconds;
    settings.default_timeout_seconds = tc.default_timeout_seconds;
    settings.default_max_attempts = tc.max_attempts;
    settings.log_lines = static_cast<size_t>(tc.log_lines);
    Loaded* l = &loaded;
    auto lookup = [l](const std::string& kind) -> std::optional<TaskHandlerRef> {
      for (const auto& t : l->plugins->registry().tasks()) {
        if (t.plugin.size() + 1 + t.name.size() == kind.size() &&
            kind.compare(0, t.plugin.size(), t.plugin) == 0 && kind[t.plugin.size()] == '/' &&
            kind.compare(t.plugin.size() + 1, std::string::npos, t.name) == 0) {
          return TaskHandlerRef{t.handler, t.user_data};
        }
      }
      return std::nullopt;
    };
    std::string node = tc.node.empty() ? default_node_name() : tc.node;
    loaded.events = std::make_unique<EventBus>(loaded.db.get(), *loaded.log, node);
    loaded.events->start();
    loaded.services.events = loaded.events.get();
    loaded.tasks = std::make_unique<TaskQueue>(*loaded.db, *loaded.log, settings, node, lookup);
    EventBus* bus = loaded.events.get();
    loaded.tasks->set_event_sink([bus](const std::string& type, const std::string& json) {
      bus->publish(type, json, false);
    });
    loaded.services.tasks = loaded.tasks.get();
    loaded.scheduler = std::make_unique<Scheduler>(*loaded.tasks, *loaded.db, *loaded.log);
    loaded.services.scheduler = loaded.scheduler.get();
    for (const auto& sc : config.schedules) {
      std::string problem = loaded.scheduler->add(
          {sc.name, sc.cron, sc.timezone, sc.task, sc.payload_json, "config"});
      if (!problem.empty()) {
        loaded.services.fatal.push_back(
            Diagnostic{config.file, sc.mark.line, sc.mark.column, "schedules", problem}
                .to_string());
      }
    }
  }
  return true;
}

// With `keep_going`, plugins are still inspected when host-level keys have errors, so that
// `check` reports every problem in one run.
bool load_everything(const std::string& path, std::FILE* log_out, Loaded& loaded,
                     bool keep_going = false, bool run_mode = false) {
  loaded.config = load_config_file(path, process_env());
  if (!loaded.config.ok()) {
    loaded.diagnostics = loaded.config.diagnostics;
    if (!keep_going || loaded.config.config.plugins.empty()) return false;
  }
  loaded.log = make_logger(loaded.config.config, log_out);
  if (!open_services(loaded, run_mode) && !keep_going) return false;
  loaded.plugins = std::make_unique<PluginSet>(*loaded.log, loaded.config.config, &loaded.services);
  loaded.required_ok = loaded.plugins->start(loaded.diagnostics);
  for (const auto& fatal : loaded.services.fatal) {
    loaded.log->error("host", "start-up error", {{"error", fatal}});
  }
  return true;
}

int cmd_check(const Options& opt) {
  Loaded loaded;
  load_everything(opt.config, stderr, loaded, /*keep_going=*/true);
  size_t inspected = 0;
  if (loaded.plugins) {
    for (const auto& r : loaded.plugins->plugins()) {
      if (r->status != PluginStatus::kFound && r->status != PluginStatus::kDisabled) ++inspected;
    }
    loaded.plugins->stop();
  }
  for (const auto& d : loaded.diagnostics) std::cout << d.to_string() << "\n";
  std::cout << "check: " << loaded.diagnostics.size() << " error"
            << (loaded.diagnostics.size() == 1 ? "" : "s") << "; " << inspected << " plugin"
            << (inspected == 1 ? "" : "s") << " inspected\n";
  return loaded.diagnostics.empty() ? kExitOk : kExitFailed;
}

void json_string(rapidjson::Writer<rapidjson::StringBuffer>& w, const std::string& s) {
  w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
}

int cmd_plugins(const Options& opt) {
  Loaded loaded;
  if (!load_everything(opt.config, stderr, loaded)) {
    print_diagnostics(loaded.diagnostics);
    return kExitFailed;
  }
  loaded.plugins->inspect_disabled();
  const auto& plugins = loaded.plugins->plugins();
  if (opt.json) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartArray();
    for (const auto& r : plugins) {
      w.StartObject();
      w.Key("name");
      json_string(w, r->name);
      w.Key("version");
      json_string(w, r->version);
      w.Key("abi");
      json_string(w, abi_of(*r));
      w.Key("status");
      w.String(plugin_status_name(r->status));
      w.Key("stability");
      json_string(w, r->stability);
      w.Key("description");
      json_string(w, r->description);
      w.Key("file");
      json_string(w, r->file);
      w.Key("error");
      json_string(w, r->error);
      w.EndObject();
    }
    w.EndArray();
    std::cout << buf.GetString() << "\n";
  } else {
    std::printf("%-20s %-10s %-5s %-9s %s\n", "NAME", "VERSION", "ABI", "STATUS", "FILE");
    for (const auto& r : plugins) {
      std::printf("%-20s %-10s %-5s %-9s %s\n", r->name.c_str(),
                  r->version.empty() ? "-" : r->version.c_str(), abi_of(*r).c_str(),
                  plugin_status_name(r->status), r->file.empty() ? "-" : r->file.c_str());
      if (!r->error.empty()) std::printf("  error: %s\n", r->error.c_str());
    }
  }
  loaded.plugins->stop();
  return loaded.required_ok ? kExitOk : kExitFailed;
}

int cmd_routes(const Options& opt) {
  Loaded loaded;
  if (!load_everything(opt.config, stderr, loaded)) {
    print_diagnostics(loaded.diagnostics);
    return kExitFailed;
  }
  const auto& routes = loaded.plugins->registry().routes();
  if (opt.json) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartArray();
    for (const auto& r : routes) {
      w.StartObject();
      w.Key("method");
      json_string(w, r.method);
      w.Key("path");
      json_string(w, r.pattern);
      w.Key("plugin");
      json_string(w, r.plugin);
      w.Key("permission");
      json_string(w, r.permission);
      w.Key("summary");
      json_string(w, r.summary);
      w.EndObject();
    }
    w.EndArray();
    std::cout << buf.GetString() << "\n";
  } else {
    std::printf("%-7s %-40s %-20s %s\n", "METHOD", "PATH", "PLUGIN", "PERMISSION");
    for (const auto& r : routes) {
      std::printf("%-7s %-40s %-20s %s\n", r.method.c_str(), r.pattern.c_str(), r.plugin.c_str(),
                  r.permission.c_str());
    }
  }
  loaded.plugins->stop();
  return loaded.required_ok ? kExitOk : kExitFailed;
}

int cmd_openapi(const Options& opt) {
  Loaded loaded;
  if (!load_everything(opt.config, stderr, loaded)) {
    print_diagnostics(loaded.diagnostics);
    return kExitFailed;
  }
  std::cout << openapi_document(*loaded.plugins, loaded.config.config,
                                {DocsUi::available(DocsUi::default_dir())});
  loaded.plugins->stop();
  return loaded.required_ok ? kExitOk : kExitFailed;
}

int cmd_version(const Options& opt) {
  std::string abi = std::to_string(PH_ABI_MAJOR) + "." + std::to_string(PH_ABI_MINOR);
  if (opt.json) {
    std::cout << "{\"version\":\"" PLUGHOST_VERSION "\",\"abi\":\"" << abi << "\"}\n";
  } else {
    std::cout << "plughost " PLUGHOST_VERSION " (plugin ABI " << abi << ")\n";
  }
  return kExitOk;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// SIGHUP: re-reads the config file. A file with any problem (host keys, a running plugin's config
// block, a schedule) is rejected whole and the running config stays. Otherwise the live settings
// are applied (log levels, rate limits, schedules) and the rest is reported as waiting for a
// restart.
// `running`: what is in force (the startup config with plugin blocks applied live since);
// `applied`: the last file accepted.
void reload_config(Loaded& loaded, HttpServer& server, const std::string& path, Config& running,
                   Config& applied) {
  Logger& log = *loaded.log;
  ConfigResult next = load_config_file(path, process_env());
  std::vector<Diagnostic> problems = next.diagnostics;
  if (next.ok()) {
    for (const auto& record : loaded.plugins->plugins()) {
      if (record->status != PluginStatus::kRunning) continue;
      for (const auto& pc : next.config.plugins) {
        if (pc.name != record->name || !pc.enabled) continue;
        auto checked = check_plugin_config(next.config, pc, record->config_schema);
        problems.insert(problems.end(), checked.diagnostics.begin(), checked.diagnostics.end());
      }
    }
  }
  if (!problems.empty()) {
    for (const auto& d : problems) {
      log.error("config", "reload rejected; the running config stays", {{"error", d.to_string()}});
    }
    server.reject_reload(problems.front().to_string());
    return;
  }
  const Config& n = next.config;
  // Schedules first: the one live change that can still fail (a task kind no plugin runs).
  if (!same_schedules(applied.schedules, n.schedules) && loaded.scheduler) {
    std::string problem;
    std::vector<ScheduleSpec> specs;
    for (const auto& sc : n.schedules) {
      bool known = false;
      for (const auto& t : loaded.plugins->registry().tasks()) {
        known = known || sc.task == t.plugin + "/" + t.name;
      }
      if (!known && problem.empty()) {
        problem = Diagnostic{n.file, sc.mark.line, sc.mark.column, "schedules." + sc.name,
                             "no running plugin has task kind \"" + sc.task + "\""}
                      .to_string();
      }
      specs.push_back({sc.name, sc.cron, sc.timezone, sc.task, sc.payload_json, "config"});
    }
    if (problem.empty()) problem = loaded.scheduler->replace_owned_by("config", specs);
    if (!problem.empty()) {
      log.error("config", "reload rejected; the running config stays", {{"error", problem}});
      server.reject_reload(problem);
      return;
    }
  }
  std::vector<std::string> live = live_settings_changed(applied, n);
  // Plugins that take a new config block live (ABI 1.4) get it now; one that refuses keeps its
  // old block, and the rest of the reload still applies.
  Config accepted = n;
  std::string plugin_error;
  std::vector<std::pair<std::string, std::string>> refusals;  // plugin, why: logged below
  for (const auto& record : loaded.plugins->plugins()) {
    if (record->status != PluginStatus::kRunning || !record->host || !record->host->reconfigure) {
      continue;
    }
    auto find = [&](Config& c) -> PluginConfig* {
      for (auto& pc : c.plugins) {
        if (pc.name == record->name) return &pc;
      }
      return nullptr;
    };
    PluginConfig* now = find(running);
    PluginConfig* next_block = find(accepted);
    if (!now || !next_block || !next_block->enabled ||
        now->config_json == next_block->config_json) {
      continue;
    }
    auto checked = check_plugin_config(n, *next_block, record->config_schema);
    char message[1024] = {0};
    ph_error err{sizeof(ph_error), message, sizeof(message)};
    int rc = record->host->reconfigure(record->host->reconfigure_data, checked.config_json.c_str(),
                                       checked.config_json.size(), &err);
    const std::string at = "plugins." + record->name + ".config";
    if (rc == PH_OK) {
      now->config_json = next_block->config_json;
      live.push_back(at);
    } else {
      std::string why = message[0] ? message : "error code " + std::to_string(rc);
      refusals.emplace_back(record->name, why);
      if (plugin_error.empty()) plugin_error = at + ": " + why;
      next_block->config_json = now->config_json;  // the next reload offers it again
    }
  }
  std::vector<std::string> restart = settings_needing_restart(running, n);
  log.set_level(parse_log_level(n.log.level).value_or(LogLevel::kInfo));
  for (const auto& record : loaded.plugins->plugins()) {
    if (!record->host) continue;
    int level = -1;
    for (const auto& pc : n.plugins) {
      if (pc.name == record->name) {
        if (auto l = parse_log_level(pc.log_level)) level = static_cast<int>(*l);
      }
    }
    record->host->log_level = level;
  }
  server.apply_reload(n, restart);
  if (!plugin_error.empty()) server.reject_reload(plugin_error);
  // Logged once /readyz reports it, so that whoever reads the line finds it there.
  for (const auto& [plugin, why] : refusals) {
    log.error("config", "plugin refused its new config; it keeps the old one",
              {{"plugin", plugin}, {"error", why}});
  }
  applied = accepted;
  log.info("config", "config reloaded",
           {{"file", path}, {"applied", join(live)}, {"restart_required", join(restart)}});
  if (!restart.empty()) {
    log.warn("config", "changed settings take effect only after a restart",
             {{"settings", join(restart)}});
  }
}

// Waits for SIGTERM/SIGINT (blocked in every thread), then drains and stops; SIGHUP reloads the
// config meanwhile. A second stop signal, or a shutdown that overruns its bound, ends the process
// at once.
int serve_until_signalled(Loaded& loaded, HttpServer& server, const sigset_t& all_signals,
                          const std::string& config_path) {
  const Config& config = loaded.config.config;
  Logger& log = *loaded.log;
  sigset_t signals = all_signals;  // the stop signals
  sigdelset(&signals, SIGHUP);
  Config running = config;
  Config applied = config;
  int sig = 0;
  while (sigwait(&all_signals, &sig) == 0 && sig == SIGHUP) {
    log.info("config", "SIGHUP: reloading the config", {{"file", config_path}});
    reload_config(loaded, server, config_path, running, applied);
  }
  server.begin_drain();  // before the log line, so whoever reads it sees /readyz at 503 already
  log.info("host", "shutting down", {{"signal", strsignal(sig)}});
  if (config.server.drain_seconds > 0) {
    timespec drain{static_cast<time_t>(config.server.drain_seconds),
                   static_cast<long>((config.server.drain_seconds -
                                      static_cast<time_t>(config.server.drain_seconds)) *
                                     1e9)};
    if (sigtimedwait(&signals, nullptr, &drain) > 0) {
      log.warn("host", "second signal during drain; exiting now");
      std::_Exit(kExitFailed);
    }
  }
  // Watchdog: a second stop signal, or a shutdown overrunning its bound, ends the process at
  // once. It waits in short slices (sigtimedwait also returns on EINTR, e.g. when a debugger or
  // the leak checker stops the threads) and is joined before the logger it uses goes away.
  std::atomic<bool> stopped{false};
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration<double>(config.server.shutdown_timeout_seconds);
  std::thread watchdog([&log, &stopped, signals, deadline] {
    while (!stopped.load()) {
      auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) {
        log.error("host", "shutdown exceeded shutdown_timeout_seconds; exiting now");
        std::_Exit(kExitFailed);
      }
      auto slice = std::min<std::chrono::nanoseconds>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(left),
          std::chrono::milliseconds(100));
      timespec ts{static_cast<time_t>(slice.count() / 1000000000),
                  static_cast<long>(slice.count() % 1000000000)};
      if (sigtimedwait(&signals, nullptr, &ts) > 0) {
        log.error("host", "second signal during shutdown; exiting now");
        std::_Exit(kExitFailed);
      }
    }
  });
  server.stop();
  loaded.scheduler->stop();
  loaded.tasks->stop();   // running tasks are asked to stop; interrupted ones are handed back
  loaded.events->stop();  // no plugin callback may run once plugins begin to shut down
  loaded.plugins->stop();
  stopped.store(true);
  watchdog.join();
  log.info("host", "stopped");
  return kExitOk;
}

int cmd_run(const Options& opt) {
  // Block the signals before any thread exists so every thread inherits the mask and only
  // sigwait() sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // A file-size limit (ulimit -f) must fail the write (SQLite reports an I/O error and the
  // request answers 503), not kill the server.
  signal(SIGXFSZ, SIG_IGN);

  Loaded loaded;
  if (!load_everything(opt.config, stdout, loaded, false, /*run_mode=*/true)) {
    print_diagnostics(loaded.diagnostics);
    return kExitFailed;
  }
  Logger& log = *loaded.log;
  if (!loaded.required_ok) {
    log.error("host", "a required plugin failed to start, or a start-up error occurred; exiting");
    loaded.plugins->stop();
    return kExitFailed;
  }
  loaded.tasks->start();
  loaded.scheduler->start();
  const Config& config = loaded.config.config;
  HttpServer server(log, config, *loaded.plugins, loaded.events.get(), loaded.db.get());
  uint16_t port = 0;
  try {
    port = server.start();
  } catch (const std::exception& e) {
    log.error("host", "cannot listen", {{"address", config.server.host}, {"error", e.what()}});
    loaded.scheduler->stop();
    loaded.tasks->stop();
    loaded.plugins->stop();
    return kExitFailed;
  }
  log.info("host", "listening",
           {{"address", config.server.host + ":" + std::to_string(port)},
            {"port", static_cast<int64_t>(port)},
            {"version", PLUGHOST_VERSION},
            {"routes", static_cast<int64_t>(loaded.plugins->registry().routes().size())}});
  return serve_until_signalled(loaded, server, signals, opt.config);
}

int cmd_new_plugin(const Options& opt) {
  if (opt.args.size() != 2) {
    std::cerr << "plughost: new-plugin needs NAME and DIR\n" << verb_help().at("new-plugin");
    return kExitUsage;
  }
  if (!valid_new_plugin_name(opt.args[0])) {
    std::cerr << "plughost: plugin name must match [a-z][a-z0-9_]* (at most 64 characters)\n";
    return kExitUsage;
  }
  std::string error = write_plugin_project(opt.args[0], opt.args[1]);
  if (!error.empty()) {
    std::cerr << "plughost: " << error << "\n";
    return kExitFailed;
  }
  std::cout << "wrote " << opt.args[1] << "/: CMakeLists.txt config.schema.json src/plugin.cpp "
            << "tests/plugin_test.cpp README.md\n"
            << "next: cmake -S " << opt.args[1] << " -B " << opt.args[1]
            << "/build -DCMAKE_PREFIX_PATH=<plughost prefix> && cmake --build " << opt.args[1]
            << "/build && ctest --test-dir " << opt.args[1] << "/build\n";
  return kExitOk;
}

}  // namespace

int run_cli(int argc, char** argv) {
  Options opt;
  std::string err = parse_args(argc, argv, opt);
  if (!err.empty()) {
    std::cerr << "plughost: " << err << "\n" << kUsage;
    return kExitUsage;
  }
  if (opt.verb.empty() || opt.verb == "help") {
    std::cout << kUsage;
    return opt.verb.empty() && !opt.help ? kExitUsage : kExitOk;
  }
  auto help = verb_help().find(opt.verb);
  if (help == verb_help().end()) {
    std::cerr << "plughost: unknown command '" << opt.verb << "'\n" << kUsage;
    return kExitUsage;
  }
  if (opt.help) {
    std::cout << help->second;
    return kExitOk;
  }
  using Command = int (*)(const Options&);
  static const std::map<std::string, Command> commands = {
      {"run", cmd_run},        {"check", cmd_check},     {"plugins", cmd_plugins},
      {"routes", cmd_routes},  {"version", cmd_version}, {"new-plugin", cmd_new_plugin},
      {"openapi", cmd_openapi}};
  return commands.at(opt.verb)(opt);
}

}  // namespace plughost
