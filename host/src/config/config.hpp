// config.hpp — loads and validates config/plughost.yaml.
// Every problem becomes a Diagnostic with file:line:column; nothing here throws on bad input.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace plughost {

// One problem found in the config, printed as `file:line:col: path: message`.
// line and column are 1-based (yaml-cpp marks are 0-based; convert when creating).
struct Diagnostic {
  std::string file;
  int line = 0;
  int column = 0;
  std::string path;  // dotted path into the document, e.g. "plugins.rag.config.top_k"
  std::string message;

  std::string to_string() const;  // "file:line:col: path: message" (path omitted when empty)
};

// Where a value sits in the YAML file (1-based).
struct Mark {
  int line = 0;
  int column = 0;
};

struct PluginConfig {
  std::string name;
  bool enabled = true;
  bool required = false;
  // Origins allowed to call the plugin's routes from a browser ("*" = any). Unset: no check.
  // A request without an Origin header always passes (same-origin pages, CLI clients).
  std::optional<std::vector<std::string>> allowed_origins;
  // Threshold for the plugin's own log lines (debug|info|warn|error); empty: the host's
  // `log.level`. Reloaded on SIGHUP.
  std::string log_level;
  // The `config:` block converted to JSON text (an object; "{}" when absent). Scalars are typed
  // the YAML way after interpolation: plain true/false -> bool, integers -> int64, floats ->
  // double, null/~ -> null; quoted scalars are always strings.
  std::string config_json;
  Mark mark;  // of the plugin's key under `plugins:`
  // JSON pointer ("" for the block itself, "/top_k", "/sources/0/name") -> position of that value,
  // so schema errors can be reported at the right line.
  std::map<std::string, Mark> pointer_marks;
  // Same pointers -> position of the mapping key that holds the value (unknown-key errors).
  std::map<std::string, Mark> key_marks;
};

struct ServerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 = pick a free port (the bound port is logged)
  int threads = 2;       // Pistache reactor threads, >= 1
  uint64_t max_body_bytes = 10 * 1024 * 1024;
  // Routes a plugin marks PH_ROUTE_LARGE_BODY (file uploads) take bodies up to max_upload_bytes;
  // one over spool_threshold_bytes is written to an unnamed file in spool_dir as it arrives
  // instead of being held in memory. spool_dir "": $TMPDIR, else /tmp.
  uint64_t max_upload_bytes = 1024ull * 1024 * 1024;
  uint64_t spool_threshold_bytes = 1024 * 1024;
  std::string spool_dir;
  double drain_seconds = 0;  // after SIGTERM: /readyz is 503 this long before accept stops
  double shutdown_timeout_seconds = 10;  // bound on finishing in-flight requests
  // A plugin handler still running after this long gets its request answered 504 TIMEOUT; its
  // late result is dropped. 0: no bound (handlers then run on the reactor threads themselves).
  double request_timeout_seconds = 60;
  // Slow clients: a request's headers (and then its body) must arrive within these bounds, or the
  // connection is answered 408 and closed. Open connections beyond max_connections are answered
  // 503 and closed at once.
  double header_timeout_seconds = 10;
  double body_timeout_seconds = 60;
  int64_t max_connections = 10000;
  // Peers (IP literals) whose X-Forwarded-For is believed: a request from one of them is taken to
  // come from the last address in that header not itself a trusted proxy.
  std::vector<std::string> trusted_proxies;
};

struct LogConfig {
  std::string level = "info";   // debug | info | warn | error
  std::string format = "auto";  // auto (json unless stdout is a TTY) | json | text
  bool access = true;           // one line per request
};

struct TasksConfig {
  int workers = 2;                     // 0: enqueue only, never run tasks here
  double lease_seconds = 30;           // a task whose host stops heartbeating is taken again
  double poll_interval_seconds = 0.5;  // how often idle workers look for due tasks
  double default_timeout_seconds = 300;
  int max_attempts = 3;
  int log_lines = 1000;
  std::string node;  // this host's name in task rows; default "<hostname>:<pid>"
};

// Who may call what. Roles map to permissions ("*" = all, "source.*" = every source.x).
struct AuthConfig {
  bool enabled = true;
  // Which credential of a request is tried first: session (cookies), bearer, api_key.
  std::vector<std::string> order = {"session", "bearer", "api_key"};
  // Authenticator connectors consulted for each credential, in order; empty = every registered
  // connector of kind "authenticator", in plugin init order.
  std::vector<std::string> authenticators;
  std::map<std::string, std::vector<std::string>> roles = default_roles();
  std::string csrf_cookie = "csrftoken";
  std::string csrf_header = "X-CSRFToken";
  // Custom headers a cross-site form cannot send without a CORS preflight; any of them also
  // satisfies the CSRF check (Dango's clients send one instead of the token).
  std::vector<std::string> csrf_trusted_headers = {"X-Requested-With", "X-CSRF-Protection"};

  // Dango's defaults: admin everything; editor works with data; viewer reads.
  static std::map<std::string, std::vector<std::string>> default_roles();
};

struct RateClass {
  int64_t limit = 120;         // requests per window and caller
  double window_seconds = 60;  // a sliding window (plughost/rate_limit.hpp)
};

struct RateLimitConfig {
  bool enabled = true;
  bool exempt_loopback = false;  // 127.0.0.0/8 and ::1 callers are never limited
  std::string default_class = "standard";
  // Defaults follow the automate seed (standard 120/min, datachat 30, rag 60, embed 60) plus
  // Dango's login limit (10/min per IP); a class named "none" is never limited.
  std::map<std::string, RateClass> classes = default_classes();

  static std::map<std::string, RateClass> default_classes();
};

struct ScheduleConfig {
  std::string name;
  std::string cron;
  std::string timezone;  // empty = UTC
  std::string task;      // "plugin/task_name"
  std::string payload_json = "{}";
  Mark mark;
};

struct Config {
  std::string file;       // path the config was read from
  std::string directory;  // directory of `file`; relative paths in the config resolve against it
  int version = 1;
  ServerConfig server;
  LogConfig log;
  std::string storage_url = "sqlite://plughost.db";
  int storage_pool_size = 4;
  TasksConfig tasks;
  AuthConfig auth;
  RateLimitConfig rate_limits;
  std::vector<ScheduleConfig> schedules;
  std::string plugins_dir;  // absolute after loading; empty = default (next to the binary)
  std::vector<PluginConfig> plugins;  // in file order (= init order)
};

// Looks up an environment variable; nullopt when unset. Injected so tests need not touch environ.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

struct ConfigResult {
  Config config;
  std::vector<Diagnostic> diagnostics;  // empty = valid
  bool ok() const { return diagnostics.empty(); }
};

// Reads and validates the host-level keys of a config file. Reports every problem, not just the
// first: YAML syntax errors, unknown keys (with "did you mean" for close matches), wrong types,
// out-of-range values, unresolved ${VAR} / ${VAR:?message} interpolations.
ConfigResult load_config_file(const std::string& path, const EnvLookup& env);
// Same, from text already in memory; `file` is only used in diagnostics and to resolve paths.
ConfigResult load_config_text(const std::string& text, const std::string& file,
                              const EnvLookup& env);

// Expands ${VAR}, ${VAR:-default}, ${VAR:?message} and the $${ escape in one scalar.
// Returns nullopt and sets `error` when a variable is unset without a default, or on syntax
// errors (unterminated "${").
std::optional<std::string> interpolate(const std::string& value, const EnvLookup& env,
                                       std::string& error);

struct PluginConfigCheck {
  std::string config_json;  // the block with schema defaults applied (top-level properties and
                            // nested objects' properties that declare "default")
  std::vector<Diagnostic> diagnostics;
};

// Validates one plugin's `config:` block against its JSON Schema (draft-04 text; empty = accept
// anything). Reports unknown keys (when "additionalProperties": false, with did-you-mean), missing
// required keys and type errors for every property itself, then runs RapidJSON's SchemaValidator
// for the remaining keywords; each diagnostic points at the offending value's line via
// `pointer_marks` and has path "plugins.<name>.config.<key>…".
PluginConfigCheck check_plugin_config(const Config& config, const PluginConfig& plugin,
                                      const std::string& schema_json);

// Levenshtein distance, for "did you mean".
size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace plughost
