#include "sync.hpp"

#include <algorithm>

#include "bulk_load.hpp"
#include "governance.hpp"
#include "http_json_source.hpp"
#include "ops_migration.hpp"
#include "replies.hpp"
#include "sql_source.hpp"
#include "time_text.hpp"

namespace dango {

namespace {

constexpr const char* kRunColumns =
    "id, source, job_id, status, full_refresh, triggered_by, task_id, started_at, finished_at, "
    "duration_ms, rows_loaded, rows_deleted, error";

SyncRun read_run(const sdk::Statement& st) {
  SyncRun r;
  r.id = st.int64(0);
  r.source = st.text(1);
  if (!st.is_null(2)) r.job_id = st.int64(2);
  r.status = st.text(3);
  r.full_refresh = st.int64(4) != 0;
  r.triggered_by = st.text(5);
  if (!st.is_null(6)) r.task_id = st.int64(6);
  r.started_at = st.text(7);
  r.finished_at = st.maybe_text(8);
  if (!st.is_null(9)) r.duration_ms = st.int64(9);
  r.rows_loaded = st.int64(10);
  r.rows_deleted = st.int64(11);
  r.error = st.maybe_text(12);
  return r;
}

std::string str_member(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}
bool bool_member(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

std::string describe_errors(const std::vector<InputError>& errors) {
  std::string text = std::to_string(errors.size()) + " malformed input line(s); nothing loaded";
  for (size_t i = 0; i < errors.size() && i < 5; ++i) {
    const auto& e = errors[i];
    text += (i ? "; " : ": ") + e.file + (e.line ? ":" + std::to_string(e.line) : "") + ": " +
            e.message;
  }
  return text;
}

}  // namespace

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> list = {
      {"0001_sync_history",
       "CREATE TABLE dango_sync_jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, sources TEXT NOT NULL,"
       " full_refresh INTEGER NOT NULL, created_at TEXT NOT NULL);"
       "CREATE TABLE dango_sync_runs (id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL,"
       " job_id INTEGER, status TEXT NOT NULL, full_refresh INTEGER NOT NULL,"
       " triggered_by TEXT NOT NULL, task_id INTEGER, started_at TEXT NOT NULL, finished_at TEXT,"
       " duration_ms INTEGER, rows_loaded INTEGER NOT NULL DEFAULT 0,"
       " rows_deleted INTEGER NOT NULL DEFAULT 0, error TEXT);"
       "CREATE INDEX dango_sync_runs_source ON dango_sync_runs (source, id);"
       "CREATE INDEX dango_sync_runs_job ON dango_sync_runs (job_id);"
       "CREATE UNIQUE INDEX dango_sync_runs_one_running ON dango_sync_runs (source)"
       " WHERE status = 'running';"
       "CREATE TABLE dango_logs (id INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL,"
       " source TEXT, level TEXT NOT NULL, event TEXT NOT NULL, message TEXT NOT NULL,"
       " run_id INTEGER);"
       "CREATE INDEX dango_logs_source ON dango_logs (source, id);",
       "CREATE TABLE dango_sync_jobs (id BIGSERIAL PRIMARY KEY, sources TEXT NOT NULL,"
       " full_refresh INTEGER NOT NULL, created_at TEXT NOT NULL);"
       "CREATE TABLE dango_sync_runs (id BIGSERIAL PRIMARY KEY, source TEXT NOT NULL,"
       " job_id BIGINT, status TEXT NOT NULL, full_refresh INTEGER NOT NULL,"
       " triggered_by TEXT NOT NULL, task_id BIGINT, started_at TEXT NOT NULL, finished_at TEXT,"
       " duration_ms BIGINT, rows_loaded BIGINT NOT NULL DEFAULT 0,"
       " rows_deleted BIGINT NOT NULL DEFAULT 0, error TEXT);"
       "CREATE INDEX dango_sync_runs_source ON dango_sync_runs (source, id);"
       "CREATE INDEX dango_sync_runs_job ON dango_sync_runs (job_id);"
       "CREATE UNIQUE INDEX dango_sync_runs_one_running ON dango_sync_runs (source)"
       " WHERE status = 'running';"
       "CREATE TABLE dango_logs (id BIGSERIAL PRIMARY KEY, ts TEXT NOT NULL,"
       " source TEXT, level TEXT NOT NULL, event TEXT NOT NULL, message TEXT NOT NULL,"
       " run_id BIGINT);"
       "CREATE INDEX dango_logs_source ON dango_logs (source, id);"},
      catalog_migration(),
      {"0004_ops", kOpsMigrationSqlite, kOpsMigrationPostgres},
  };
  return list;
}

std::optional<SyncRun> SyncEngine::start(const SourceConfig& source, const SyncOptions& options,
                                         const std::string& triggered_by,
                                         std::optional<int64_t> job_id) {
  std::optional<SyncRun> inserted;
  for (int attempt = 0; attempt < 2 && !inserted; ++attempt) {
    try {
      auto st = host_.sql(
          "INSERT INTO dango_sync_runs (source, job_id, status, full_refresh, triggered_by,"
          " started_at) VALUES (:source, :job, 'running', :full, :by, :at) RETURNING id");
      SyncRun run;
      run.source = source.name;
      run.job_id = job_id;
      run.status = "running";
      run.full_refresh = options.full_refresh;
      run.triggered_by = triggered_by;
      run.started_at = iso_utc_now();
      st.bind("source", run.source)
          .bind("job", job_id)
          .bind("full", static_cast<int64_t>(options.full_refresh))
          .bind("by", triggered_by)
          .bind("at", run.started_at);
      if (!st.step()) throw sdk::Error(PH_ERR_INTERNAL, "INSERT … RETURNING gave no id");
      run.id = st.int64(0);
      inserted = run;
    } catch (const sdk::Error&) {
      // The unique index on running runs refused it. A live holder means 409; a dead one was
      // just closed by latest_run (reconcile), so the insert is tried once more.
      auto holder = latest_run(source.name);
      if (holder && holder->status == "running") return std::nullopt;
      if (attempt == 1) throw;
    }
  }
  if (!inserted) return std::nullopt;
  SyncRun& run = *inserted;
  std::string payload = Json()
                            .begin()
                            .key("run_id")
                            .num(run.id)
                            .key("source")
                            .str(run.source)
                            .key("full_refresh")
                            .flag(options.full_refresh)
                            .key("allow_empty_replace")
                            .flag(options.allow_empty_replace)
                            .key("start_date")
                            .str(options.start_date)
                            .key("end_date")
                            .str(options.end_date)
                            .end()
                            .text();
  try {
    sdk::TaskRequest rq;
    rq.kind = kSyncTask;
    rq.payload_json = payload;
    rq.idempotency_key = "dango-sources:run:" + std::to_string(run.id);
    rq.max_attempts = 1;
    rq.timeout_seconds = settings_.sync_timeout_seconds;
    run.task_id = host_.enqueue(rq);
    host_.sql("UPDATE dango_sync_runs SET task_id = :task WHERE id = :id")
        .bind("task", *run.task_id)
        .bind("id", run.id)
        .exec();
  } catch (const std::exception& e) {
    finish(run, "failed", std::string("could not enqueue the sync: ") + e.what());
    throw;
  }
  log(run.source, "info", "sync_queued",
      "Sync queued (" + std::string(options.full_refresh ? "full refresh" : "incremental") + ", " +
          triggered_by + ")",
      run.id);
  return run;
}

int64_t SyncEngine::create_job(const std::vector<std::string>& sources, bool full_refresh) {
  Json list;
  list.begin_array();
  for (const auto& s : sources) list.str(s);
  list.end_array();
  auto st = host_.sql(
      "INSERT INTO dango_sync_jobs (sources, full_refresh, created_at) VALUES (:s, :f, :at) "
      "RETURNING id");
  st.bind("s", list.text()).bind("f", static_cast<int64_t>(full_refresh)).bind("at", iso_utc_now());
  if (!st.step()) throw sdk::Error(PH_ERR_INTERNAL, "INSERT … RETURNING gave no id");
  return st.int64(0);
}

void SyncEngine::run_task(sdk::TaskContext& task) {
  rapidjson::Document p = task.payload();
  SyncOptions options;
  options.full_refresh = bool_member(p, "full_refresh");
  options.allow_empty_replace = bool_member(p, "allow_empty_replace");
  options.start_date = str_member(p, "start_date");
  options.end_date = str_member(p, "end_date");
  std::optional<SyncRun> run;
  auto id = p.FindMember("run_id");
  if (id != p.MemberEnd() && id->value.IsInt64()) {
    run = this->run(id->value.GetInt64());
    if (!run)
      throw std::runtime_error("sync run " + std::to_string(id->value.GetInt64()) + " is gone");
    if (run->status != "running") return;  // already finished (a retried task)
  } else {
    // A scheduled sync: the run starts here, inside the task the schedule enqueued.
    const SourceConfig* source = find_source(settings_, str_member(p, "source"));
    if (!source || !source->enabled) return;
    auto st = host_.sql(
        "INSERT INTO dango_sync_runs (source, status, full_refresh, triggered_by, task_id,"
        " started_at) VALUES (:source, 'running', :full, 'schedule', :task, :at) RETURNING id");
    SyncRun r;
    r.source = source->name;
    r.status = "running";
    r.full_refresh = options.full_refresh;
    r.triggered_by = "schedule";
    r.task_id = task.id();
    r.started_at = iso_utc_now();
    try {
      st.bind("source", r.source)
          .bind("full", static_cast<int64_t>(r.full_refresh))
          .bind("task", task.id())
          .bind("at", r.started_at);
      if (!st.step()) return;
    } catch (const sdk::Error&) {
      log(source->name, "info", "sync_skipped",
          "Scheduled sync skipped: a sync is already running");
      return;
    }
    r.id = st.int64(0);
    run = r;
  }
  try {
    execute(
        *run, options, [&task] { return task.cancelled(); },
        [&task](int percent) { task.progress(percent); });
  } catch (const SyncCancelled&) {
    finish(*run, "cancelled", "cancelled by request before anything was loaded");
    throw;  // the task ends as cancelled, not as done
  } catch (const std::exception& e) {
    finish(*run, "failed", e.what());
  }
}

void SyncEngine::execute(SyncRun& run, const SyncOptions& options,
                         const std::function<bool()>& cancelled,
                         const std::function<void(int)>& progress) {
  const SourceConfig* source = find_source(settings_, run.source);
  if (!source) throw std::runtime_error("source " + run.source + " is no longer configured");
  run.started_ms = now_ms();
  log(run.source, "info", "sync_started", "Sync started", run.id);
  publish("sync_started", run.source, "");
  ReadRequest rq;
  rq.source = source->name;
  rq.options_json = source->options_json;
  rq.folder = source->folder;
  // A source configured with sync_mode: full_refresh always reloads everything.
  rq.full_refresh = options.full_refresh || source->sync_mode == "full_refresh";
  rq.loaded_at = iso_utc_now();
  if (!rq.full_refresh) rq.state_json = warehouse_.state(source->name);
  rq.start_date = options.start_date;
  rq.end_date = options.end_date;
  SourceBatch batch;
  // The built-in csv type streams its files into the warehouse (bulk_load.hpp): `batch` then
  // carries the table's columns, notes, errors and state, without rows.
  std::optional<CsvLoadPlan> csv_plan;
  if (source->type == "csv") {
    csv_plan = plan_csv_load(rq);
    batch = csv_plan->batch;
  } else if (source->type == "json") {
    batch = read_json_source(rq);
  } else if (source->type == "sql") {
    batch = read_sql_source(rq);
  } else if (source->type == "http_json") {
    batch = read_http_json_source(rq);
  } else {
    batch =
        parse_batch(host_.invoke_connector("source", source->type, "read", read_request_json(rq)));
  }
  // A cancel that arrived while the source was read stops the sync before it writes anything.
  if (cancelled()) throw SyncCancelled();
  for (const auto& note : batch.notes) log(run.source, "info", "sync_note", note, run.id);
  if (!batch.errors.empty()) {
    for (const auto& e : batch.errors) {
      log(run.source, "error", "input_error",
          e.file + (e.line ? ":" + std::to_string(e.line) : "") + ": " + e.message, run.id);
    }
    throw std::runtime_error(describe_errors(batch.errors));
  }
  // A big CSV load checks for a cancel between its batches (the rollback leaves nothing loaded)
  // and reports its progress in tenths (each report is a write to host storage).
  const size_t total = csv_plan ? csv_plan->rows() : 0;
  int reported = 0;
  auto after_batch = [&](size_t rows) {
    if (cancelled()) throw SyncCancelled();
    int tenth = total ? static_cast<int>(rows * 10 / total) : 10;
    if (tenth > reported && tenth < 10) {
      reported = tenth;
      progress(tenth * 10);
    }
  };
  LoadResult result = csv_plan ? warehouse_.load_csv(source->name, *csv_plan,
                                                     options.allow_empty_replace, after_batch)
                               : warehouse_.load(source->name, batch, options.allow_empty_replace);
  run.rows_loaded = result.rows_inserted;
  run.rows_deleted = result.rows_deleted;
  for (const auto& note :
       observe_load(host_, warehouse_, run.source, run.id, batch, result.whole_tables)) {
    log(run.source, note.level, note.event, note.message, run.id);
  }
  if (result.kept_old_rows) {
    log(run.source, "warning", "empty_refresh_kept",
        "Full refresh found no rows; the existing rows were kept", run.id);
  }
  finish(run, "success", std::nullopt);
}

void SyncEngine::finish(SyncRun& run, const std::string& status,
                        const std::optional<std::string>& error) {
  run.status = status;
  run.error = error;
  run.finished_at = iso_utc_now();
  auto started = parse_iso_utc(run.started_at);
  auto finished = parse_iso_utc(*run.finished_at);
  if (run.started_ms > 0) {
    run.duration_ms = now_ms() - run.started_ms;
  } else {
    run.duration_ms = started && finished ? (*finished - *started) * 1000 : 0;
  }
  // Only a running run is finished, once: a run closed by reconcile() stays as it was closed.
  int64_t changed = host_
                        .sql(
                            "UPDATE dango_sync_runs SET status = :status, finished_at = :fin,"
                            " duration_ms = :dur, rows_loaded = :rows, rows_deleted = :del,"
                            " error = :err WHERE id = :id AND status = 'running'")
                        .bind("status", status)
                        .bind("fin", *run.finished_at)
                        .bind("dur", *run.duration_ms)
                        .bind("rows", run.rows_loaded)
                        .bind("del", run.rows_deleted)
                        .bind("err", error)
                        .bind("id", run.id)
                        .exec();
  if (changed == 0) return;
  if (status == "success") {
    log(run.source, "info", "sync_completed",
        "Sync completed: " + std::to_string(run.rows_loaded) + " rows loaded, " +
            std::to_string(run.rows_deleted) + " rows removed",
        run.id);
    publish("sync_completed", run.source,
            Json().begin().key("rows").num(run.rows_loaded).end().text());
  } else {
    log(run.source, "error", "sync_" + status, "Sync " + status + ": " + error.value_or(""),
        run.id);
    publish("sync_failed", run.source,
            Json().begin().key("error").str(error.value_or(status)).end().text());
  }
}

// Events carry `type` and its alias `event`; sync_completed carries `rows` and `rows_loaded`.
void SyncEngine::publish(const std::string& type, const std::string& source,
                         const std::string& extra_json) {
  Json j;
  j.begin().key("type").str(type).key("event").str(type).key("source").str(source);
  rapidjson::Document extra;
  std::string error;
  if (!extra_json.empty() && sdk::parse_json(extra_json, extra, error) && extra.IsObject()) {
    for (const auto& m : extra.GetObject()) {
      j.key(m.name.GetString()).raw(sdk::to_json(m.value));
      if (std::string(m.name.GetString()) == "rows")
        j.key("rows_loaded").raw(sdk::to_json(m.value));
    }
  }
  j.key("timestamp").str(iso_utc_now()).end();
  try {
    host_.publish(type, j.text(), true);
  } catch (const std::exception& e) {
    host_.warn(std::string("dango-sources: could not publish ") + type + ": " + e.what());
  }
}

void SyncEngine::reconcile(SyncRun& run) {
  if (run.status != "running" || !run.task_id) return;
  auto text = host_.task_json(*run.task_id);
  std::string task_status = "gone";
  if (text) {
    rapidjson::Document d;
    std::string error;
    if (sdk::parse_json(*text, d, error) && d.IsObject()) task_status = str_member(d, "status");
  }
  if (task_status == "queued" || task_status == "running") return;
  close_run(run, task_status, "");
}

void SyncEngine::close_run(SyncRun& run, const std::string& task_status,
                           const std::string& task_error) {
  std::string status = task_status == "timed_out"   ? "timeout"
                       : task_status == "cancelled" ? "cancelled"
                                                    : "failed";
  finish(run, status,
         "the sync task ended (" + task_status + ") before the sync finished" +
             (task_error.empty() ? "" : ": " + task_error));
}

void SyncEngine::task_ended(std::string_view task_json) {
  rapidjson::Document task;
  std::string error;
  if (!sdk::parse_json(task_json, task, error) || !task.IsObject() ||
      str_member(task, "kind") != kSyncTask) {
    return;
  }
  auto payload = task.FindMember("payload");
  if (payload == task.MemberEnd() || !payload->value.IsObject()) return;
  auto id = payload->value.FindMember("run_id");
  if (id == payload->value.MemberEnd() || !id->value.IsInt64()) return;
  auto r = run(id->value.GetInt64());
  if (!r || r->status != "running") return;
  close_run(*r, str_member(task, "status"), str_member(task, "error"));
}

std::optional<SyncRun> SyncEngine::run(int64_t id) {
  auto st =
      host_.sql(std::string("SELECT ") + kRunColumns + " FROM dango_sync_runs WHERE id = :id");
  st.bind("id", id);
  if (!st.step()) return std::nullopt;
  SyncRun r = read_run(st);
  return r;
}

std::optional<SyncRun> SyncEngine::latest_run(const std::string& source) {
  auto list = runs(source, 1);
  if (list.empty()) return std::nullopt;
  return list.front();
}

std::vector<SyncRun> SyncEngine::runs(const std::string& source, int limit) {
  std::vector<SyncRun> out;
  {
    auto st = host_.sql(std::string("SELECT ") + kRunColumns +
                        " FROM dango_sync_runs WHERE source = :s ORDER BY id DESC LIMIT :n");
    st.bind("s", source).bind("n", static_cast<int64_t>(limit));
    while (st.step()) out.push_back(read_run(st));
  }
  if (!out.empty()) reconcile(out.front());
  return out;
}

std::vector<SyncRun> SyncEngine::job_runs(int64_t job_id) {
  std::vector<SyncRun> out;
  {
    auto st = host_.sql(std::string("SELECT ") + kRunColumns +
                        " FROM dango_sync_runs WHERE job_id = :j ORDER BY source");
    st.bind("j", job_id);
    while (st.step()) out.push_back(read_run(st));
  }
  for (auto& r : out) reconcile(r);
  return out;
}

bool SyncEngine::job_exists(int64_t job_id, std::string& created_at) {
  auto st = host_.sql("SELECT created_at FROM dango_sync_jobs WHERE id = :j");
  st.bind("j", job_id);
  if (!st.step()) return false;
  created_at = st.text(0);
  return true;
}

void SyncEngine::log(const std::optional<std::string>& source, const std::string& level,
                     const std::string& event, const std::string& message,
                     std::optional<int64_t> run_id) {
  try {
    host_
        .sql(
            "INSERT INTO dango_logs (ts, source, level, event, message, run_id) VALUES (:ts, :s,"
            " :l, :e, :m, :r)")
        .bind("ts", iso_utc_now())
        .bind("s", source)
        .bind("l", level)
        .bind("e", event)
        .bind("m", message)
        .bind("r", run_id)
        .exec();
  } catch (const std::exception& e) {
    host_.warn(std::string("dango-sources: could not write the activity log: ") + e.what());
  }
}

std::vector<LogEntry> SyncEngine::logs(const std::optional<std::string>& source, int limit) {
  std::vector<LogEntry> out;
  auto st = host_.sql(
      source ? "SELECT id, ts, source, level, event, message, run_id FROM dango_logs WHERE"
               " source = :s ORDER BY id DESC LIMIT :n"
             : "SELECT id, ts, source, level, event, message, run_id FROM dango_logs ORDER BY id"
               " DESC LIMIT :n");
  if (source) st.bind("s", *source);
  st.bind("n", static_cast<int64_t>(limit));
  while (st.step()) {
    LogEntry e;
    e.id = st.int64(0);
    e.timestamp = st.text(1);
    e.source = st.maybe_text(2);
    e.level = st.text(3);
    e.event = st.text(4);
    e.message = st.text(5);
    if (!st.is_null(6)) e.run_id = st.int64(6);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace dango
