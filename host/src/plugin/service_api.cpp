#include "plugin/service_api.hpp"

#include <rapidjson/document.h>

#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "events/event_bus.hpp"
#include "plugin/abi_support.hpp"
#include "plugin/loader.hpp"
#include "scheduler/scheduler.hpp"
#include "storage/migrations.hpp"
#include "storage/statement.hpp"
#include "tasks/task_queue.hpp"

struct ph_txn {
  std::unique_ptr<plughost::Transaction> txn;
};

struct ph_stmt {
  std::unique_ptr<plughost::Statement> stmt;
  std::string column_name;  // keeps column_name() views alive
};

namespace plughost {
namespace {

using abi::kAbsent;
using abi::set_error;
using abi::view;

// Runs `f`, turning exceptions into an error code and message.
template <typename F>
int guarded(ph_error* err, F&& f) {
  try {
    return f();
  } catch (const std::invalid_argument& e) {
    set_error(err, e.what());
    return PH_ERR_INVALID_ARGUMENT;
  } catch (const std::exception& e) {
    set_error(err, e.what());
    return PH_ERR_INTERNAL;
  }
}

Database* database(ph_host* host, ph_error* err) {
  if (!host || !host->services || !host->services->db) {
    set_error(err, "storage is not available on this host");
    return nullptr;
  }
  return host->services->db;
}

// ---- storage -------------------------------------------------------------------------------

ph_str storage_dialect(ph_host* host) {
  if (!host || !host->services || !host->services->db) return kAbsent;
  return view(dialect_name(host->services->db->dialect()));
}

int register_migration(ph_host* host, const ph_migration* m, ph_error* err) {
  if (!host || !host->registering) {
    set_error(err, "migrations are registered during init");
    return PH_ERR_WRONG_STATE;
  }
  if (!m || m->struct_size < sizeof(ph_migration) || !m->name || !*m->name || !m->sql) {
    set_error(err, "migration needs struct_size, name and sql");
    return PH_ERR_INVALID_ARGUMENT;
  }
  if (host->services && host->services->dry_run && !host->services->db) return PH_OK;
  Database* db = database(host, err);
  if (!db) return PH_ERR_UNSUPPORTED;
  std::string sql =
      (db->dialect() == Dialect::kPostgres && m->sql_postgres) ? m->sql_postgres : m->sql;
  const std::string& plugin = host->record->name;
  return guarded(err, [&] {
    if (host->services->dry_run) {
      for (const auto& row : read_ledger(*db)) {
        if (row.plugin == plugin && row.name == m->name &&
            row.checksum != migration_checksum(sql)) {
          std::string msg = "migration " + plugin + "/" + m->name +
                            " changed after it was applied; add a new migration instead";
          host->services->fatal.push_back(msg);
          set_error(err, msg);
          return static_cast<int>(PH_ERR_CONFLICT);
        }
      }
      return static_cast<int>(PH_OK);
    }
    auto& registered = host->services->migrations;
    registered.push_back({plugin, m->name, migration_checksum(sql), false});
    size_t index = registered.size() - 1;  // stays false when applying throws
    MigrationResult r = apply_migration(*db, plugin, m->name, sql);
    registered[index].applied = r.outcome != MigrationOutcome::kChecksumMismatch;
    if (r.outcome == MigrationOutcome::kChecksumMismatch) {
      host->services->fatal.push_back(r.message);
      set_error(err, r.message);
      return static_cast<int>(PH_ERR_CONFLICT);
    }
    if (r.outcome == MigrationOutcome::kApplied) {
      host->set->log().info("storage", "migration applied",
                            {{"plugin", plugin}, {"migration", m->name}});
    }
    return static_cast<int>(PH_OK);
  });
}

void list_migrations(ph_host* host, ph_migration_visitor visit, void* ctx) {
  Database* db = database(host, nullptr);
  if (!db || !visit) return;
  try {
    for (const auto& row : read_ledger(*db)) {
      visit(ctx, view(row.plugin), view(row.name), view(row.checksum), view(row.applied_at));
    }
  } catch (const std::exception& e) {
    host->set->log().warn("storage", "cannot read the migration ledger", {{"error", e.what()}});
  }
}

int txn_begin(ph_host* host, ph_txn** out, ph_error* err) {
  Database* db = database(host, err);
  if (!db) return PH_ERR_UNSUPPORTED;
  return guarded(err, [&] {
    *out = new ph_txn{std::make_unique<Transaction>(*db)};
    return static_cast<int>(PH_OK);
  });
}

int txn_commit(ph_txn* txn, ph_error* err) {
  std::unique_ptr<ph_txn> owned(txn);
  return guarded(err, [&] {
    owned->txn->commit();
    return static_cast<int>(PH_OK);
  });
}

void txn_rollback(ph_txn* txn) {
  std::unique_ptr<ph_txn> owned(txn);
  try {
    owned->txn->rollback();
  } catch (...) {
    // The session goes back to the pool either way.
  }
}

int stmt_prepare(ph_host* host, ph_txn* txn, const char* sql, size_t len, ph_stmt** out,
                 ph_error* err) {
  Database* db = database(host, err);
  if (!db) return PH_ERR_UNSUPPORTED;
  if (!sql || !out) {
    set_error(err, "stmt_prepare needs sql and out");
    return PH_ERR_INVALID_ARGUMENT;
  }
  return guarded(err, [&] {
    std::string_view text(sql, len);
    auto stmt =
        txn ? std::make_unique<Statement>(*txn->txn, text) : std::make_unique<Statement>(*db, text);
    *out = new ph_stmt{std::move(stmt), {}};
    return static_cast<int>(PH_OK);
  });
}

int bind(ph_stmt* s, const char* name, Value v) {
  if (!s || !name) return PH_ERR_INVALID_ARGUMENT;
  try {
    s->stmt->bind(name[0] == ':' ? name + 1 : name, std::move(v));
    return PH_OK;
  } catch (const std::exception&) {
    return PH_ERR_NOT_FOUND;
  }
}

int stmt_bind_null(ph_stmt* s, const char* name) {
  return bind(s, name, Value());
}
int stmt_bind_int64(ph_stmt* s, const char* name, int64_t i) {
  return bind(s, name, Value::integer(i));
}
int stmt_bind_double(ph_stmt* s, const char* name, double d) {
  return bind(s, name, Value::real(d));
}
int stmt_bind_text(ph_stmt* s, const char* name, const char* data, size_t len) {
  return bind(s, name, Value::text(data ? std::string(data, len) : std::string()));
}
int stmt_bind_blob(ph_stmt* s, const char* name, const void* data, size_t len) {
  return bind(s, name,
              Value::blob(data ? std::string(static_cast<const char*>(data), len) : std::string()));
}

int stmt_step(ph_stmt* s, ph_error* err) {
  if (!s) return PH_ERR_INVALID_ARGUMENT;
  return guarded(err, [&] { return s->stmt->step() ? PH_ROW : PH_DONE; });
}

int stmt_column_count(const ph_stmt* s) {
  return s ? s->stmt->column_count() : 0;
}
ph_str stmt_column_name(const ph_stmt* s, int col) {
  if (!s || col < 0 || col >= s->stmt->column_count()) return kAbsent;
  auto* m = const_cast<ph_stmt*>(s);
  m->column_name = s->stmt->column_name(col);
  return view(m->column_name);
}
bool valid_column(const ph_stmt* s, int col) {
  return s && col >= 0 && col < s->stmt->column_count();
}
int stmt_column_type(const ph_stmt* s, int col) {
  return valid_column(s, col) ? static_cast<int>(s->stmt->column_type(col)) : PH_VALUE_NULL;
}
int64_t stmt_column_int64(const ph_stmt* s, int col) {
  return valid_column(s, col) ? s->stmt->column_int64(col) : 0;
}
double stmt_column_double(const ph_stmt* s, int col) {
  return valid_column(s, col) ? s->stmt->column_double(col) : 0;
}
ph_str stmt_column_bytes(const ph_stmt* s, int col) {
  if (!valid_column(s, col) || s->stmt->column_type(col) == ValueType::kNull) return kAbsent;
  return view(s->stmt->column_bytes(col));
}
int64_t stmt_affected_rows(const ph_stmt* s) {
  return s ? s->stmt->affected_rows() : 0;
}
void stmt_finalize(ph_stmt* s) {
  delete s;
}

// ---- tasks ---------------------------------------------------------------------------------

TaskQueue* queue(ph_host* host, ph_error* err) {
  if (!host || !host->services || !host->services->tasks) {
    set_error(err, "the task queue is not running on this host");
    return nullptr;
  }
  return host->services->tasks;
}

int task_enqueue(ph_host* host, const ph_task_request* r, int64_t* id_out, ph_error* err) {
  TaskQueue* q = queue(host, err);
  if (!q) return PH_ERR_UNSUPPORTED;
  if (!r || r->struct_size < sizeof(ph_task_request) || !r->kind) {
    set_error(err, "task request needs struct_size and kind");
    return PH_ERR_INVALID_ARGUMENT;
  }
  return guarded(err, [&] {
    EnqueueRequest req;
    req.kind = r->kind;
    if (r->payload_json) req.payload_json.assign(r->payload_json, r->payload_len);
    if (r->idempotency_key) req.idempotency_key = r->idempotency_key;
    req.delay_seconds = r->delay_seconds;
    req.max_attempts = r->max_attempts;
    req.timeout_seconds = r->timeout_seconds;
    if (host->registering) {  // its own kinds, registered earlier in this init
      for (const auto& t : host->pending.tasks) {
        if (req.kind == t.plugin + "/" + t.name) req.kind_known = true;
      }
    }
    int64_t id = q->enqueue(req);
    if (id_out) *id_out = id;
    return static_cast<int>(PH_OK);
  });
}

int task_get(ph_host* host, int64_t id, ph_buffer* out, ph_error* err) {
  TaskQueue* q = queue(host, err);
  if (!q) return PH_ERR_UNSUPPORTED;
  return guarded(err, [&] {
    auto json = q->get_json(id);
    if (!json) {
      set_error(err, "no task " + std::to_string(id));
      return static_cast<int>(PH_ERR_NOT_FOUND);
    }
    out->data += *json;
    return static_cast<int>(PH_OK);
  });
}

int task_list(ph_host* host, const char* filter_json, ph_buffer* out, ph_error* err) {
  TaskQueue* q = queue(host, err);
  if (!q) return PH_ERR_UNSUPPORTED;
  return guarded(err, [&] {
    TaskFilter f;
    if (filter_json && *filter_json) {
      rapidjson::Document d;
      if (d.Parse(filter_json).HasParseError() || !d.IsObject()) {
        throw std::invalid_argument("task filter is not a JSON object");
      }
      if (d.HasMember("kind") && d["kind"].IsString()) f.kind = d["kind"].GetString();
      if (d.HasMember("status") && d["status"].IsString()) f.status = d["status"].GetString();
      if (d.HasMember("limit") && d["limit"].IsInt64()) f.limit = d["limit"].GetInt64();
      if (d.HasMember("offset") && d["offset"].IsInt64()) f.offset = d["offset"].GetInt64();
    }
    out->data += q->list_json(f);
    return static_cast<int>(PH_OK);
  });
}

int task_cancel(ph_host* host, int64_t id, ph_error* err) {
  TaskQueue* q = queue(host, err);
  if (!q) return PH_ERR_UNSUPPORTED;
  return guarded(err, [&] {
    if (q->cancel(id)) return static_cast<int>(PH_OK);
    set_error(err, "task " + std::to_string(id) + " does not exist or already finished");
    return static_cast<int>(PH_ERR_NOT_FOUND);
  });
}

int64_t task_id(ph_task_context* t) {
  return t ? t->id : 0;
}
ph_str task_payload(ph_task_context* t) {
  return t ? view(t->payload) : kAbsent;
}
int task_attempt(ph_task_context* t) {
  return t ? t->attempt : 0;
}
void task_set_progress(ph_task_context* t, int percent) {
  if (!t) return;
  try {
    t->queue->report_progress(*t, percent);
  } catch (...) {
    // Progress is advisory; a failed write must not fail the task.
  }
}
void task_log(ph_task_context* t, const char* line, size_t len) {
  if (!t || !line) return;
  try {
    t->queue->append_log(*t, std::string(line, len));
  } catch (...) {
    // As above: logging never fails the task.
  }
}
int task_cancelled(ph_task_context* t) {
  return t && (t->cancel_requested || t->timed_out || t->shutdown) ? 1 : 0;
}
void task_set_result(ph_task_context* t, const char* json, size_t len) {
  if (!t) return;
  std::lock_guard<std::mutex> lock(t->mu);
  t->result.assign(json ? json : "", json ? len : 0);
}

// ---- events --------------------------------------------------------------------------------

int event_publish(ph_host* host, const char* type, const char* payload, size_t len, int persist,
                  ph_error* err) {
  if (!host || !host->services || !host->services->events) {
    set_error(err, "events are not available on this host");
    return PH_ERR_UNSUPPORTED;
  }
  if (!type || !*type) {
    set_error(err, "event type is required");
    return PH_ERR_INVALID_ARGUMENT;
  }
  std::string body = payload ? std::string(payload, len) : "{}";
  rapidjson::Document d;
  if (d.Parse(body.c_str(), body.size()).HasParseError()) {
    set_error(err, "event payload is not valid JSON");
    return PH_ERR_INVALID_ARGUMENT;
  }
  return guarded(err, [&] {
    host->services->events->publish(type, body, persist != 0);
    return static_cast<int>(PH_OK);
  });
}

int event_subscribe(ph_host* host, const char* pattern, ph_event_handler handler, void* ud,
                    ph_error* err) {
  if (!host || !host->registering) {
    set_error(err, "subscriptions are made during init");
    return PH_ERR_WRONG_STATE;
  }
  if (!pattern || !*pattern || !handler) {
    set_error(err, "subscription needs a pattern and a handler");
    return PH_ERR_INVALID_ARGUMENT;
  }
  if (!host->services || !host->services->events) return PH_OK;  // inspecting verbs
  uint64_t id = host->services->events->subscribe(
      pattern, [handler, ud](const Event& e) { handler(ud, view(e.type), view(e.payload_json)); });
  host->subscriptions.push_back(id);
  return PH_OK;
}

// ---- schedules -------------------------------------------------------------------------------

// ph_schedule as 1.1 defined it; 1.6 appended payload_with_due.
constexpr size_t kSchedule11Size = offsetof(ph_schedule, payload_json) + sizeof(const char*);

// Checks one ph_schedule (of any minor) and copies it; "" or the problem.
std::string schedule_spec(ph_host* host, const ph_schedule* s, ScheduleSpec& out) {
  if (!s || s->struct_size < kSchedule11Size || !s->name || !s->cron || !s->task_kind) {
    return "schedule needs struct_size, name, cron and task_kind";
  }
  out = ScheduleSpec{s->name,
                     s->cron,
                     s->timezone ? s->timezone : "",
                     s->task_kind,
                     s->payload_json ? s->payload_json : "{}",
                     host->record->name};
  if (s->struct_size >= offsetof(ph_schedule, payload_with_due) + sizeof(s->payload_with_due)) {
    out.payload_with_due = s->payload_with_due != 0;
  }
  return {};
}

// Whether some plugin runs `kind`: committed registrations, or (during init) the caller's own.
bool task_kind_known(ph_host* host, const std::string& kind) {
  for (const auto& t : host->registry->tasks()) {
    if (kind == t.plugin + "/" + t.name) return true;
  }
  if (host->registering) {
    for (const auto& t : host->pending.tasks) {
      if (kind == t.plugin + "/" + t.name) return true;
    }
  }
  return false;
}

int register_schedule(ph_host* host, const ph_schedule* s, ph_error* err) {
  if (!host || !host->registering) {
    set_error(err, "schedules are registered during init");
    return PH_ERR_WRONG_STATE;
  }
  ScheduleSpec spec;
  std::string bad = schedule_spec(host, s, spec);
  if (!bad.empty()) {
    set_error(err, bad);
    return PH_ERR_INVALID_ARGUMENT;
  }
  if (!host->services || !host->services->scheduler) return PH_OK;  // inspecting verbs
  std::string problem = host->services->scheduler->add(spec);
  if (!problem.empty()) {
    set_error(err, problem);
    return PH_ERR_INVALID_ARGUMENT;
  }
  return PH_OK;
}

int schedules_replace(ph_host* host, const ph_schedule* const* schedules, size_t count,
                      ph_error* err) {
  if (!host || !host->record || (count > 0 && !schedules)) {
    set_error(err, "schedules_replace needs a host and, when count > 0, a list");
    return PH_ERR_INVALID_ARGUMENT;
  }
  std::vector<ScheduleSpec> specs(count);
  for (size_t i = 0; i < count; ++i) {
    std::string bad = schedule_spec(host, schedules[i], specs[i]);
    if (!bad.empty()) {
      set_error(err, "schedules[" + std::to_string(i) + "]: " + bad);
      return PH_ERR_INVALID_ARGUMENT;
    }
  }
  if (!host->services || !host->services->scheduler) return PH_OK;  // inspecting verbs
  return guarded(err, [&] {
    for (const auto& spec : specs) {
      if (!task_kind_known(host, spec.task)) {
        set_error(err,
                  "schedule \"" + spec.name + "\": no plugin has task kind \"" + spec.task + "\"");
        return static_cast<int>(PH_ERR_INVALID_ARGUMENT);
      }
    }
    bool conflict = false;
    std::string problem =
        host->services->scheduler->replace_owned_by(host->record->name, specs, &conflict);
    if (!problem.empty()) {
      set_error(err, problem);
      return static_cast<int>(conflict ? PH_ERR_CONFLICT : PH_ERR_INVALID_ARGUMENT);
    }
    return static_cast<int>(PH_OK);
  });
}

int schedule_get(ph_host* host, const char* name, ph_buffer* out, ph_error* err) {
  if (!host || !host->services || !host->services->scheduler || !name || !out) {
    set_error(err, "schedules are not available on this host");
    return PH_ERR_UNSUPPORTED;
  }
  return guarded(err, [&] {
    auto json = host->services->scheduler->describe(name);
    if (!json) {
      set_error(err, std::string("no schedule ") + name);
      return static_cast<int>(PH_ERR_NOT_FOUND);
    }
    out->data += *json;
    return static_cast<int>(PH_OK);
  });
}

}  // namespace

void fill_service_api(ph_host_api& t) {
  t.register_schedule = register_schedule;
  t.schedule_get = schedule_get;
  t.schedules_replace = schedules_replace;
  t.event_publish = event_publish;
  t.event_subscribe = event_subscribe;
  t.storage_dialect = storage_dialect;
  t.register_migration = register_migration;
  t.list_migrations = list_migrations;
  t.txn_begin = txn_begin;
  t.txn_commit = txn_commit;
  t.txn_rollback = txn_rollback;
  t.stmt_prepare = stmt_prepare;
  t.stmt_bind_null = stmt_bind_null;
  t.stmt_bind_int64 = stmt_bind_int64;
  t.stmt_bind_double = stmt_bind_double;
  t.stmt_bind_text = stmt_bind_text;
  t.stmt_bind_blob = stmt_bind_blob;
  t.stmt_step = stmt_step;
  t.stmt_column_count = stmt_column_count;
  t.stmt_column_name = stmt_column_name;
  t.stmt_column_type = stmt_column_type;
  t.stmt_column_int64 = stmt_column_int64;
  t.stmt_column_double = stmt_column_double;
  t.stmt_column_bytes = stmt_column_bytes;
  t.stmt_affected_rows = stmt_affected_rows;
  t.stmt_finalize = stmt_finalize;
  t.task_enqueue = task_enqueue;
  t.task_get = task_get;
  t.task_list = task_list;
  t.task_cancel = task_cancel;
  t.task_id = task_id;
  t.task_payload = task_payload;
  t.task_attempt = task_attempt;
  t.task_set_progress = task_set_progress;
  t.task_log = task_log;
  t.task_cancelled = task_cancelled;
  t.task_set_result = task_set_result;
}

}  // namespace plughost
