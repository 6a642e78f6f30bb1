// plughost/plugin.hpp — the header-only C++17 layer third parties write plugins with.
// Wraps the C ABI of abi.h; no C++ type or exception ever crosses into the host.
//
//   class Hello : public plughost::sdk::Plugin {
//     void init() override {
//       get("/api/hello/:name", [](const Request& rq, Response& rs) {
//         rs.text("hello " + std::string(rq.param("name").value_or("")));
//       });
//     }
//   };
//   PLUGHOST_PLUGIN(Hello, "hello", "1.0.0", "Says hello", "stable")
#pragma once

#include <plughost/abi.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <plughost/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Text of the plugin's config.schema.json, defined by the source that plughost_add_plugin()
// generates. Weak, so a plugin built without a schema links and reports none.
extern "C" __attribute__((weak)) const char* plughost_embedded_config_schema(void);

namespace plughost::sdk {

// Thrown by a route handler to answer with an error envelope (4xx or 5xx) instead of a 500.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, std::string code, const std::string& message,
            std::vector<ErrorDetail> details = {})
      : std::runtime_error(message),
        status_(status),
        code_(std::move(code)),
        details_(std::move(details)) {}
  HttpError(int status, const std::string& message)
      : HttpError(status, error_code_for_status(status), message) {}

  int status() const { return status_; }
  const std::string& code() const { return code_; }
  const std::vector<ErrorDetail>& details() const { return details_; }

 private:
  int status_;
  std::string code_;
  std::vector<ErrorDetail> details_;
};

// Thrown by SDK calls when the host reports a failure (an ABI status code other than PH_OK).
class Error : public std::runtime_error {
 public:
  Error(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

namespace detail {

inline std::string_view view(ph_str s) {
  return {s.data ? s.data : "", s.size};
}
inline std::optional<std::string_view> maybe(ph_str s) {
  if (!s.data) return std::nullopt;
  return std::string_view(s.data, s.size);
}

// Writes `message` into the caller's error buffer, truncating; never throws.
inline void set_error(ph_error* err, const char* message) noexcept {
  if (!err || !err->message || err->message_capacity == 0) return;
  size_t n = std::strlen(message);
  if (n >= err->message_capacity) n = err->message_capacity - 1;
  std::memcpy(err->message, message, n);
  err->message[n] = '\0';
}

// Error buffer on the stack for calls the SDK makes into the host.
struct ErrorBuffer {
  char text[512] = {0};
  ph_error err{sizeof(ph_error), text, sizeof(text)};
};

template <typename F>
void visit_pairs(void* ctx, ph_str name, ph_str value) {
  (*static_cast<F*>(ctx))(view(name), view(value));
}

}  // namespace detail

// A read-only view of one HTTP request; valid while the handler runs.
class Request {
 public:
  Request(const ph_host_api* api, const ph_request* request) : api_(api), request_(request) {}

  std::string_view method() const { return detail::view(api_->request_method(request_)); }
  std::string_view path() const { return detail::view(api_->request_path(request_)); }
  std::string_view body() const { return detail::view(api_->request_body(request_)); }
  std::string_view remote_address() const {
    return detail::view(api_->request_remote_address(request_));
  }
  std::string_view trace_id() const { return detail::view(api_->request_trace_id(request_)); }

  // A `:name` segment of the route pattern, or "*" for the wildcard tail.
  std::optional<std::string_view> param(std::string_view name) const {
    return detail::maybe(api_->request_path_param(request_, name.data(), name.size()));
  }
  std::optional<std::string_view> query(std::string_view name) const {
    return detail::maybe(api_->request_query_param(request_, name.data(), name.size()));
  }
  std::optional<std::string_view> header(std::string_view name) const {
    return detail::maybe(api_->request_header(request_, name.data(), name.size()));
  }
  std::optional<std::string_view> cookie(std::string_view name) const {
    return detail::maybe(api_->request_cookie(request_, name.data(), name.size()));
  }

  // Calls f(std::string_view name, std::string_view value) for each header (names lower-case).
  template <typename F>
  void each_header(F&& f) const {
    api_->request_each_header(request_, &detail::visit_pairs<std::remove_reference_t<F>>, &f);
  }
  template <typename F>
  void each_query(F&& f) const {
    api_->request_each_query_param(request_, &detail::visit_pairs<std::remove_reference_t<F>>, &f);
  }

  // The body parsed as JSON; throws HttpError 400 when it is not valid JSON.
  rapidjson::Document json() const {
    rapidjson::Document doc;
    std::string error;
    if (!parse_json(body(), doc, error)) {
      throw HttpError(400, "INVALID_JSON", "request body is not valid JSON: " + error);
    }
    return doc;
  }

  // ---- identity (ABI 1.2) ----
  // The caller as the host resolved it (see abi.h, "Identity"): kind, id, roles, permissions,
  // partial, scheme, tenant, auth_enabled and whatever the authenticator added.
  std::string_view principal_json() const {
    return detail::view(api_->request_principal(request_));
  }
  rapidjson::Document principal() const {
    rapidjson::Document d;
    std::string error;
    if (!parse_json(principal_json(), d, error) || !d.IsObject()) d.SetObject();
    return d;
  }
  // Same rule as the route check: exact, "*" or "prefix.*".
  bool has_permission(const std::string& permission) const {
    return api_->request_has_permission(request_, permission.c_str()) != 0;
  }
  // X-Tenant-ID, or "default".
  std::string_view tenant() const { return detail::view(api_->request_tenant(request_)); }

  const ph_request* raw() const { return request_; }

 private:
  const ph_host_api* api_;
  const ph_request* request_;
};

// The response being built; the host sends it when the handler returns.
class Response {
 public:
  Response(const ph_host_api* api, ph_response* response) : api_(api), response_(response) {}

  Response& status(int code) {
    api_->response_set_status(response_, code);
    return *this;
  }
  Response& header(std::string_view name, std::string_view value) {
    api_->response_add_header(response_, name.data(), name.size(), value.data(), value.size());
    return *this;
  }
  Response& content_type(std::string_view type) {
    api_->response_set_content_type(response_, type.data(), type.size());
    return *this;
  }
  Response& body(std::string_view data) {
    api_->response_set_body(response_, data.data(), data.size());
    return *this;
  }
  void text(std::string_view data, int code = 200) {
    status(code).content_type("text/plain; charset=utf-8").body(data);
  }
  void json_text(std::string_view json, int code = 200) {
    status(code).content_type("application/json").body(json);
  }
  void json(const rapidjson::Value& value, int code = 200) { json_text(to_json(value), code); }
  void error(int code, std::string_view error_code, std::string_view message,
             std::string_view trace_id, const std::vector<ErrorDetail>& details = {}) {
    json_text(error_envelope(error_code, message, trace_id, details), code);
  }

 private:
  const ph_host_api* api_;
  ph_response* response_;
};

using RouteHandler = std::function<void(const Request&, Response&)>;

// Everything the route table and the OpenAPI document know about a route.
struct RouteSpec {
  std::string method;
  std::string path;
  std::string summary;
  std::string permission;  // empty: none
  std::string rate_class;  // empty: the host default
  std::string request_schema;
  std::string response_schema;
  uint32_t flags = 0;  // PH_ROUTE_CSRF_EXEMPT, PH_ROUTE_ISSUE_CSRF_COOKIE
};

// Formats the body of an error the host answers on the plugin's routes (401, 403, 429…); see
// ph_error_formatter. Return "" to keep the host's envelope.
using ErrorFormatter =
    std::function<std::string(int status, std::string_view code, std::string_view message,
                              std::string_view detail, std::string_view trace_id)>;

struct ConnectorSpec {
  std::string kind;
  std::string name;
  std::string description;
  std::string config_schema;
};

// Handles one connector call: operation name + JSON input in, JSON output text out.
using ConnectorHandler =
    std::function<std::string(std::string_view operation, std::string_view input_json)>;

// A running task, seen from its handler (on a host worker thread).
class TaskContext {
 public:
  TaskContext(const ph_host_api* api, ph_task_context* task) : api_(api), task_(task) {}

  int64_t id() const { return api_->task_id(task_); }
  int attempt() const { return api_->task_attempt(task_); }
  std::string_view payload_text() const { return detail::view(api_->task_payload(task_)); }
  rapidjson::Document payload() const {
    rapidjson::Document d;
    std::string error;
    if (!parse_json(payload_text(), d, error)) d.SetObject();
    return d;
  }
  void progress(int percent) { api_->task_set_progress(task_, percent); }
  void log(std::string_view line) { api_->task_log(task_, line.data(), line.size()); }
  // True once a cancel was requested, the timeout passed or the host is shutting down: return
  // (or throw) soon.
  bool cancelled() const { return api_->task_cancelled(task_) != 0; }
  void result(std::string_view json) { api_->task_set_result(task_, json.data(), json.size()); }
  void result(const rapidjson::Value& value) { result(to_json(value)); }
  ph_task_context* raw() const { return task_; }

 private:
  const ph_host_api* api_;
  ph_task_context* task_;
};

// A prepared statement with named `:params`. Finalized on destruction; outside a transaction it
// holds a pooled session until then, so keep its scope short.
class Statement {
 public:
  Statement(const ph_host_api* api, ph_stmt* stmt) : api_(api), stmt_(stmt) {}
  Statement(Statement&& o) noexcept : api_(o.api_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() {
    if (stmt_) api_->stmt_finalize(stmt_);
  }

  Statement& bind(const char* name, int64_t v) {
    return checked(api_->stmt_bind_int64(stmt_, name, v), name);
  }
  Statement& bind(const char* name, int v) { return bind(name, static_cast<int64_t>(v)); }
  Statement& bind(const char* name, double v) {
    return checked(api_->stmt_bind_double(stmt_, name, v), name);
  }
  Statement& bind(const char* name, std::string_view v) {
    return checked(api_->stmt_bind_text(stmt_, name, v.data(), v.size()), name);
  }
  Statement& bind(const char* name, const char* v) { return bind(name, std::string_view(v)); }
  Statement& bind(const char* name, const std::string& v) {
    return bind(name, std::string_view(v));
  }
  Statement& bind(const char* name, std::nullptr_t) {
    return checked(api_->stmt_bind_null(stmt_, name), name);
  }
  template <typename T>
  Statement& bind(const char* name, const std::optional<T>& v) {
    return v ? bind(name, *v) : bind(name, nullptr);
  }
  Statement& bind_blob(const char* name, const void* data, size_t len) {
    return checked(api_->stmt_bind_blob(stmt_, name, data, len), name);
  }

  // Executes on the first call; true while a row is available.
  bool step() {
    detail::ErrorBuffer eb;
    int rc = api_->stmt_step(stmt_, &eb.err);
    if (rc == PH_ROW) return true;
    if (rc == PH_DONE) return false;
    throw Error(rc, std::string("SQL failed: ") + eb.text);
  }
  // Runs a statement that returns no rows; returns the affected row count.
  int64_t exec() {
    while (step()) {
    }
    return api_->stmt_affected_rows(stmt_);
  }

  int columns() const { return api_->stmt_column_count(stmt_); }
  std::string_view name(int col) const { return detail::view(api_->stmt_column_name(stmt_, col)); }
  bool is_null(int col) const { return api_->stmt_column_type(stmt_, col) == PH_VALUE_NULL; }
  int64_t int64(int col) const { return api_->stmt_column_int64(stmt_, col); }
  double real(int col) const { return api_->stmt_column_double(stmt_, col); }
  std::string text(int col) const {
    return std::string(detail::view(api_->stmt_column_bytes(stmt_, col)));
  }
  std::optional<std::string> maybe_text(int col) const {
    if (is_null(col)) return std::nullopt;
    return text(col);
  }

 private:
  Statement& checked(int rc, const char* name) {
    if (rc != PH_OK) throw Error(rc, std::string("statement has no parameter :") + name);
    return *this;
  }
  const ph_host_api* api_;
  ph_stmt* stmt_;
};

// A transaction on one pooled session; rolled back on destruction unless committed.
class Transaction {
 public:
  Transaction(const ph_host_api* api, ph_host* host) : api_(api), host_(host) {
    detail::ErrorBuffer eb;
    int rc = api_->txn_begin(host_, &txn_, &eb.err);
    if (rc != PH_OK) throw Error(rc, std::string("cannot begin transaction: ") + eb.text);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (txn_) api_->txn_rollback(txn_);
  }
  Statement sql(std::string_view text) {
    ph_stmt* stmt = nullptr;
    detail::ErrorBuffer eb;
    int rc = api_->stmt_prepare(host_, txn_, text.data(), text.size(), &stmt, &eb.err);
    if (rc != PH_OK) throw Error(rc, std::string("SQL prepare failed: ") + eb.text);
    return Statement(api_, stmt);
  }
  void commit() {
    detail::ErrorBuffer eb;
    ph_txn* t = txn_;
    txn_ = nullptr;
    int rc = api_->txn_commit(t, &eb.err);
    if (rc != PH_OK) throw Error(rc, std::string("commit failed: ") + eb.text);
  }

 private:
  const ph_host_api* api_;
  ph_host* host_;
  ph_txn* txn_ = nullptr;
};

// One schedule of Services::replace_schedules (ABI 1.6).
struct Schedule {
  std::string name;       // unique on the host; prefix it with the plugin's name
  std::string cron;       // "m h dom mon dow" or @hourly, @daily, @weekly, @monthly, @yearly
  std::string timezone;   // IANA name; empty: UTC
  std::string task_kind;  // "plugin/task_name"
  std::string payload_json = "{}";
  bool payload_with_due = false;  // the host adds "due" (Unix seconds) to the payload object
};

struct TaskRequest {
  std::string kind;  // "plugin/task_name"
  std::string payload_json = "{}";
  std::string idempotency_key;
  double delay_seconds = 0;
  int max_attempts = 0;
  double timeout_seconds = 0;
};
using TaskHandler = std::function<void(TaskContext&)>;

using EventHandler = std::function<void(std::string_view type, std::string_view payload_json)>;
// Applies a new `config:` block (valid against the plugin's schema, defaults filled in) while
// the plugin serves; throw (Error, or any exception) to keep the old one.
using ReconfigureHandler = std::function<void(const rapidjson::Value& config)>;

struct ConnectorInfo {
  std::string kind;
  std::string name;
  std::string plugin;
  std::string description;
};

// The host's services — storage, tasks, connectors, events, logging, self-description — as a
// small copyable handle. sdk::Plugin is one; hand `services()` to the parts of a plugin that need
// the host (a store, an engine) instead of the whole plugin. Any thread, between init and shutdown.
class Services {
 public:
  Services() = default;
  Services(const ph_host_api* api, ph_host* host) : api_(api), host_(host) {}

  // {"enabled", "csrf_cookie", "csrf_header", "roles": {"admin": ["*"], …}} from the host's
  // `auth:` config.
  rapidjson::Document auth_settings() const {
    rapidjson::Document d;
    std::string error;
    if (!parse_json(detail::view(api_->auth_settings(host_)), d, error) || !d.IsObject()) {
      d.SetObject();
    }
    return d;
  }

  void log(ph_log_level level, std::string_view msg, const Request* rq = nullptr) const {
    api_->log(host_, level, rq ? rq->raw() : nullptr, msg.data(), msg.size());
  }
  void debug(std::string_view msg) const { log(PH_LOG_DEBUG, msg); }
  void info(std::string_view msg) const { log(PH_LOG_INFO, msg); }
  void warn(std::string_view msg) const { log(PH_LOG_WARN, msg); }
  void error(std::string_view msg) const { log(PH_LOG_ERROR, msg); }

  std::vector<ConnectorInfo> connectors(const std::string& kind = {}) const {
    std::vector<ConnectorInfo> out;
    auto visit = [](void* ctx, ph_str k, ph_str n, ph_str p, ph_str d) {
      static_cast<std::vector<ConnectorInfo>*>(ctx)->push_back(
          {std::string(detail::view(k)), std::string(detail::view(n)), std::string(detail::view(p)),
           std::string(detail::view(d))});
    };
    api_->list_connectors(host_, kind.empty() ? nullptr : kind.c_str(), visit, &out);
    return out;
  }

  // Calls a connector registered by any plugin; throws Error when it fails.
  std::string invoke_connector(const std::string& kind, const std::string& name,
                               std::string_view operation, std::string_view input_json) const {
    std::unique_ptr<ph_buffer, void (*)(ph_buffer*)> out(api_->buffer_new(host_),
                                                         api_->buffer_free);
    detail::ErrorBuffer eb;
    int rc = api_->invoke_connector(
        host_, kind.c_str(), name.c_str(), ph_str{operation.data(), operation.size()},
        ph_str{input_json.data(), input_json.size()}, out.get(), &eb.err);
    if (rc != PH_OK) throw Error(rc, kind + "/" + name + ": " + eb.text);
    return std::string(detail::view(api_->buffer_view(out.get())));
  }

  // The host describing itself: "host", "plugins", "routes", "settings", "storage",
  // "migrations" or "openapi" (see host_describe in abi.h). Throws Error for an unknown `what`.
  std::string describe_host(const std::string& what) const {
    auto r = buffered([&](ph_buffer* out, ph_error* err) {
      return api_->host_describe(host_, what.c_str(), out, err);
    });
    if (!r) throw Error(PH_ERR_NOT_FOUND, "host_describe: unknown subject " + what);
    return *r;
  }

  // ---- events ----
  // Publishes an event; `persist` stores it and reaches other hosts on PostgreSQL.
  void publish(const std::string& type, std::string_view payload_json = "{}",
               bool persist = false) const {
    detail::ErrorBuffer eb;
    int rc = api_->event_publish(host_, type.c_str(), payload_json.data(), payload_json.size(),
                                 persist ? 1 : 0, &eb.err);
    if (rc != PH_OK) throw Error(rc, std::string("publish failed: ") + eb.text);
  }

  // ---- schedules ----
  std::optional<std::string> schedule_json(const std::string& name) const {
    return buffered([&](ph_buffer* out, ph_error* err) {
      return api_->schedule_get(host_, name.c_str(), out, err);
    });
  }

  // Replaces every schedule this plugin owns (from init or an earlier call) with `schedules`,
  // all or nothing (ABI 1.6): throws Error — PH_ERR_INVALID_ARGUMENT for a bad cron, time zone,
  // payload or an unknown task kind, PH_ERR_CONFLICT for a name given twice or owned by someone
  // else — and then the previous set stays. Any thread, also after init.
  void replace_schedules(const std::vector<Schedule>& schedules) const {
    std::vector<ph_schedule> structs;
    structs.reserve(schedules.size());
    for (const auto& s : schedules) {
      structs.push_back(ph_schedule{sizeof(ph_schedule), s.name.c_str(), s.cron.c_str(),
                                    s.timezone.empty() ? nullptr : s.timezone.c_str(),
                                    s.task_kind.c_str(), s.payload_json.c_str(),
                                    s.payload_with_due ? 1 : 0});
    }
    std::vector<const ph_schedule*> pointers;
    pointers.reserve(structs.size());
    for (const auto& s : structs) pointers.push_back(&s);
    detail::ErrorBuffer eb;
    int rc = api_->schedules_replace(host_, pointers.data(), pointers.size(), &eb.err);
    if (rc != PH_OK) throw Error(rc, std::string("schedules_replace failed: ") + eb.text);
  }

  // ---- storage ----
  std::string dialect() const { return std::string(detail::view(api_->storage_dialect(host_))); }
  // A statement outside any transaction (holds a pooled session until destroyed).
  Statement sql(std::string_view text) const {
    ph_stmt* stmt = nullptr;
    detail::ErrorBuffer eb;
    int rc = api_->stmt_prepare(host_, nullptr, text.data(), text.size(), &stmt, &eb.err);
    if (rc != PH_OK) throw Error(rc, std::string("SQL prepare failed: ") + eb.text);
    return Statement(api_, stmt);
  }
  Transaction transaction() const { return Transaction(api_, host_); }

  // ---- tasks ----
  int64_t enqueue(const TaskRequest& r) const {
    ph_task_request req{sizeof(ph_task_request),
                        r.kind.c_str(),
                        r.payload_json.c_str(),
                        r.payload_json.size(),
                        r.idempotency_key.empty() ? nullptr : r.idempotency_key.c_str(),
                        r.delay_seconds,
                        r.max_attempts,
                        r.timeout_seconds};
    int64_t id = 0;
    detail::ErrorBuffer eb;
    int rc = api_->task_enqueue(host_, &req, &id, &eb.err);
    if (rc != PH_OK) throw Error(rc, std::string("enqueue failed: ") + eb.text);
    return id;
  }
  // The task as JSON; nullopt when it does not exist.
  std::optional<std::string> task_json(int64_t id) const {
    return buffered(
        [&](ph_buffer* out, ph_error* err) { return api_->task_get(host_, id, out, err); });
  }
  std::string tasks_json(const std::string& filter_json = "{}") const {
    auto r = buffered([&](ph_buffer* out, ph_error* err) {
      return api_->task_list(host_, filter_json.c_str(), out, err);
    });
    return r ? *r : "[]";
  }
  // False when the task does not exist or already finished.
  bool cancel_task(int64_t id) const {
    detail::ErrorBuffer eb;
    return api_->task_cancel(host_, id, &eb.err) == PH_OK;
  }

  const ph_host_api* api() const { return api_; }
  ph_host* host() const { return host_; }

  const Services& services() const { return *this; }

 protected:
  const ph_host_api* api_ = nullptr;
  ph_host* host_ = nullptr;

  template <typename F>
  std::optional<std::string> buffered(F&& call) const {
    std::unique_ptr<ph_buffer, void (*)(ph_buffer*)> out(api_->buffer_new(host_),
                                                         api_->buffer_free);
    detail::ErrorBuffer eb;
    int rc = call(out.get(), &eb.err);
    if (rc == PH_ERR_NOT_FOUND) return std::nullopt;
    if (rc != PH_OK) throw Error(rc, eb.text);
    return std::string(detail::view(api_->buffer_view(out.get())));
  }
};

// A metric the plugin registered (ABI 1.3), shown on the host's /metrics with a `plugin` label.
// Cheap to copy; thread-safe to update. Label values go in the order the names were declared;
// a call with another number of values is ignored by the host.
class Metric {
 public:
  Metric() = default;
  Metric(const ph_host_api* api, ph_metric_handle* handle) : api_(api), handle_(handle) {}

  // Counters (delta >= 0) and gauges.
  void inc(double delta = 1, std::initializer_list<std::string_view> labels = {}) const {
    with_labels(labels, [&](const ph_str* v, size_t n) { api_->metric_add(handle_, v, n, delta); });
  }
  // Gauges.
  void set(double value, std::initializer_list<std::string_view> labels = {}) const {
    with_labels(labels, [&](const ph_str* v, size_t n) { api_->metric_set(handle_, v, n, value); });
  }
  // Histograms.
  void observe(double value, std::initializer_list<std::string_view> labels = {}) const {
    with_labels(labels,
                [&](const ph_str* v, size_t n) { api_->metric_observe(handle_, v, n, value); });
  }

 private:
  template <typename F>
  void with_labels(std::initializer_list<std::string_view> labels, F&& call) const {
    if (!api_ || !handle_) return;
    constexpr size_t kInline = 8;
    ph_str inline_values[kInline];
    std::vector<ph_str> many;
    ph_str* values = inline_values;
    if (labels.size() > kInline) {
      many.resize(labels.size());
      values = many.data();
    }
    size_t i = 0;
    for (std::string_view l : labels) values[i++] = ph_str{l.data(), l.size()};
    call(values, labels.size());
  }

  const ph_host_api* api_ = nullptr;
  ph_metric_handle* handle_ = nullptr;
};

// Base class of a plugin. Override init() to register routes, tasks and connectors; the host
// calls it once on the main thread. Everything registered lives until shutdown().
class Plugin : public Services {
 public:
  virtual ~Plugin() = default;
  virtual void init() = 0;
  virtual void shutdown() {}

  // Called by the export macro before init(); not for plugin code.
  void attach(const ph_host_api* api, ph_host* host) {
    api_ = api;
    host_ = host;
    std::string error;
    if (!parse_json(detail::view(api_->config_json(host_)), config_, error)) config_.SetObject();
  }

 protected:
  const rapidjson::Document& config() const { return config_; }

  // ---- registration (only inside init) ----
  void route(RouteSpec spec, RouteHandler handler) {
    auto binding = std::make_unique<RouteBinding>(RouteBinding{api_, std::move(handler)});
    ph_route r{};
    r.struct_size = sizeof(ph_route);
    r.method = spec.method.c_str();
    r.path = spec.path.c_str();
    r.summary = spec.summary.c_str();
    r.permission = spec.permission.empty() ? nullptr : spec.permission.c_str();
    r.rate_class = spec.rate_class.empty() ? nullptr : spec.rate_class.c_str();
    r.request_schema = spec.request_schema.empty() ? nullptr : spec.request_schema.c_str();
    r.response_schema = spec.response_schema.empty() ? nullptr : spec.response_schema.c_str();
    r.handler = &route_trampoline;
    r.user_data = binding.get();
    r.flags = spec.flags;
    check(api_->register_route(host_, &r, &scratch_.err), "register_route " + spec.path);
    routes_.push_back(std::move(binding));
  }
  void get(std::string path, RouteHandler h, std::string summary = {}) {
    route({"GET", std::move(path), std::move(summary), {}, {}, {}, {}}, std::move(h));
  }
  void post(std::string path, RouteHandler h, std::string summary = {}) {
    route({"POST", std::move(path), std::move(summary), {}, {}, {}, {}}, std::move(h));
  }

  // Metrics (ABI 1.3). `name` is the full Prometheus name (a counter's ends in "_total");
  // throws Error when the host refuses it (bad or taken name, bad labels or buckets).
  Metric register_counter(const std::string& name, const std::string& help,
                          const std::vector<std::string>& labels = {}) {
    return register_metric(PH_METRIC_COUNTER, name, help, labels, {});
  }
  Metric register_gauge(const std::string& name, const std::string& help,
                        const std::vector<std::string>& labels = {}) {
    return register_metric(PH_METRIC_GAUGE, name, help, labels, {});
  }
  // Empty `buckets`: the host's latency buckets (seconds).
  Metric register_histogram(const std::string& name, const std::string& help,
                            const std::vector<std::string>& labels = {},
                            const std::vector<double>& buckets = {}) {
    return register_metric(PH_METRIC_HISTOGRAM, name, help, labels, buckets);
  }

  void task(const std::string& name, const std::string& description, TaskHandler handler) {
    auto binding = std::make_unique<TaskBinding>(TaskBinding{api_, std::move(handler)});
    ph_task_kind t{sizeof(ph_task_kind), name.c_str(), description.c_str(), &task_trampoline,
                   binding.get()};
    check(api_->register_task(host_, &t, &scratch_.err), "register_task " + name);
    tasks_.push_back(std::move(binding));
  }

  void connector(const ConnectorSpec& spec, ConnectorHandler handler) {
    auto binding = std::make_unique<ConnectorBinding>(ConnectorBinding{api_, std::move(handler)});
    ph_connector c{sizeof(ph_connector),
                   spec.kind.c_str(),
                   spec.name.c_str(),
                   spec.description.c_str(),
                   spec.config_schema.empty() ? nullptr : spec.config_schema.c_str(),
                   &connector_trampoline,
                   binding.get()};
    check(api_->register_connector(host_, &c, &scratch_.err),
          "register_connector " + spec.kind + "/" + spec.name);
    connectors_.push_back(std::move(binding));
  }

  // Only inside init, once.
  void error_formatter(ErrorFormatter formatter) {
    error_formatter_ =
        std::make_unique<FormatterBinding>(FormatterBinding{api_, std::move(formatter)});
    check(api_->register_error_formatter(host_, &error_formatter_trampoline, error_formatter_.get(),
                                         &scratch_.err),
          "register_error_formatter");
  }

  // ---- live config (ABI 1.4) ----
  // Only inside init, once: the plugin takes a changed `config:` block on SIGHUP without a
  // restart. `apply` runs on the host's main thread while handlers and tasks run, so it swaps
  // settings in thread-safely (e.g. a std::shared_ptr<const Settings> with atomic load/store).
  // config() keeps returning the block the plugin was initialised with.
  void reconfigurable(ReconfigureHandler apply) {
    reconfigure_ = std::make_unique<ReconfigureBinding>(ReconfigureBinding{std::move(apply)});
    check(api_->register_reconfigure_handler(host_, &reconfigure_trampoline, reconfigure_.get(),
                                             &scratch_.err),
          "register_reconfigure_handler");
  }

  // ---- events ----
  // Only inside init. The handler runs on the host's event thread.
  void subscribe(const std::string& pattern, EventHandler handler) {
    auto binding = std::make_unique<EventBinding>(EventBinding{std::move(handler)});
    check(api_->event_subscribe(host_, pattern.c_str(), &event_trampoline, binding.get(),
                                &scratch_.err),
          "subscribe " + pattern);
    events_.push_back(std::move(binding));
  }

  // ---- schedules ----
  // Only inside init: enqueues `task_kind` at each due time of `cron` in `timezone` (UTC if empty).
  void schedule(const std::string& name, const std::string& cron, const std::string& task_kind,
                const std::string& timezone = {}, const std::string& payload_json = "{}") {
    ph_schedule s{sizeof(ph_schedule),
                  name.c_str(),
                  cron.c_str(),
                  timezone.empty() ? nullptr : timezone.c_str(),
                  task_kind.c_str(),
                  payload_json.c_str(),
                  0};
    check(api_->register_schedule(host_, &s, &scratch_.err), "schedule " + name);
  }

  // ---- storage ----
  // Registers (and, if pending, applies) a migration; only inside init, in order.
  void migration(const std::string& name, const std::string& sql,
                 const std::string& sql_postgres = {}) {
    ph_migration m{sizeof(ph_migration), name.c_str(), sql.c_str(),
                   sql_postgres.empty() ? nullptr : sql_postgres.c_str()};
    check(api_->register_migration(host_, &m, &scratch_.err), "migration " + name);
  }

 private:
  struct RouteBinding {
    const ph_host_api* api;
    RouteHandler fn;
  };
  struct TaskBinding {
    const ph_host_api* api;
    TaskHandler fn;
  };
  struct ConnectorBinding {
    const ph_host_api* api;
    ConnectorHandler fn;
  };
  struct EventBinding {
    EventHandler fn;
  };
  struct FormatterBinding {
    const ph_host_api* api;
    ErrorFormatter fn;
  };
  struct ReconfigureBinding {
    ReconfigureHandler fn;
  };

  static int reconfigure_trampoline(void* user_data, const char* json, size_t len,
                                    ph_error* err) noexcept {
    try {
      rapidjson::Document doc;
      doc.Parse(json, len);
      if (doc.HasParseError()) {
        detail::set_error(err, "the new config block is not valid JSON");
        return PH_ERR_INVALID_ARGUMENT;
      }
      static_cast<ReconfigureBinding*>(user_data)->fn(doc);
      return PH_OK;
    } catch (const Error& e) {
      detail::set_error(err, e.what());
      return e.code();
    } catch (const std::exception& e) {
      detail::set_error(err, e.what());
    } catch (...) {
      detail::set_error(err, "unknown exception");
    }
    return PH_ERR_INTERNAL;
  }

  static int error_formatter_trampoline(void* user_data, int status, const char* code,
                                        ph_str message, ph_str detail_text, ph_str trace_id,
                                        ph_buffer* body) noexcept {
    try {
      auto* b = static_cast<FormatterBinding*>(user_data);
      std::string text = b->fn(status, code ? code : "", detail::view(message),
                               detail::view(detail_text), detail::view(trace_id));
      if (text.empty()) return PH_ERR_NOT_FOUND;
      b->api->buffer_append(body, text.data(), text.size());
      return PH_OK;
    } catch (...) {
      return PH_ERR_INTERNAL;
    }
  }

  static void event_trampoline(void* user_data, ph_str type, ph_str payload) noexcept {
    try {
      static_cast<EventBinding*>(user_data)->fn(detail::view(type), detail::view(payload));
    } catch (...) {
      // An event handler's failure stays inside the plugin.
    }
  }

  void check(int rc, const std::string& what) {
    if (rc != PH_OK) throw Error(rc, what + ": " + scratch_.text);
  }

  static int route_trampoline(void* user_data, const ph_request* request, ph_response* response,
                              ph_error* err) noexcept {
    auto* b = static_cast<RouteBinding*>(user_data);
    try {
      Request rq(b->api, request);
      Response rs(b->api, response);
      try {
        b->fn(rq, rs);
      } catch (const HttpError& e) {
        rs.error(e.status(), e.code(), e.what(), rq.trace_id(), e.details());
      }
      return PH_OK;
    } catch (const std::exception& e) {
      detail::set_error(err, e.what());
    } catch (...) {
      detail::set_error(err, "unknown exception");
    }
    return PH_ERR_INTERNAL;
  }

  static int task_trampoline(void* user_data, ph_task_context* task, ph_error* err) noexcept {
    auto* b = static_cast<TaskBinding*>(user_data);
    try {
      TaskContext ctx(b->api, task);
      b->fn(ctx);
      return PH_OK;
    } catch (const std::exception& e) {
      detail::set_error(err, e.what());
    } catch (...) {
      detail::set_error(err, "unknown exception");
    }
    return PH_ERR_INTERNAL;
  }

  static int connector_trampoline(void* user_data, ph_str operation, ph_str input,
                                  ph_buffer* output, ph_error* err) noexcept {
    auto* b = static_cast<ConnectorBinding*>(user_data);
    try {
      std::string result = b->fn(detail::view(operation), detail::view(input));
      b->api->buffer_append(output, result.data(), result.size());
      return PH_OK;
    } catch (const Error& e) {
      detail::set_error(err, e.what());
      return e.code();
    } catch (const std::exception& e) {
      detail::set_error(err, e.what());
    } catch (...) {
      detail::set_error(err, "unknown exception");
    }
    return PH_ERR_INTERNAL;
  }

  Metric register_metric(int type, const std::string& name, const std::string& help,
                         const std::vector<std::string>& labels,
                         const std::vector<double>& buckets) {
    std::vector<const char*> names;
    for (const auto& l : labels) names.push_back(l.c_str());
    ph_metric m{};
    m.struct_size = sizeof(ph_metric);
    m.type = type;
    m.name = name.c_str();
    m.help = help.c_str();
    m.label_names = names.empty() ? nullptr : names.data();
    m.label_count = names.size();
    m.buckets = buckets.empty() ? nullptr : buckets.data();
    m.bucket_count = buckets.size();
    ph_metric_handle* handle = nullptr;
    check(api_->register_metric(host_, &m, &handle, &scratch_.err), "register_metric " + name);
    return Metric(api_, handle);
  }

  rapidjson::Document config_;
  detail::ErrorBuffer scratch_;
  std::vector<std::unique_ptr<RouteBinding>> routes_;
  std::vector<std::unique_ptr<TaskBinding>> tasks_;
  std::vector<std::unique_ptr<ConnectorBinding>> connectors_;
  std::vector<std::unique_ptr<EventBinding>> events_;
  std::unique_ptr<FormatterBinding> error_formatter_;
  std::unique_ptr<ReconfigureBinding> reconfigure_;
};

namespace detail {

template <typename P>
int init_plugin(const ph_host_api* api, ph_host* host, void** state, ph_error* err) noexcept {
  if (!api || api->struct_size < sizeof(ph_host_api)) {
    set_error(err, "host API table is older than the SDK this plugin was built with");
    return PH_ERR_UNSUPPORTED;
  }
  try {
    std::unique_ptr<Plugin> plugin = std::make_unique<P>();  // init() may be private in P
    plugin->attach(api, host);
    plugin->init();
    *state = plugin.release();
    return PH_OK;
  } catch (const Error& e) {
    set_error(err, e.what());
    return e.code();
  } catch (const std::exception& e) {
    set_error(err, e.what());
  } catch (...) {
    set_error(err, "unknown exception");
  }
  return PH_ERR_INTERNAL;
}

inline void shutdown_plugin(void* state) noexcept {
  auto* plugin = static_cast<Plugin*>(state);
  try {
    plugin->shutdown();
  } catch (...) {
    // Nothing may cross the boundary; the host logs that shutdown finished regardless.
  }
  delete plugin;
}

inline const char* embedded_config_schema() {
  return &plughost_embedded_config_schema != nullptr ? plughost_embedded_config_schema() : nullptr;
}

}  // namespace detail
}  // namespace plughost::sdk

// Exports the plugin's entry symbol. Use once, at namespace scope, in one source file.
#define PLUGHOST_PLUGIN(PluginClass, NAME, VERSION, DESCRIPTION, STATUS)         \
  extern "C" PH_EXPORT const ph_plugin_descriptor* plughost_plugin_entry(void) { \
    static const ph_plugin_descriptor descriptor = {                             \
        sizeof(ph_plugin_descriptor),                                            \
        PH_ABI_MAJOR,                                                            \
        PH_ABI_MINOR,                                                            \
        NAME,                                                                    \
        VERSION,                                                                 \
        DESCRIPTION,                                                             \
        STATUS,                                                                  \
        ::plughost::sdk::detail::embedded_config_schema(),                       \
        &::plughost::sdk::detail::init_plugin<PluginClass>,                      \
        &::plughost::sdk::detail::shutdown_plugin};                              \
    return &descriptor;                                                          \
  }
