// Fuzzes the JSON body handling of every real plugin through the ABI, in-process: the host's own
// wiring (config file, SQLite storage with the host's migrations, event bus, a task worker,
// PluginSet) loads every plugin of config/plughost.yaml's demo from the build's plugins/ folder,
// with its data in a scratch directory and offline (hashed embedder, offline translator, no LLM,
// Slack or Metabase). The bootstrap admin signs in through the accounts plugin's login route and
// the session cookie is resolved by the host's Identity, as the server does; setup() then makes
// what path parameters can name (a second user, a notebook, the demo workflow's and an
// execution's ids). An input is a request line and a body:
//
//   POST /api/rag/endpoints/plughost-docs/query/\n{"query":"…"}
//
// A line naming a POST/PUT/PATCH route of the registry (the router matches it, as for a request)
// calls that route; any other line picks one of those routes by its hash, and values for its path
// parameters (demo names, made ids, odd values). The call reaches the handler as dispatch() hands
// it over: the admin's principal and permissions, the session cookie, JSON content type, the embed
// demo's key and an allowed Origin, and on webhook routes a valid HMAC-SHA256 signature of the
// body, so that handlers get past their checks to the body.
// Invariants: the handler returns PH_OK (no exception escaped the SDK); no 5xx, except the server's
// own 503 when storage was busy (a worker writes at the same time) and the Metabase proxy's 502
// without a Metabase (upstream_missing()); a 4xx body is JSON in the plugin's documented error
// envelope; a JSON 2xx body parses. State (rows, files, tasks) accumulates across inputs as in a
// long-running host: nothing is reset (measured: execs/s fall from ~530 to ~310 over 5 minutes).
// PLUGIN_BODIES_VERBOSE=1 prints every call and its answer; the exit prints answers per route.
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <sodium.h>
#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "events/event_bus.hpp"
#include "http/exchange.hpp"
#include "identity/identity.hpp"
#include "plugin/loader.hpp"
#include "scheduler/scheduler.hpp"
#include "storage/database.hpp"
#include "storage/migrations.hpp"
#include "storage/statement.hpp"
#include "tasks/task_queue.hpp"

namespace fs = std::filesystem;
using namespace plughost;

namespace {

constexpr const char* kAdminEmail = "admin@example.com";
constexpr const char* kAdminPassword = "Fuzz-admin-7x!Qp2#Lm9";
constexpr const char* kEmbedKey =
    "dce_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
constexpr const char* kOrigin = "http://127.0.0.1:8080";  // on the embed demo's allowed list
// Webhook sources of the demo config and their secrets (its ${…:-default} values).
const std::map<std::string, std::string> kWebhookSecrets = {{"stripe", "demo-stripe-secret"},
                                                            {"github", "demo-github-secret"}};

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "plugin_bodies_fuzz: %s\n", why.c_str());
  std::fflush(stderr);
  __builtin_trap();
}

// Values tried for a path parameter, by name: names the demo config defines and ids of what
// setup() made first (so handlers get past their lookups to the body), then ids and odd values
// every parameter gets.
std::vector<std::string> param_values(const std::string& name,
                                      const std::vector<std::string>& made) {
  static const std::map<std::string, std::vector<std::string>> named = {
      {"source", {"sales", "stripe", "github"}},
      {"name", {"sales", "stg_orders", "nightly_sales", "revenue_by_customer"}},
      {"table", {"sales"}},
      {"slug", {"plughost-docs", "atlas"}},
      {"id", {"1", "docs", "2"}},
      {"user_id", {"1", "2"}},
      {"job_id", {"1"}},
      {"session_id", {"1"}},
      {"source_type", {"github", "google"}},
  };
  std::vector<std::string> values;
  auto it = named.find(name);
  if (it != named.end()) values = it->second;
  values.insert(values.end(), made.begin(), made.end());
  for (const char* v : {"1", "2", "0", "-1", "x", "99999999999999999999", "a b"}) {
    if (std::find(values.begin(), values.end(), v) == values.end()) values.push_back(v);
  }
  return values;
}

std::string hex(const unsigned char* data, size_t size) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

std::string hmac_sha256_hex(const std::string& key, std::string_view body) {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(body.data()),
                                body.size());
  crypto_auth_hmacsha256_final(&st, mac);
  return hex(mac, sizeof(mac));
}

bool is_string(const rapidjson::Value& o, const char* key) {
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsString();
}

// The host's envelope {"error":{"code","message",…}}.
bool host_envelope(const rapidjson::Value& doc) {
  auto it = doc.FindMember("error");
  return it != doc.MemberEnd() && it->value.IsObject() && is_string(it->value, "code") &&
         is_string(it->value, "message");
}

// The error envelope each plugin documents (its README, docs/api-reference.md).
bool documented_envelope(const std::string& plugin, const rapidjson::Value& doc) {
  if (!doc.IsObject()) return false;
  if (plugin == "accounts") {
    // Dango's {"message"} (+ "issues", "remaining_seconds"), {"error_code","message"} from its
    // error formatter, {"detail"} for 404/405/413; the token endpoints the host's envelope.
    return is_string(doc, "message") || doc.HasMember("detail") || host_envelope(doc);
  }
  if (plugin == "dango-sources") {
    // {"error_code","message"}, or FastAPI's {"detail": "…" | [{loc, msg, type}]}.
    return (is_string(doc, "error_code") && is_string(doc, "message")) || doc.HasMember("detail");
  }
  if (plugin == "inspector") {
    // Django's {"detail"}, or {"errors": {"<field>": ["<msg>"]}}.
    auto errors = doc.FindMember("errors");
    return is_string(doc, "detail") || (errors != doc.MemberEnd() && errors->value.IsObject());
  }
  if (plugin == "studio") return is_string(doc, "detail");
  return host_envelope(doc);  // automate-workflow, datachat, rag, embed
}

// The one 5xx a body cannot avoid here: dango-sources' Metabase proxy (/metabase/*) answers 502
// DANGO-G002 "Metabase is not configured" when metabase.url is unset, as in the demo: a gateway
// with no upstream, whatever the request (its README, "Metabase"). Any other 5xx is a finding.
bool upstream_missing(const RouteEntry& route, int status, const std::string& answer) {
  if (route.plugin != "dango-sources" || route.pattern != "/metabase/*" || status != 502) {
    return false;
  }
  rapidjson::Document doc;
  doc.Parse(answer.c_str(), answer.size());
  return !doc.HasParseError() && doc.IsObject() && is_string(doc, "error_code") &&
         std::string_view(doc["error_code"].GetString()) == "DANGO-G002";
}

struct World {
  fs::path dir;
  ConfigResult config;
  std::unique_ptr<Logger> log;
  std::unique_ptr<Database> db;
  std::unique_ptr<EventBus> events;
  std::unique_ptr<TaskQueue> tasks;
  std::unique_ptr<Scheduler> scheduler;
  Services services;
  std::unique_ptr<PluginSet> plugins;
  std::unique_ptr<Identity> identity;
  std::vector<const RouteEntry*> routes;  // POST, PUT, PATCH
  Principal admin;
  std::vector<std::pair<std::string, std::string>> cookies;
  std::map<std::string, std::vector<std::string>> made;    // path parameter values setup() made
  std::map<std::string, std::vector<std::string>> values;  // every parameter's, by name
  std::map<const RouteEntry*, std::map<int, uint64_t>> answers;  // route -> status -> count
};

World* world = nullptr;

// A scratch directory with the demo's data, laid out like tests/scripts/body_sweep.sh's, and
// config/plughost.yaml with its working-directory-relative paths made absolute (libFuzzer's
// corpus and artifact paths are relative to the working directory, which therefore stays put):
// through the config's own ${…} variables, and by rewriting the two literal paths.
fs::path make_scratch(std::map<std::string, std::string>& env) {
  char tmpl[] = "/tmp/plughost-fuzz-XXXXXX";
  if (!mkdtemp(tmpl)) die("cannot make a scratch directory");
  fs::path dir = tmpl;
  fs::path src = PLUGHOST_SOURCE_DIR;
  fs::create_directories(dir / "config");
  fs::create_directories(dir / "var/demo/dango");
  fs::copy(src / "plugins/inspector/demo/workspace", dir / "var/demo/atlas",
           fs::copy_options::recursive);
  fs::remove(dir / "var/demo/atlas/db.sqlite3");
  fs::copy(src / "plugins/dango-sources/demo/sales", dir / "var/demo/dango/sales",
           fs::copy_options::recursive);
  env["PLUGHOST_STORAGE_URL"] = "sqlite://" + (dir / "var/plughost.db").string();
  env["PLUGHOST_DEMO_WORKSPACE"] = (dir / "var/demo/atlas").string();
  env["PLUGHOST_RAG_DATA_DIR"] = (dir / "var/rag").string();
  env["PLUGHOST_DANGO_DATA_DIR"] = (dir / "var/dango").string();
  env["PLUGHOST_DEMO_DANGO_FOLDER"] = (dir / "var/demo/dango/sales").string();
  env["PLUGHOST_DANGO_SCHEDULES"] = (src / "plugins/dango-sources/demo/schedules.yml").string();
  env["PLUGHOST_DEMO_DANGO_DBT"] = (src / "plugins/dango-sources/demo/dbt").string();
  std::ifstream in(src / "config/plughost.yaml");
  std::stringstream text;
  text << in.rdbuf();
  std::string yaml = text.str();
  auto rewrite = [&yaml](const std::string& from, const std::string& to) {
    size_t at = yaml.find(from);
    if (at == std::string::npos) die("config/plughost.yaml no longer has \"" + from + "\"");
    yaml.replace(at, from.size(), to);
  };
  rewrite("demo_path: var/datachat-demo.db",
          "demo_path: " + (dir / "var/datachat-demo.db").string());
  rewrite("path: plugins/rag/demo/corpus", "path: " + (src / "plugins/rag/demo/corpus").string());
  std::ofstream(dir / "config/plughost.yaml") << yaml;
  return dir;
}

// The same steps as the CLI's `run` (host/src/cli/cli.cpp, open_services + load_everything),
// with one task worker and without the scheduler's clock (no cron task fires mid-run).
void open_services(World& w) {
  const Config& config = w.config.config;
  std::string error;
  auto url = parse_storage_url(config.storage_url, config.directory, error);
  if (!url) die("storage.url: " + error);
  fs::create_directories(fs::path(url->sqlite_path).parent_path());
  check_sqlite_writable(*url);
  w.db = std::make_unique<Database>(*url, static_cast<size_t>(config.storage_pool_size));
  ensure_host_schema(*w.db);
  apply_migration(*w.db, "plughost", "0001_tasks", task_table_sql(w.db->dialect()));
  apply_migration(*w.db, "plughost", "0002_events", events_table_sql(w.db->dialect()));
  w.services.db = w.db.get();
  TaskSettings settings;
  settings.workers = 1;
  settings.lease_seconds = config.tasks.lease_seconds;
  settings.poll_interval_seconds = config.tasks.poll_interval_seconds;
  settings.default_timeout_seconds = config.tasks.default_timeout_seconds;
  settings.default_max_attempts = config.tasks.max_attempts;
  settings.log_lines = static_cast<size_t>(config.tasks.log_lines);
  World* pw = &w;
  auto lookup = [pw](const std::string& kind) -> std::optional<TaskHandlerRef> {
    for (const auto& t : pw->plugins->registry().tasks()) {
      if (kind == t.plugin + "/" + t.name) return TaskHandlerRef{t.handler, t.user_data};
    }
    return std::nullopt;
  };
  w.events = std::make_unique<EventBus>(w.db.get(), *w.log, "fuzz");
  w.events->start();
  w.services.events = w.events.get();
  w.tasks = std::make_unique<TaskQueue>(*w.db, *w.log, settings, "fuzz", lookup);
  EventBus* bus = w.events.get();
  w.tasks->set_event_sink(
      [bus](const std::string& type, const std::string& json) { bus->publish(type, json, false); });
  w.services.tasks = w.tasks.get();
  w.scheduler = std::make_unique<Scheduler>(*w.tasks, *w.db, *w.log);
  w.services.scheduler = w.scheduler.get();
}

struct Call {
  ph_request rq;
  ph_response rs;
  int rc = PH_OK;
  char message[512] = {0};
  const char* storage_fault = nullptr;
  const RouteEntry* route = nullptr;  // the route the path matched
};

// Calls `route` on `path` as the server's dispatch() does once a request is admitted.
void call(const World& w, std::string_view method, const std::string& path, std::string_view body,
          std::vector<std::pair<std::string, std::string>> headers, Call& c) {
  const Registry& registry = w.plugins->registry();
  c.rq.method = method;  // a string literal or a RouteEntry's: both outlive the call
  c.rq.path = path;
  RouteMatch match = registry.router().match(c.rq.method, c.rq.path);
  if (match.kind != RouteMatch::Kind::kFound)
    die("no route for " + std::string(method) + " " + path);
  c.route = match.route;
  c.rq.params = std::move(match.params);  // views into c.rq.path
  c.rq.body = body;
  c.rq.trace_id = "fuzz";
  c.rq.remote = "127.0.0.1";
  c.rq.principal_json = w.admin.json;
  c.rq.permissions = w.admin.permissions;
  c.rq.headers = std::move(headers);
  c.rq.cookies = w.cookies;
  c.rq.query.emplace();
  const RouteTarget& target = registry.target(match.route->target);
  ph_error err{sizeof(ph_error), c.message, sizeof(c.message)};
  take_storage_fault();
  c.rc = target.handler(target.user_data, &c.rq, &c.rs, &err);
  c.storage_fault = take_storage_fault();
}

const RouteEntry* find_route(const World& w, const std::string& method,
                             const std::string& pattern) {
  for (const auto& r : w.plugins->registry().routes()) {
    if (r.method == method && r.pattern == pattern) return &r;
  }
  return nullptr;
}

// Signs the bootstrap admin in through accounts' login route and resolves the session cookie it
// sets with the host's Identity: the principal JSON and permissions the server would hand over.
void sign_in(World& w) {
  const RouteEntry* login = find_route(w, "POST", "/api/auth/login");
  if (!login) die("accounts registered no POST /api/auth/login");
  std::string body =
      std::string("{\"email\":\"") + kAdminEmail + "\",\"password\":\"" + kAdminPassword + "\"}";
  Call c;
  w.admin.json = "{\"kind\":\"anonymous\",\"id\":\"\",\"roles\":[],\"permissions\":[]}";
  call(w, login->method, "/api/auth/login", body, {{"content-type", "application/json"}}, c);
  if (c.rc != PH_OK || c.rs.status != 200) die("login failed: " + c.rs.body);
  for (const auto& [name, value] : c.rs.headers) {
    if (strcasecmp(name.c_str(), "set-cookie") != 0) continue;
    size_t eq = value.find('='), end = value.find(';');
    if (eq == std::string::npos) continue;
    w.cookies.emplace_back(value.substr(0, eq), value.substr(eq + 1, end - eq - 1));
  }
  if (w.cookies.empty()) die("login set no cookie");
  Credentials creds;
  creds.cookies = w.cookies;
  creds.remote_address = "127.0.0.1";
  creds.method = "POST";
  creds.path = "/api/auth/login";
  creds.tenant = "default";
  w.admin = w.identity->resolve(creds);
  if (!w.admin.signed_in() || !permission_granted(w.admin.permissions, "*")) {
    die("the session does not resolve to an admin: " + w.admin.json);
  }
  w.cookies.emplace_back(w.config.config.auth.csrf_cookie, "fuzzcsrf");
}

// A request of setup(), as the admin; anything but a 2xx JSON answer stops the fuzzer.
rapidjson::Document setup_call(World& w, std::string_view method, const std::string& path,
                               const std::string& body,
                               std::vector<std::pair<std::string, std::string>> headers = {}) {
  headers.emplace_back("content-type", "application/json");
  Call c;
  call(w, method, path, body, std::move(headers), c);
  rapidjson::Document doc;
  doc.Parse(c.rs.body.c_str(), c.rs.body.size());
  if (c.rc != PH_OK || c.rs.status / 100 != 2 || doc.HasParseError()) {
    die("setup: " + std::string(method) + " " + path + " answered " + std::to_string(c.rs.status) +
        " " + c.rs.body);
  }
  return doc;
}

void remember(World& w, const std::string& param, const rapidjson::Value* value) {
  if (value && value->IsString()) w.made[param].emplace_back(value->GetString());
  if (value && value->IsInt64()) w.made[param].push_back(std::to_string(value->GetInt64()));
}

// What the path parameters can name besides the demo's own: a second user, a notebook, the demo
// workflow (its id is a random UUID) and an execution of it, made by a signed demo webhook.
void setup(World& w) {
  auto user = setup_call(w, "POST", "/api/admin/users",
                         R"({"email":"ann@example.com","role":"viewer","display_name":"Ann"})");
  remember(w, "user_id", rapidjson::Pointer("/user/id").Get(user));
  setup_call(w, "POST", "/api/notebooks", R"({"name":"churn","template":"explore"})");
  w.made["name"].push_back("churn");
  std::string event =
      R"({"event_type":"order.created","data":{"order_id":"ORD-1","amount":250,"customer_name":"Ada"}})";
  setup_call(
      w, "POST", "/api/automate/webhooks/stripe/", event,
      {{"x-webhook-signature", "sha256=" + hmac_sha256_hex(kWebhookSecrets.at("stripe"), event)}});
  for (const char* list : {"/api/automate/workflows/", "/api/automate/executions/"}) {
    auto page = setup_call(w, "GET", list, "");
    const rapidjson::Value* results = rapidjson::Pointer("/results").Get(page);
    if (!results || !results->IsArray() || results->Empty()) die(std::string("setup: no ") + list);
    for (const auto& item : results->GetArray())
      remember(w, "id", rapidjson::Pointer("/id").Get(item));
  }
  for (const RouteEntry* r : w.routes) {  // (param_names is filled in the router's copies only)
    for (size_t at = 0; (at = r->pattern.find('/', at)) != std::string::npos; ++at) {
      if (at + 1 < r->pattern.size() && (r->pattern[at + 1] == ':' || r->pattern[at + 1] == '*')) {
        size_t end = std::min(r->pattern.find('/', at + 1), r->pattern.size());
        std::string name =
            r->pattern[at + 1] == '*' ? "*" : r->pattern.substr(at + 2, end - at - 2);
        w.values[name] = param_values(name, w.made[name]);
      }
    }
  }
}

// `pattern` with each `:param` (and a final `*`) replaced by one of its values, 4 bits of
// `selector` per parameter choosing which.
std::string concrete_path(const World& w, const std::string& pattern, unsigned selector) {
  std::string path;
  size_t k = 0;
  for (size_t at = 1; at <= pattern.size();) {
    size_t end = pattern.find('/', at);
    if (end == std::string::npos) end = pattern.size();
    std::string segment = pattern.substr(at, end - at);
    if (!segment.empty() && (segment[0] == ':' || segment == "*")) {
      const std::vector<std::string>& values =
          w.values.at(segment == "*" ? "*" : segment.substr(1));
      segment = values[((selector >> (4 * (k++ % 8))) & 15) % values.size()];
    }
    path += "/" + segment;
    at = end + 1;
  }
  return path;
}

void shut_down() {
  World* w = world;
  if (!w) return;
  world = nullptr;
  // What the run reached: per route, how many inputs it answered with which status class.
  size_t ok_routes = 0;
  std::fprintf(stderr, "plugin_bodies_fuzz: answers per route (2xx/4xx/5xx)\n");
  for (const RouteEntry* r : w->routes) {
    uint64_t by_class[6] = {0};
    for (const auto& [status, n] : w->answers[r]) by_class[std::min(status / 100, 5)] += n;
    ok_routes += by_class[2] > 0;
    std::fprintf(stderr, "  %-6s %-45s %8llu %8llu %8llu\n", r->method.c_str(), r->pattern.c_str(),
                 static_cast<unsigned long long>(by_class[2]),
                 static_cast<unsigned long long>(by_class[4]),
                 static_cast<unsigned long long>(by_class[5]));
  }
  std::fprintf(stderr, "plugin_bodies_fuzz: %zu of %zu routes answered 2xx at least once\n",
               ok_routes, w->routes.size());
  w->tasks->stop();  // as the CLI stops: no task or event callback runs into a stopping plugin
  w->events->stop();
  w->plugins->stop();
  fs::path dir = w->dir;
  delete w;  // the plugins unload, then the scheduler, queue, bus and storage close
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (sodium_init() < 0) die("sodium_init failed");
  auto* w = new World;  // reachable from `world` for the process's life; shut_down() stops it
  std::map<std::string, std::string> env = {
      {"PLUGHOST_SECRET_KEY", "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="},
      {"PLUGHOST_ADMIN_PASSWORD", kAdminPassword},
      {"PLUGHOST_EMBED_KEY", kEmbedKey},
      {"PLUGHOST_LOG_LEVEL", "error"},
  };
  w->dir = make_scratch(env);
  w->config =
      load_config_file((w->dir / "config/plughost.yaml").string(), [env](const std::string& name) {
        auto it = env.find(name);
        return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
      });
  if (!w->config.ok()) die("config: " + w->config.diagnostics.front().to_string());
  w->config.config.plugins_dir = PLUGHOST_PLUGIN_DIR;
  w->config.config.log.format = "json";
  w->log = std::make_unique<Logger>(LogLevel::kError, LogFormat::kJson, stderr);
  open_services(*w);
  w->plugins = std::make_unique<PluginSet>(*w->log, w->config.config, &w->services);
  std::vector<Diagnostic> diagnostics;
  w->plugins->start(diagnostics);
  for (const auto& d : diagnostics) std::fprintf(stderr, "%s\n", d.to_string().c_str());
  if (!w->plugins->all_running() || !w->services.fatal.empty()) die("not every plugin started");
  w->tasks->start();
  w->identity = std::make_unique<Identity>(w->config.config.auth, w->plugins->registry(), *w->log);
  for (const auto& r : w->plugins->registry().routes()) {
    if (r.method == "POST" || r.method == "PUT" || r.method == "PATCH") w->routes.push_back(&r);
  }
  if (w->routes.empty()) die("no POST/PUT/PATCH routes");
  world = w;
  sign_in(*w);
  setup(*w);
  std::fprintf(stderr, "plugin_bodies_fuzz: %zu plugins, %zu POST/PUT/PATCH routes, scratch %s\n",
               w->plugins->plugins().size(), w->routes.size(), w->dir.c_str());
  std::atexit(shut_down);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = *world;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  std::string_view line = input.substr(0, newline);
  std::string_view body =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  std::string path;
  const RouteEntry* route = nullptr;
  size_t space = line.find(' ');
  if (space != std::string_view::npos && space + 1 < line.size() && line[space + 1] == '/') {
    std::string method(line.substr(0, space));
    path = std::string(line.substr(space + 1));
    // What the server refuses before routing (dispatch(): "." or ".." segments, NUL) never
    // reaches a handler.
    bool routable = path.find('\0') == std::string::npos;
    for (size_t at = 0; routable && at <= path.size();) {
      size_t slash = std::min(path.find('/', at), path.size());
      std::string_view segment = std::string_view(path).substr(at, slash - at);
      routable = segment != "." && segment != "..";
      at = slash + 1;
    }
    RouteMatch match = w.plugins->registry().router().match(method, path);
    if (routable && match.kind == RouteMatch::Kind::kFound) {
      for (const RouteEntry* r : w.routes) {  // the router keeps its own copies of the entries
        if (r->target == match.route->target) route = r;
      }
    }
  }
  if (!route) {  // any other first line picks a route and its parameters by its hash
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (char ch : line) h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
    route = w.routes[h % w.routes.size()];
    path = concrete_path(w, route->pattern, static_cast<unsigned>(h >> 32));
  }
  std::vector<std::pair<std::string, std::string>> headers = {
      {"content-type", "application/json"}, {"x-api-key", kEmbedKey}, {"origin", kOrigin}};
  std::string source;  // `:source` of a webhook route: its secret signs the body
  for (const auto& [name, value] :
       w.plugins->registry().router().match(route->method, path).params) {
    if (name == "source") source = value;
  }
  auto secret = kWebhookSecrets.find(source);
  if (route->pattern.find("/webhooks/") != std::string::npos && secret != kWebhookSecrets.end()) {
    headers.emplace_back("x-webhook-signature", "sha256=" + hmac_sha256_hex(secret->second, body));
  }

  Call c;
  call(w, route->method, path, body, std::move(headers), c);
  const int status = c.rs.status;
  const std::string& plugin = c.route->plugin;
  ++w.answers[route][status];
  auto report = [&](const char* what) {
    std::fprintf(stderr, "plugin_bodies_fuzz: %s\n  %s %s (%s, plugin %s)\n  status %d rc %d %s\n",
                 what, route->method.c_str(), path.c_str(), c.route->pattern.c_str(),
                 plugin.c_str(), status, c.rc, c.message);
    std::fprintf(stderr, "  body: %.*s\n  answer: %.*s\n",
                 static_cast<int>(std::min<size_t>(body.size(), 400)), body.data(),
                 static_cast<int>(std::min<size_t>(c.rs.body.size(), 600)), c.rs.body.c_str());
    std::fflush(stderr);
    __builtin_trap();
  };
  static const bool verbose = std::getenv("PLUGIN_BODIES_VERBOSE") != nullptr;
  if (verbose) {
    std::fprintf(stderr, "%s %s -> %d %.*s\n", route->method.c_str(), path.c_str(), status,
                 static_cast<int>(std::min<size_t>(c.rs.body.size(), 160)), c.rs.body.c_str());
  }
  // The server answers a handler failure caused by the storage (busy, full, read-only) with its
  // own 503 UNAVAILABLE: that is the documented answer, not a plugin bug.
  if (c.storage_fault && (c.rc != PH_OK || status == 500)) return 0;
  if (c.rc != PH_OK) report("the handler failed (an exception escaped the SDK)");
  if (status >= 500 && !upstream_missing(*c.route, status, c.rs.body)) {
    report("5xx answer to a request body");
  }
  if (status < 100) report("no status");
  bool json = c.rs.content_type.rfind("application/json", 0) == 0;
  if (status >= 400) {
    rapidjson::Document doc;
    doc.Parse(c.rs.body.c_str(), c.rs.body.size());
    if (doc.HasParseError()) report("a 4xx body that is not JSON");
    if (!documented_envelope(plugin, doc)) report("a 4xx body not in the plugin's envelope");
  } else if (json && !c.rs.body.empty()) {
    rapidjson::Document doc;
    doc.Parse(c.rs.body.c_str(), c.rs.body.size());
    if (doc.HasParseError()) report("a JSON answer that does not parse");
  }
  return 0;
}
