/* plughost/abi.h — the stable C ABI between the plughost host and its plugins.
 * This header is the whole contract: a plugin that compiles against it loads into any host of the
 * same ABI major whose minor is at least the plugin's.
 *
 * CONVENTIONS
 *
 *  Versioning.  Every struct that crosses the boundary starts with `size_t struct_size`, set by
 *   whoever fills the struct to sizeof() as *it* was compiled. Members are only ever appended; a
 *   reader must check `struct_size` before touching a member added after 1.0. Each appended group
 *   is headed by a  since 1.N  comment. A minor version only appends; a major version breaks.
 *   The host refuses a plugin whose major differs from its own or whose minor is newer.
 *
 *  Strings.  Strings passed *into* the ABI as `const char*` are NUL-terminated UTF-8 unless a
 *   length is given. Strings handed *out* are `ph_str` views: pointer + length, not necessarily
 *   NUL-terminated. A view with `data == NULL` means "absent" (distinct from empty).
 *
 *  Ownership and lifetime.  Memory is freed by whoever allocated it. The host copies everything
 *   a plugin passes to a registration call before the call returns, so plugins may pass stack or
 *   temporary strings. Views the host returns are valid until the end of the call they were
 *   obtained in (for request accessors: until the route handler returns) unless a member's comment
 *   says otherwise. Variable-sized output the host must receive (a connector result) is appended to
 *   a host-owned `ph_buffer` through `buffer_append`, never returned as plugin-owned memory.
 *
 *  Errors.  Functions that can fail return an `int` status: PH_OK (0) or one of `ph_status_code`.
 *   Where a `ph_error*` is offered, the callee may write a NUL-terminated message of at most
 *   `message_capacity - 1` bytes into `message`. No C++ exception may cross the boundary in either
 *   direction; the C++ layer (plugin.hpp) catches everything at the edge.
 *
 *  Threads.  `init` and `shutdown` run once, on the host's main thread. Registration calls are
 *   legal only during `init`. Route handlers and connector calls may run concurrently on any server
 *   thread; everything else in `ph_host_api` is safe to call from any thread at any time after
 *   `init` began and before `shutdown` returned.
 */
#ifndef PLUGHOST_ABI_H
#define PLUGHOST_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes. */
#define PH_ABI_MAJOR 1
#define PH_ABI_MINOR 6

/* The one symbol a plugin exports. Its type is `ph_entry_fn`. */
#define PH_ENTRY_SYMBOL "plughost_plugin_entry"

/* Default visibility for the entry symbol, whatever the plugin's own visibility preset. */
#if defined(_WIN32)
#define PH_EXPORT __declspec(dllexport)
#else
#define PH_EXPORT __attribute__((visibility("default")))
#endif

/* ---- Status codes --------------------------------------------------------------------------- */

typedef enum ph_status_code {
  PH_OK = 0,
  PH_ERR_INVALID_ARGUMENT = 1, /* caller passed something malformed */
  PH_ERR_NOT_FOUND = 2,        /* named thing does not exist */
  PH_ERR_CONFLICT = 3,         /* would clash with something registered before */
  PH_ERR_WRONG_STATE = 4,      /* e.g. registration outside init */
  PH_ERR_UNSUPPORTED = 5,      /* operation not offered by this implementation */
  PH_ERR_INTERNAL = 6          /* anything else, including a caught exception */
} ph_status_code;

/* ---- Basic types ---------------------------------------------------------------------------- */

/* A borrowed view of bytes. `data == NULL` means absent. See CONVENTIONS for lifetime. */
typedef struct ph_str {
  const char* data;
  size_t size;
} ph_str;

/* Error report written by the callee. The caller owns the struct and the message buffer. */
typedef struct ph_error {
  size_t struct_size;
  char* message;           /* caller-owned buffer, may be NULL when message_capacity == 0 */
  size_t message_capacity; /* bytes available in `message`, including the terminating NUL */
} ph_error;

/* Opaque handles. Their memory belongs to the host. */
typedef struct ph_host ph_host;         /* one per loaded plugin; valid from init to shutdown */
typedef struct ph_request ph_request;   /* valid during one route handler call */
typedef struct ph_response ph_response; /* valid during one route handler call */
typedef struct ph_buffer ph_buffer;     /* host-owned growable byte buffer */

typedef enum ph_log_level {
  PH_LOG_DEBUG = 0,
  PH_LOG_INFO = 1,
  PH_LOG_WARN = 2,
  PH_LOG_ERROR = 3
} ph_log_level;

/* ---- Routes --------------------------------------------------------------------------------- */

/* Handles one HTTP request. Read the request and fill the response through `ph_host_api`.
 * Return PH_OK when the response is filled (whatever its HTTP status). Any other return makes the
 * host answer 500 in its error envelope; `err->message` is logged, never sent to the client.
 * May run concurrently with itself on several threads. */
typedef int (*ph_route_handler)(void* user_data, const ph_request* request, ph_response* response,
                                ph_error* err);

typedef struct ph_route {
  size_t struct_size;
  const char* method;     /* "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS" */
  const char* path;       /* "/api/items/:id"; a final "*" segment matches the rest of the path */
  const char* summary;    /* one line for `plughost routes` and OpenAPI; may be NULL */
  const char* permission; /* permission the caller needs, e.g. "workflows.read"; NULL: none */
  const char* rate_class; /* rate-limit class name; NULL: the host's default class */
  const char* request_schema;  /* JSON Schema (text) of the request body; may be NULL */
  const char* response_schema; /* JSON Schema (text) of a 2xx response body; may be NULL */
  ph_route_handler handler;
  void* user_data; /* passed back to `handler`; owned by the plugin, must outlive shutdown */
  /* since 1.2 */
  uint32_t flags; /* PH_ROUTE_* bits */
} ph_route;

/* Route flags (since 1.2). */
#define PH_ROUTE_CSRF_EXEMPT                                    \
  0x1u /* unsafe cookie-authenticated calls skip the CSRF check \
          (webhooks authenticated by their own signature) */
#define PH_ROUTE_ISSUE_CSRF_COOKIE                           \
  0x2u /* the host sets a `csrftoken` cookie on the response \
          when the request carried none (pages, status GETs) */
/* Since 1.5: the route takes file uploads. Its bodies may be as large as
 * the operator's `server.max_upload_bytes` rather than `server.max_body_bytes`; one larger than
 * `server.spool_threshold_bytes` is written to disk as it arrives and `request_body` returns a
 * read-only memory map of that file, valid until the handler returns. The caller's credentials,
 * permission and the size limit are checked when the headers arrive, before any of the body is
 * read. A chunked body (no Content-Length) is neither checked early nor spooled: it is held in
 * memory and bounded by `server.max_body_bytes`. */
#define PH_ROUTE_LARGE_BODY 0x4u

/* Route permissions. `ph_route.permission` is one of:
 *   "public"          anyone, no credentials needed;
 *   NULL or "authenticated"  any signed-in principal (not a half-finished 2FA login);
 *   a permission name ("users.manage", "source.sync"): a principal holding it, directly or via a
 *                     wildcard ("*", "source.*") among the permissions of its roles.
 * The host answers 401 (no principal) or 403 (missing permission) before the handler runs. With
 * `auth.enabled: false` every request is an anonymous principal holding "*". */
#define PH_PERMISSION_PUBLIC "public"
#define PH_PERMISSION_AUTHENTICATED "authenticated"

/* ---- Tasks ---------------------------------------------------------------------------------- */

/* A running task as the host sees it; read and report through the task_* members (1.1). */
typedef struct ph_task_context ph_task_context;

/* Runs one attempt of a background task on a host worker thread. Return PH_OK on success;
 * anything else marks the attempt failed with `err->message`. */
typedef int (*ph_task_handler)(void* user_data, ph_task_context* task, ph_error* err);

typedef struct ph_task_kind {
  size_t struct_size;
  const char* name;        /* unique within the plugin, e.g. "sync_source" */
  const char* description; /* may be NULL */
  ph_task_handler handler;
  void* user_data;
} ph_task_kind;

/* ---- Connectors ----------------------------------------------------------------------------- */

/* A connector is a named implementation of a kind ("source", "embedder", "vector_store", "llm",
 * "workflow_step"…). Every kind speaks the same calling convention: an operation name and a JSON
 * input in, a JSON output appended to `output`. What operations a kind has is the kind's contract,
 * documented by the plugin that consumes it. May run concurrently on any thread. */
typedef int (*ph_connector_invoke)(void* user_data, ph_str operation, ph_str input_json,
                                   ph_buffer* output, ph_error* err);

typedef struct ph_connector {
  size_t struct_size;
  const char* kind;          /* e.g. "embedder" */
  const char* name;          /* unique within the kind across all plugins, e.g. "hashing" */
  const char* description;   /* may be NULL */
  const char* config_schema; /* JSON Schema (text) of its options; may be NULL */
  ph_connector_invoke invoke;
  void* user_data; /* owned by the registering plugin, must outlive its shutdown */
} ph_connector;

/* Receives one connector during `list_connectors`. Views are valid during the callback only. */
typedef void (*ph_connector_visitor)(void* ctx, ph_str kind, ph_str name, ph_str plugin,
                                     ph_str description);

/* Receives one name/value pair during an enumeration. Views are valid during the callback only. */
typedef void (*ph_pair_visitor)(void* ctx, ph_str name, ph_str value);

/* ---- Storage (since 1.1) ------------------------------------------------------------------- */

/* A prepared statement and a transaction on the host's database (SQLite or PostgreSQL). */
typedef struct ph_stmt ph_stmt;
typedef struct ph_txn ph_txn;

/* Column types reported by `stmt_column_type`. */
typedef enum ph_value_type {
  PH_VALUE_NULL = 0,
  PH_VALUE_INT64 = 1,
  PH_VALUE_DOUBLE = 2,
  PH_VALUE_TEXT = 3,
  PH_VALUE_BLOB = 4
} ph_value_type;

/* `stmt_step` results besides errors. */
#define PH_ROW 100
#define PH_DONE 101

/* One schema migration. Register them in order during init; the host applies the pending ones at
 * once, each in its own transaction, and records (plugin, name, checksum, applied_at) in its
 * ledger. Changing the SQL of an applied migration is a start-up error. */
typedef struct ph_migration {
  size_t struct_size;
  const char* name;         /* unique within the plugin, sortable: "0001_create_items" */
  const char* sql;          /* one or more statements, for every dialect */
  const char* sql_postgres; /* replaces `sql` on PostgreSQL when the dialects differ; may be NULL */
} ph_migration;

/* Receives one ledger row during `list_migrations`. Views are valid during the callback only. */
typedef void (*ph_migration_visitor)(void* ctx, ph_str plugin, ph_str name, ph_str checksum,
                                     ph_str applied_at);

/* ---- Tasks (since 1.1) ---------------------------------------------------------------------- */

/* What to run. `kind` is "plugin/task_name" (any plugin may enqueue any registered kind). */
typedef struct ph_task_request {
  size_t struct_size;
  const char* kind;
  const char* payload_json; /* NULL: "{}" */
  size_t payload_len;
  const char* idempotency_key; /* NULL: none; a second enqueue with the same key returns the
                                  first task's id and enqueues nothing */
  double delay_seconds;        /* run no earlier than now + delay */
  int max_attempts;            /* <= 0: the host default (3) */
  double timeout_seconds;      /* <= 0: the host default (tasks.default_timeout_seconds) */
} ph_task_request;

/* ---- Schedules (since 1.1) ------------------------------------------------------------------ */

/* A cron schedule that enqueues a task at each due time (once across all hosts). */
typedef struct ph_schedule {
  size_t struct_size;
  const char* name;         /* unique on the host; the plugin's name is a good prefix */
  const char* cron;         /* "m h dom mon dow" or @hourly, @daily, @weekly, @monthly, @yearly */
  const char* timezone;     /* IANA name, e.g. "Europe/Berlin"; NULL: UTC */
  const char* task_kind;    /* "plugin/task_name" */
  const char* payload_json; /* NULL: "{}" */
  /* since 1.6 */
  int payload_with_due; /* non-zero: the host adds "due" (the due time, Unix seconds, an integer)
                           to the payload of each task it enqueues, so a handler knows which run
                           it is; the payload must then be a JSON object */
} ph_schedule;

/* ---- Events (since 1.1) --------------------------------------------------------------------- */

/* Receives one event on the host's event thread. Must return quickly and must not block on
 * other events. Views are valid during the call only. */
typedef void (*ph_event_handler)(void* user_data, ph_str type, ph_str payload_json);

/* ---- Identity (since 1.2) ------------------------------------------------------------------ */

/* Principals are resolved by connectors of kind "authenticator" (operation "authenticate"),
 * consulted in the configured order of credentials (auth.order) and authenticators
 * (auth.authenticators). The host calls each with one credential the request carries:
 *   {"scheme":"session","cookies":{"<name>":"<value>",…},
 *    "remote_address":"…","user_agent":"…","method":"GET","path":"/api/…"}
 *   {"scheme":"bearer","credential":"<token after 'Bearer '>", …same context…}
 *   {"scheme":"api_key","credential":"<X-API-Key value>", …}
 * and the authenticator appends {"principal":null} (not mine / not valid) or
 *   {"principal":{"kind":"user","id":"7","name":"ann@example.com","roles":["editor"],
 *                 "permissions":[…optional, replaces the roles' permissions…],
 *                 "partial":false, …any other members, passed through…}}
 * The first principal found wins; none makes the request anonymous. A "partial" principal
 * (2FA pending) reaches only "public" routes.
 *
 * The principal a handler sees (request_principal) is that object plus
 *   "scheme" (session|bearer|api_key|none), "permissions" (resolved), "tenant" (X-Tenant-ID or
 *   "default") and "auth_enabled".
 * An anonymous request has {"kind":"anonymous","id":"","roles":[],"permissions":[]…}. */

/* Formats the body of an error the host itself answers on one of the plugin's routes (401, 403,
 * 405, 413, 429, 500), so that every error of a plugin's API has that API's envelope. `code` is
 * one of UNAUTHORIZED, FORBIDDEN, CSRF_FAILED, ORIGIN_NOT_ALLOWED, RATE_LIMITED,
 * METHOD_NOT_ALLOWED, PAYLOAD_TOO_LARGE, INTERNAL_ERROR; `detail` names the missing permission
 * or the refused origin (may be empty). Append a JSON body to `body` and return PH_OK; any other
 * return (or an empty body) makes the host use its own envelope. Runs on server threads. */
typedef int (*ph_error_formatter)(void* user_data, int status, const char* code, ph_str message,
                                  ph_str detail, ph_str trace_id, ph_buffer* body);

/* ---- Metrics (since 1.3) -------------------------------------------------------------------- */

/* A plugin's own Prometheus metric, rendered on GET /metrics with a `plugin` label added.
 * Counters only go up; gauges go up, down or are set; histograms count observations into
 * buckets (cumulative `_bucket{le=…}`, `_sum`, `_count`). */
typedef enum ph_metric_type {
  PH_METRIC_COUNTER = 0,
  PH_METRIC_GAUGE = 1,
  PH_METRIC_HISTOGRAM = 2
} ph_metric_type;

typedef struct ph_metric {
  size_t struct_size;
  int type;         /* ph_metric_type */
  const char* name; /* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "plughost_"; unique in
                     * the host (a counter's name should end in "_total") */
  const char* help; /* one line for # HELP; may be NULL */
  const char* const* label_names; /* `label_count` names, [a-zA-Z_][a-zA-Z0-9_]*, not "plugin",
                                   * "le" or "__…"; may be NULL when label_count is 0 */
  size_t label_count;
  const double* buckets; /* histogram upper bounds, strictly ascending (+Inf implicit);
                          * NULL: the host's latency buckets (0.0005 s … 5 s) */
  size_t bucket_count;
} ph_metric;

/* A registered metric; owned by the host, valid until the plugin's shutdown returns. */
typedef struct ph_metric_handle ph_metric_handle;

/* ---- Live config (since 1.4) ---------------------------------------------------------------- */

/* Applies a new `config:` block while the plugin serves: on SIGHUP, when the plugin's block in the
 * config file changed and is valid against its schema, the host calls this on its main thread
 * with the block as JSON text (NUL-terminated, `len` bytes). Handlers, tasks and events keep
 * running meanwhile, so the plugin swaps its settings in thread-safely. Return PH_OK once applied;
 * an error code with a message keeps the old block (the host logs it and reports it in /readyz).
 * Plugins that register none need a restart for a new block. */
typedef int (*ph_reconfigure_handler)(void* user_data, const char* config_json, size_t len,
                                      ph_error* err);

/* ---- The host API table --------------------------------------------------------------------- */

/* Handed to `init`; valid until `shutdown` returns. Every function pointer is non-NULL for the
 * members that fit in `struct_size`. */
typedef struct ph_host_api {
  size_t struct_size;
  uint32_t abi_major; /* the host's ABI version */
  uint32_t abi_minor;

  /* Registration: only during init; PH_ERR_WRONG_STATE otherwise. The host copies every field. */
  int (*register_route)(ph_host* host, const ph_route* route, ph_error* err);
  int (*register_task)(ph_host* host, const ph_task_kind* task, ph_error* err);
  int (*register_connector)(ph_host* host, const ph_connector* connector, ph_error* err);

  /* The plugin's validated `config:` block as JSON text, defaults from its schema applied.
   * The view lives as long as `host`. */
  ph_str (*config_json)(ph_host* host);
  /* Writes one log line attributed to the plugin. `request` may be NULL; when given the line
   * carries the request's trace id. */
  void (*log)(ph_host* host, ph_log_level level, const ph_request* request, const char* msg,
              size_t msg_len);

  /* Request accessors. Lookups take a name + length; header names are case-insensitive.
   * An absent item is a view with data == NULL. */
  ph_str (*request_method)(const ph_request* request);
  ph_str (*request_path)(const ph_request* request); /* decoded path, without the query */
  ph_str (*request_path_param)(const ph_request* request, const char* name, size_t name_len);
  ph_str (*request_query_param)(const ph_request* request, const char* name, size_t name_len);
  ph_str (*request_header)(const ph_request* request, const char* name, size_t name_len);
  ph_str (*request_cookie)(const ph_request* request, const char* name, size_t name_len);
  ph_str (*request_body)(const ph_request* request);
  ph_str (*request_remote_address)(const ph_request* request); /* IP literal, no port */
  ph_str (*request_trace_id)(const ph_request* request);
  /* Enumerations, in the order the client sent them; header names are lower-cased. */
  void (*request_each_query_param)(const ph_request* request, ph_pair_visitor visit, void* ctx);
  void (*request_each_header)(const ph_request* request, ph_pair_visitor visit, void* ctx);

  /* Response setters. The host copies every argument. Defaults: 200, no body. */
  void (*response_set_status)(ph_response* response, int status);
  void (*response_add_header)(ph_response* response, const char* name, size_t name_len,
                              const char* value, size_t value_len);
  void (*response_set_content_type)(ph_response* response, const char* type, size_t type_len);
  void (*response_set_body)(ph_response* response, const char* body, size_t body_len);

  /* Buffers handed to task and connector callbacks. */
  void (*buffer_append)(ph_buffer* buffer, const char* data, size_t len);

  /* Connectors registered by any plugin. `invoke_connector` calls the named connector and
   * appends its JSON output to `output` (obtain one with `buffer_new`). */
  void (*list_connectors)(ph_host* host, const char* kind, ph_connector_visitor visit, void* ctx);
  int (*invoke_connector)(ph_host* host, const char* kind, const char* name, ph_str operation,
                          ph_str input_json, ph_buffer* output, ph_error* err);
  ph_buffer* (*buffer_new)(ph_host* host);
  ph_str (*buffer_view)(const ph_buffer* buffer); /* valid until the next append or free */
  void (*buffer_free)(ph_buffer* buffer);

  /* since 1.1: storage. Statements outside a transaction (txn == NULL) hold a pooled session
   * until finalized: finalize promptly. Parameters are named `:name` in the SQL and bound
   * without the colon. Text is UTF-8; views returned by column getters are valid until the next
   * step or finalize. A transaction belongs to one thread at a time. */
  ph_str (*storage_dialect)(ph_host* host); /* "sqlite" or "postgresql" */
  int (*register_migration)(ph_host* host, const ph_migration* migration, ph_error* err);
  void (*list_migrations)(ph_host* host, ph_migration_visitor visit, void* ctx);
  int (*txn_begin)(ph_host* host, ph_txn** out, ph_error* err);
  int (*txn_commit)(ph_txn* txn, ph_error* err); /* frees txn, whatever the result */
  void (*txn_rollback)(ph_txn* txn);             /* frees txn */
  int (*stmt_prepare)(ph_host* host, ph_txn* txn, const char* sql, size_t sql_len, ph_stmt** out,
                      ph_error* err);
  int (*stmt_bind_null)(ph_stmt* stmt, const char* name);
  int (*stmt_bind_int64)(ph_stmt* stmt, const char* name, int64_t value);
  int (*stmt_bind_double)(ph_stmt* stmt, const char* name, double value);
  int (*stmt_bind_text)(ph_stmt* stmt, const char* name, const char* data, size_t len);
  int (*stmt_bind_blob)(ph_stmt* stmt, const char* name, const void* data, size_t len);
  int (*stmt_step)(ph_stmt* stmt, ph_error* err); /* PH_ROW, PH_DONE or an error code */
  int (*stmt_column_count)(const ph_stmt* stmt);
  ph_str (*stmt_column_name)(const ph_stmt* stmt, int column);
  int (*stmt_column_type)(const ph_stmt* stmt, int column); /* ph_value_type */
  int64_t (*stmt_column_int64)(const ph_stmt* stmt, int column);
  double (*stmt_column_double)(const ph_stmt* stmt, int column);
  ph_str (*stmt_column_bytes)(const ph_stmt* stmt, int column); /* text or blob */
  int64_t (*stmt_affected_rows)(const ph_stmt* stmt);           /* valid after PH_DONE */
  void (*stmt_finalize)(ph_stmt* stmt);

  /* since 1.1: tasks. Task JSON: {"id","kind","status","progress","attempts","max_attempts",
   * "payload","result","error","log":[…],"node","created_at","started_at","finished_at"}; status
   * is queued, running, succeeded, failed, cancelled or timed_out. */
  /* During init a plugin may enqueue the kinds it registered earlier in that init; they run
   * once its init succeeded. */
  int (*task_enqueue)(ph_host* host, const ph_task_request* request, int64_t* id_out,
                      ph_error* err);
  int (*task_get)(ph_host* host, int64_t id, ph_buffer* json_out, ph_error* err);
  /* `filter_json`: {"kind":"plugin/name","status":"running","limit":50,"offset":0}, each
   * optional; appends a JSON array, newest first. */
  int (*task_list)(ph_host* host, const char* filter_json, ph_buffer* json_out, ph_error* err);
  int (*task_cancel)(ph_host* host, int64_t id, ph_error* err);
  /* Inside a task handler, on the worker thread running it. */
  int64_t (*task_id)(ph_task_context* task);
  ph_str (*task_payload)(ph_task_context* task);
  int (*task_attempt)(ph_task_context* task); /* 1 for the first run */
  void (*task_set_progress)(ph_task_context* task, int percent);
  void (*task_log)(ph_task_context* task, const char* line, size_t len);
  /* Non-zero: cancel requested, timed out, or the host is shutting down. A handler that stops
   * early because of it must return an error, not PH_OK (PH_OK means the work is done; on
   * shutdown an unfinished task is handed back to run again). */
  int (*task_cancelled)(ph_task_context* task);
  void (*task_set_result)(ph_task_context* task, const char* json, size_t len);

  /* since 1.1: events. Types are dotted or underscored names ("sync_finished"); patterns may use
   * `*`. `persist` stores the event (needs storage) and, on PostgreSQL, delivers it to the
   * subscribers of every host on the database. Subscriptions are made during init and end at
   * shutdown. The host itself publishes "task.succeeded", "task.failed", "task.cancelled" and
   * "task.timed_out" with the task JSON as payload. */
  int (*event_publish)(ph_host* host, const char* type, const char* payload_json, size_t len,
                       int persist, ph_error* err);
  int (*event_subscribe)(ph_host* host, const char* pattern, ph_event_handler handler,
                         void* user_data, ph_error* err);

  /* since 1.1: schedules. Register during init (1.6 adds `schedules_replace` for later).
   * `schedule_get` appends {"name","cron","timezone","task","owner","next_run","last_run"}
   * (ISO-8601 UTC or null); hosts of 1.6 and later add "payload" (the JSON object or value) and
   * "payload_with_due" (bool). */
  int (*register_schedule)(ph_host* host, const ph_schedule* schedule, ph_error* err);
  int (*schedule_get)(ph_host* host, const char* name, ph_buffer* json_out, ph_error* err);

  /* since 1.2: identity. The principal JSON is described under "Identity" above; the view is
   * valid while the handler runs. `request_has_permission` applies the same rule as the route
   * check (wildcards included): non-zero when granted. */
  ph_str (*request_principal)(const ph_request* request);
  int (*request_has_permission)(const ph_request* request, const char* permission);
  ph_str (*request_tenant)(const ph_request* request); /* X-Tenant-ID, or "default" */
  /* {"enabled":true,"csrf_cookie":"csrftoken","csrf_header":"X-CSRFToken",
   *  "roles":{"admin":["*"],"editor":[…],"viewer":[…]}}; lives as long as host */
  ph_str (*auth_settings)(ph_host* host);
  /* Only during init; one per plugin. */
  int (*register_error_formatter)(ph_host* host, ph_error_formatter formatter, void* user_data,
                                  ph_error* err);

  /* since 1.2: the host describing itself (for tools such as Studio), appended to `json_out` as
   * JSON. `what` is one of:
   *   "host"        {"name","version","abi","compiler","config_file","node","started_at"}
   *   "plugins"     [{"name","version","status","stability","abi","description","error"}]
   *   "routes"      [{"method","path","plugin","permission","rate_class","summary"}]
   *   "settings"    the effective configuration; secret-like values replaced by "***"
   *   "storage"     {"connected","dialect","pool_size","pool_available","latency_ms",
   *                  "last_error"}, measured now with one round trip
   *   "migrations"  [{"plugin","name","checksum","applied","applied_at"}]: every migration
   *                 registered this run and every row of the ledger (applied_at null: pending)
   *   "openapi"     the OpenAPI 3.0 document of every route committed so far (the same text
   *                 as GET /openapi.json once all plugins are initialised). Added after 1.2
   *                 shipped: a host that predates it answers PH_ERR_NOT_FOUND.
   * PH_ERR_NOT_FOUND for any other `what`. */
  int (*host_describe)(ph_host* host, const char* what, ph_buffer* json_out, ph_error* err);

  /* since 1.3: metrics. Register during init (PH_ERR_WRONG_STATE otherwise; PH_ERR_CONFLICT when
   * the name is taken, PH_ERR_INVALID_ARGUMENT for a bad name, label or bucket list). Updates are
   * thread-safe and cheap; `label_values` holds one value per label name, in order (a call with
   * another count is ignored). A metric keeps at most 1000 label combinations; updates to further
   * ones are dropped and counted in plughost_plugin_metric_series_dropped_total. Calls that do
   * not fit the type (observe on a counter, a negative counter increment) are ignored. */
  int (*register_metric)(ph_host* host, const ph_metric* metric, ph_metric_handle** out,
                         ph_error* err);
  void (*metric_add)(ph_metric_handle* metric, const ph_str* label_values, size_t count,
                     double delta); /* counter (delta >= 0) or gauge */
  void (*metric_set)(ph_metric_handle* metric, const ph_str* label_values, size_t count,
                     double value); /* gauge */
  void (*metric_observe)(ph_metric_handle* metric, const ph_str* label_values, size_t count,
                         double value); /* histogram */

  /* since 1.4: live config. Only during init, once per plugin (PH_ERR_CONFLICT for a second). */
  int (*register_reconfigure_handler)(ph_host* host, ph_reconfigure_handler handler,
                                      void* user_data, ph_error* err);

  /* since 1.6: schedules at run time. Replaces, as one set, every schedule the calling plugin
   * owns (registered during init or set by an earlier call) with `schedules[0..count)`; count 0
   * removes them all. All or nothing: on any problem nothing changes, the previous set keeps
   * running and the message names the schedule — PH_ERR_INVALID_ARGUMENT for a bad name, cron,
   * time zone or payload, or a task kind no plugin registered; PH_ERR_CONFLICT for a name given
   * twice or owned by another plugin or the config file. Legal during init (task kinds the plugin
   * registered earlier in that init count) and at any time after, from any thread. A schedule
   * whose definition did not change keeps its next due time. Each due time still enqueues once
   * across all hosts (idempotency key "schedule:<name>:<due>"); every host runs its own copy of
   * the set, so a plugin calls this on each host (e.g. when it sees its definitions change). */
  int (*schedules_replace)(ph_host* host, const ph_schedule* const* schedules, size_t count,
                           ph_error* err);
} ph_host_api;

/* ---- The plugin descriptor ------------------------------------------------------------------ */

/* Called once on the main thread. Register routes, tasks and connectors through `api`; keep `api`
 * and `host` for later calls. Store per-plugin state in `*state`; it is passed to `shutdown`.
 * Return PH_OK, or an error code with a message: the host then disables the plugin. */
typedef int (*ph_init_fn)(const ph_host_api* api, ph_host* host, void** state, ph_error* err);

/* Called once on the main thread after the server stopped and before the library is unloaded,
 * only for plugins whose init succeeded. Must release everything the plugin allocated. */
typedef void (*ph_shutdown_fn)(void* state);

typedef struct ph_plugin_descriptor {
  size_t struct_size;
  uint32_t abi_major; /* PH_ABI_MAJOR / PH_ABI_MINOR the plugin was built against */
  uint32_t abi_minor;
  const char* name;          /* [a-z0-9_-]+, matches the key under `plugins:` in the config */
  const char* version;       /* semver, e.g. "1.2.0" */
  const char* description;   /* one line */
  const char* status;        /* "stable", "beta" or "experimental" */
  const char* config_schema; /* JSON Schema (draft-04) of the `config:` block; may be NULL */
  ph_init_fn init;
  ph_shutdown_fn shutdown;
} ph_plugin_descriptor;

/* The exported entry point. Returns a pointer to static storage in the plugin, valid until the
 * library is unloaded. Must not allocate, throw or have side effects. */
typedef const ph_plugin_descriptor* (*ph_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* PLUGHOST_ABI_H */
