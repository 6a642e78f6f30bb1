#include "plugin/host_api.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

#include "http/exchange.hpp"
#include "identity/identity.hpp"
#include "plugin/abi_support.hpp"
#include "plugin/describe_api.hpp"
#include "plugin/loader.hpp"
#include "plugin/service_api.hpp"

namespace plughost {
namespace {

using abi::kAbsent;
using abi::set_error;
using abi::view;

std::string str_or_empty(const char* s) {
  return s ? s : "";
}

// ---- registration ----------------------------------------------------------------------------

int check_registering(ph_host* host, ph_error* err) {
  if (!host || !host->registering) {
    set_error(err, "registration is only allowed during init");
    return PH_ERR_WRONG_STATE;
  }
  return PH_OK;
}

bool is_known_method(std::string_view m) {
  for (std::string_view k : {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}) {
    if (m == k) return true;
  }
  return false;
}

int register_route(ph_host* host, const ph_route* route, ph_error* err) {
  if (int rc = check_registering(host, err)) return rc;
  // ABI 1.0/1.1 routes end before `flags`.
  if (!route || route->struct_size < offsetof(ph_route, flags) || !route->method || !route->path ||
      !route->handler) {
    set_error(err, "route needs struct_size, method, path and handler");
    return PH_ERR_INVALID_ARGUMENT;
  }
  if (!is_known_method(route->method)) {
    set_error(err, std::string("unsupported HTTP method '") + route->method + "'");
    return PH_ERR_INVALID_ARGUMENT;
  }
  RouteEntry entry;
  entry.method = route->method;
  entry.pattern = route->path;
  entry.plugin = host->record->name;
  entry.summary = str_or_empty(route->summary);
  entry.permission =
      route->permission && *route->permission ? route->permission : PH_PERMISSION_AUTHENTICATED;
  entry.rate_class = str_or_empty(route->rate_class);
  entry.request_schema = str_or_empty(route->request_schema);
  entry.response_schema = str_or_empty(route->response_schema);
  if (route->struct_size >= offsetof(ph_route, flags) + sizeof(route->flags)) {
    entry.flags = route->flags;
  }
  std::string problem = host->registry->check_route(entry, host->pending);
  if (!problem.empty()) {
    set_error(err, problem);
    return problem.find("conflicts") != std::string::npos ? PH_ERR_CONFLICT
                                                          : PH_ERR_INVALID_ARGUMENT;
  }
  host->pending.routes.push_back(std::move(entry));
  host->pending.targets.push_back(
      RouteTarget{route->handler, route->user_data, host->plugin_index});
  return PH_OK;
}

int register_task(ph_host* host, const ph_task_kind* task, ph_error* err) {
  if (int rc = check_registering(host, err)) return rc;
  if (!task || task->struct_size < sizeof(ph_task_kind) || !task->name || !*task->name ||
      !task->handler) {
    set_error(err, "task kind needs struct_size, name and handler");
    return PH_ERR_INVALID_ARGUMENT;
  }
  TaskKindEntry entry{host->record->name, task->name, str_or_empty(task->description),
                      task->handler, task->user_data};
  std::string problem = host->registry->check_task(entry, host->pending);
  if (!problem.empty()) {
    set_error(err, problem);
    return PH_ERR_CONFLICT;
  }
  host->pending.tasks.push_back(std::move(entry));
  return PH_OK;
}

int register_connector(ph_host* host, const ph_connector* c, ph_error* err) {
  if (int rc = check_registering(host, err)) return rc;
  if (!c || c->struct_size < sizeof(ph_connector) || !c->kind || !*c->kind || !c->name ||
      !*c->name || !c->invoke) {
    set_error(err, "connector needs struct_size, kind, name and invoke");
    return PH_ERR_INVALID_ARGUMENT;
  }
  ConnectorEntry entry{host->record->name,
                       c->kind,
                       c->name,
                       str_or_empty(c->description),
                       str_or_empty(c->config_schema),
                       c->invoke,
                       c->user_data};
  std::string problem = host->registry->check_connector(entry, host->pending);
  if (!problem.empty()) {
    set_error(err, problem);
    return PH_ERR_CONFLICT;
  }
  host->pending.connectors.push_back(std::move(entry));
  return PH_OK;
}

// ---- config and logging ----------------------------------------------------------------------

ph_str config_json(ph_host* host) {
  return host ? view(host->config_json) : kAbsent;
}

void log_line(ph_host* host, ph_log_level level, const ph_request* request, const char* msg,
              size_t msg_len) {
  if (!host || !msg) return;
  LogLevel lv = level <= PH_LOG_DEBUG  ? LogLevel::kDebug
                : level == PH_LOG_INFO ? LogLevel::kInfo
                : level == PH_LOG_WARN ? LogLevel::kWarn
                                       : LogLevel::kError;
  Logger& log = host->set->log();
  int own = host->log_level.load(std::memory_order_relaxed);
  if (own >= 0 ? static_cast<int>(lv) < own : !log.enabled(lv)) return;
  const std::string& name = host->record->name;
  std::string_view text(msg, msg_len);
  if (request) {
    log.emit(lv, name, text, {{"plugin", name}, {"request_id", request->trace_id}});
  } else {
    log.emit(lv, name, text, {{"plugin", name}});
  }
}

// ---- request ---------------------------------------------------------------------------------

ph_str request_method(const ph_request* r) {
  return view(r->method);
}
ph_str request_path(const ph_request* r) {
  return view(r->path);
}
ph_str request_body(const ph_request* r) {
  return view(r->body);
}
ph_str request_remote_address(const ph_request* r) {
  return view(r->remote);
}
ph_str request_trace_id(const ph_request* r) {
  return view(r->trace_id);
}

ph_str request_path_param(const ph_request* r, const char* name, size_t len) {
  std::string_view key(name, len);
  for (const auto& [k, v] : r->params) {
    if (k == key) return view(v);
  }
  return kAbsent;
}

const std::vector<std::pair<std::string, std::string>>& query_of(const ph_request* r) {
  return request_query(*r);
}

ph_str request_header(const ph_request* r, const char* name, size_t len) {
  const std::string* value = find_header(*r, std::string_view(name, len));
  return value ? view(*value) : kAbsent;
}

ph_str request_query_param(const ph_request* r, const char* name, size_t len) {
  std::string_view key(name, len);
  for (const auto& [k, v] : query_of(r)) {
    if (k == key) return view(v);
  }
  return kAbsent;
}

ph_str request_cookie(const ph_request* r, const char* name, size_t len) {
  const std::string* value = find_cookie(*r, std::string_view(name, len));
  return value ? view(*value) : kAbsent;
}

void request_each_query_param(const ph_request* r, ph_pair_visitor visit, void* ctx) {
  for (const auto& [k, v] : query_of(r)) visit(ctx, view(k), view(v));
}

void request_each_header(const ph_request* r, ph_pair_visitor visit, void* ctx) {
  for (const auto& [k, v] : request_headers(*r)) visit(ctx, view(k), view(v));
}

// ---- response --------------------------------------------------------------------------------

void response_set_status(ph_response* r, int status) {
  r->status = (status >= 100 && status <= 599) ? status : 500;
}
void response_add_header(ph_response* r, const char* name, size_t name_len, const char* value,
                         size_t value_len) {
  r->headers.emplace_back(std::string(name, name_len), std::string(value, value_len));
}
void response_set_content_type(ph_response* r, const char* type, size_t len) {
  r->content_type.assign(type, len);
}
void response_set_body(ph_response* r, const char* body, size_t len) {
  r->body.assign(body, len);
}

// ---- identity (1.2) ---------------------------------------------------------------------------

ph_str request_principal(const ph_request* r) {
  return view(r->principal_json);
}
int request_has_permission(const ph_request* r, const char* permission) {
  if (!permission) return 0;
  return permission_granted(r->permissions, permission) ? 1 : 0;
}
ph_str request_tenant(const ph_request* r) {
  return view(r->tenant);
}
ph_str auth_settings(ph_host* host) {
  return host ? view(host->auth_settings_json) : kAbsent;
}
int register_error_formatter(ph_host* host, ph_error_formatter formatter, void* user_data,
                             ph_error* err) {
  if (int rc = check_registering(host, err)) return rc;
  if (!formatter) {
    set_error(err, "register_error_formatter needs a function");
    return PH_ERR_INVALID_ARGUMENT;
  }
  if (host->error_formatter) {
    set_error(err, "this plugin already registered an error formatter");
    return PH_ERR_CONFLICT;
  }
  host->error_formatter = formatter;
  host->error_formatter_data = user_data;
  return PH_OK;
}

int register_reconfigure_handler(ph_host* host, ph_reconfigure_handler handler, void* user_data,
                                 ph_error* err) {
  if (int rc = check_registering(host, err)) return rc;
  if (!handler) {
    set_error(err, "register_reconfigure_handler needs a function");
    return PH_ERR_INVALID_ARGUMENT;
  }
  if (host->reconfigure) {
    set_error(err, "this plugin already registered a reconfigure handler");
    return PH_ERR_CONFLICT;
  }
  host->reconfigure = handler;
  host->reconfigure_data = user_data;
  return PH_OK;
}

// ---- buffers and connectors ------------------------------------------------------------------

void buffer_append(ph_buffer* b, const char* data, size_t len) {
  if (b && data) b->data.append(data, len);
}
ph_buffer* buffer_new(ph_host*) {
  return new ph_buffer();
}
ph_str buffer_view(const ph_buffer* b) {
  return b ? view(b->data) : kAbsent;
}
void buffer_free(ph_buffer* b) {
  delete b;
}

void list_connectors(ph_host* host, const char* kind, ph_connector_visitor visit, void* ctx) {
  if (!host || !visit) return;
  for (const auto& c : host->registry->connectors()) {
    if (kind && c.kind != kind) continue;
    visit(ctx, view(c.kind), view(c.name), view(c.plugin), view(c.description));
  }
}

int invoke_connector(ph_host* host, const char* kind, const char* name, ph_str operation,
                     ph_str input, ph_buffer* output, ph_error* err) {
  if (!host || !kind || !name || !output) {
    set_error(err, "invoke_connector needs kind, name and an output buffer");
    return PH_ERR_INVALID_ARGUMENT;
  }
  const ConnectorEntry* c = host->registry->find_connector(kind, name);
  if (!c) {
    set_error(err, std::string("no connector ") + kind + "/" + name);
    return PH_ERR_NOT_FOUND;
  }
  char message[512] = {0};
  ph_error inner{sizeof(ph_error), message, sizeof(message)};
  int rc = c->invoke(c->user_data, operation, input, output, &inner);
  if (rc != PH_OK) set_error(err, message[0] ? message : "connector failed");
  return rc;
}

// ---- metrics (1.3) ----------------------------------------------------------------------------

int register_metric(ph_host* host, const ph_metric* metric, ph_metric_handle** out, ph_error* err) {
  if (!host || !metric) {
    set_error(err, "register_metric needs a host and a metric");
    return PH_ERR_INVALID_ARGUMENT;
  }
  if (!host->registering) {
    set_error(err, "metrics can only be registered during init");
    return PH_ERR_WRONG_STATE;
  }
  int code = PH_OK;
  std::string problem = host->set->metrics().add(host->record->name, *metric, out, code);
  if (!problem.empty()) set_error(err, problem);
  return code;
}

ph_host_api make_table() {
  ph_host_api t{};
  t.struct_size = sizeof(ph_host_api);
  t.abi_major = PH_ABI_MAJOR;
  t.abi_minor = PH_ABI_MINOR;
  t.register_route = register_route;
  t.register_task = register_task;
  t.register_connector = register_connector;
  t.config_json = config_json;
  t.log = log_line;
  t.request_method = request_method;
  t.request_path = request_path;
  t.request_path_param = request_path_param;
  t.request_query_param = request_query_param;
  t.request_header = request_header;
  t.request_cookie = request_cookie;
  t.request_body = request_body;
  t.request_remote_address = request_remote_address;
  t.request_trace_id = request_trace_id;
  t.request_each_query_param = request_each_query_param;
  t.request_each_header = request_each_header;
  t.response_set_status = response_set_status;
  t.response_add_header = response_add_header;
  t.response_set_content_type = response_set_content_type;
  t.response_set_body = response_set_body;
  t.buffer_append = buffer_append;
  t.list_connectors = list_connectors;
  t.invoke_connector = invoke_connector;
  t.buffer_new = buffer_new;
  t.buffer_view = buffer_view;
  t.buffer_free = buffer_free;
  t.request_principal = request_principal;
  t.request_has_permission = request_has_permission;
  t.request_tenant = request_tenant;
  t.auth_settings = auth_settings;
  t.register_error_formatter = register_error_formatter;
  t.register_metric = register_metric;
  t.metric_add = PluginMetrics::add_to;
  t.metric_set = PluginMetrics::set;
  t.metric_observe = PluginMetrics::observe;
  t.register_reconfigure_handler = register_reconfigure_handler;
  fill_service_api(t);
  fill_describe_api(t);
  return t;
}

}  // namespace

const ph_host_api* host_api_table() {
  static const ph_host_api table = make_table();
  return &table;
}

}  // namespace plughost
