#include "tasks/task_queue.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "common/time_format.hpp"
#include "storage/statement.hpp"

namespace plughost {
namespace {

std::string iso_time(double unix_seconds) {
  return unix_seconds <= 0 ? "" : iso8601_utc(unix_seconds);
}

constexpr const char* kColumns =
    "id, kind, payload, status, progress, log, result, error, attempts, max_attempts, node, "
    "created_at, started_at, finished_at, run_after, idempotency_key";

// Writes one task row (selected with kColumns) as the documented task JSON.
void write_task(Statement& st, rapidjson::Writer<rapidjson::StringBuffer>& w) {
  auto str = [&](int col) {
    std::string_view v = st.column_bytes(col);
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  };
  auto json_or_null = [&](int col) {
    if (st.column_type(col) == ValueType::kNull) return w.Null(), void();
    std::string_view v = st.column_bytes(col);
    rapidjson::Document d;
    d.Parse(v.data(), v.size());
    if (d.HasParseError()) {
      w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    } else {
      d.Accept(w);
    }
  };
  auto time_or_null = [&](int col) {
    if (st.column_type(col) == ValueType::kNull) return w.Null(), void();
    std::string t = iso_time(st.column_double(col));
    w.String(t.c_str());
  };
  w.StartObject();
  w.Key("id");
  w.Int64(st.column_int64(0));
  w.Key("kind");
  str(1);
  w.Key("payload");
  json_or_null(2);
  w.Key("status");
  str(3);
  w.Key("progress");
  w.Int64(st.column_int64(4));
  w.Key("log");
  w.StartArray();
  std::string_view log = st.column_bytes(5);
  for (size_t start = 0; start < log.size();) {
    size_t nl = log.find('\n', start);
    if (nl == std::string_view::npos) nl = log.size();
    w.String(log.data() + start, static_cast<rapidjson::SizeType>(nl - start));
    start = nl + 1;
  }
  w.EndArray();
  w.Key("result");
  json_or_null(6);
  w.Key("error");
  if (st.column_type(7) == ValueType::kNull)
    w.Null();
  else
    str(7);
  w.Key("attempts");
  w.Int64(st.column_int64(8));
  w.Key("max_attempts");
  w.Int64(st.column_int64(9));
  w.Key("node");
  if (st.column_type(10) == ValueType::kNull)
    w.Null();
  else
    str(10);
  w.Key("created_at");
  time_or_null(11);
  w.Key("started_at");
  time_or_null(12);
  w.Key("finished_at");
  time_or_null(13);
  w.Key("run_after");
  time_or_null(14);
  w.Key("idempotency_key");
  if (st.column_type(15) == ValueType::kNull)
    w.Null();
  else
    str(15);
  w.EndObject();
}

}  // namespace

double unix_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::string task_table_sql(Dialect dialect) {
  return std::string("CREATE TABLE IF NOT EXISTS plughost_tasks (") + serial_id_column(dialect) +
         ", kind TEXT NOT NULL, payload TEXT NOT NULL, status TEXT NOT NULL,"
         " progress INTEGER NOT NULL DEFAULT 0, log TEXT NOT NULL DEFAULT '', result TEXT,"
         " error TEXT, attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL,"
         " timeout_seconds DOUBLE PRECISION NOT NULL, idempotency_key TEXT UNIQUE,"
         " run_after DOUBLE PRECISION NOT NULL, lease_until DOUBLE PRECISION, node TEXT,"
         " cancel_requested INTEGER NOT NULL DEFAULT 0, created_at DOUBLE PRECISION NOT NULL,"
         " started_at DOUBLE PRECISION, finished_at DOUBLE PRECISION);"
         "CREATE INDEX IF NOT EXISTS plughost_tasks_claim ON plughost_tasks (status, run_after);"
         "CREATE INDEX IF NOT EXISTS plughost_tasks_kind ON plughost_tasks (kind, id);";
}

TaskQueue::TaskQueue(Database& db, Logger& log, TaskSettings settings, std::string node,
                     TaskLookup lookup)
    : db_(db), log_(log), settings_(settings), node_(std::move(node)), lookup_(std::move(lookup)) {}

TaskQueue::~TaskQueue() {
  stop();
}

void TaskQueue::start() {
  for (int i = 0; i < settings_.workers; ++i) threads_.emplace_back([this] { worker_loop(); });
  if (settings_.workers > 0) threads_.emplace_back([this] { lease_loop(); });
}

void TaskQueue::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_.exchange(true)) return;
    for (auto& [id, run] : running_) run->shutdown = true;
  }
  wake_.notify_all();
  settled_.notify_all();
  // Workers first: their handlers may take a while to wind down, and their leases must be
  // renewed until they have (else another host would start the same task).
  for (size_t i = 0; i + 1 < threads_.size(); ++i) threads_[i].join();
  {
    std::lock_guard<std::mutex> lock(mu_);  // the lease thread's wait must not miss it
    lease_stop_ = true;
  }
  wake_.notify_all();
  if (!threads_.empty()) threads_.back().join();
  threads_.clear();
}

int64_t TaskQueue::enqueue(const EnqueueRequest& r) {
  if (!r.kind_known && !lookup_(r.kind)) {
    throw std::invalid_argument("unknown task kind \"" + r.kind + "\"");
  }
  rapidjson::Document payload;
  if (payload.Parse(r.payload_json.c_str(), r.payload_json.size()).HasParseError()) {
    throw std::invalid_argument("task payload is not valid JSON");
  }
  try {
    return insert_task(r);
  } catch (const std::exception&) {
    if (r.idempotency_key.empty()) throw;
    // Another host inserted the same key between our check and insert: return its task.
    Statement existing(db_, "SELECT id FROM plughost_tasks WHERE idempotency_key = :key");
    existing.bind("key", Value::text(r.idempotency_key));
    if (existing.step()) return existing.column_int64(0);
    throw;
  }
}

int64_t TaskQueue::insert_task(const EnqueueRequest& r) {
  double now = unix_now();
  Transaction txn(db_);
  if (!r.idempotency_key.empty()) {
    Statement existing(txn, "SELECT id FROM plughost_tasks WHERE idempotency_key = :key");
    existing.bind("key", Value::text(r.idempotency_key));
    if (existing.step()) return existing.column_int64(0);
  }
  Statement insert(txn,
                   "INSERT INTO plughost_tasks (kind, payload, status, max_attempts,"
                   " timeout_seconds, idempotency_key, run_after, created_at) VALUES (:kind,"
                   " :payload, 'queued', :max_attempts, :timeout, :key, :run_after, :now)"
                   " RETURNING id");
  insert.bind("kind", Value::text(r.kind));
  insert.bind("payload", Value::text(r.payload_json));
  insert.bind("max_attempts",
              Value::integer(r.max_attempts > 0 ? r.max_attempts : settings_.default_max_attempts));
  insert.bind("timeout", Value::real(r.timeout_seconds > 0 ? r.timeout_seconds
                                                           : settings_.default_timeout_seconds));
  insert.bind("key", r.idempotency_key.empty() ? Value::null() : Value::text(r.idempotency_key));
  insert.bind("run_after", Value::real(now + std::max(0.0, r.delay_seconds)));
  insert.bind("now", Value::real(now));
  if (!insert.step()) throw std::runtime_error("insert returned no id");
  int64_t id = insert.column_int64(0);
  while (insert.step()) {
  }
  txn.commit();
  wake_.notify_one();
  return id;
}

std::optional<std::string> TaskQueue::get_json(int64_t id) {
  Statement st(db_, std::string("SELECT ") + kColumns + " FROM plughost_tasks WHERE id = :id");
  st.bind("id", Value::integer(id));
  if (!st.step()) return std::nullopt;
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  write_task(st, w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string TaskQueue::list_json(const TaskFilter& f) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM plughost_tasks WHERE 1 = 1";
  if (!f.kind.empty()) sql += " AND kind = :kind";
  if (!f.status.empty()) sql += " AND status = :status";
  sql += " ORDER BY id DESC LIMIT :limit OFFSET :offset";
  Statement st(db_, sql);
  if (!f.kind.empty()) st.bind("kind", Value::text(f.kind));
  if (!f.status.empty()) st.bind("status", Value::text(f.status));
  st.bind("limit", Value::integer(std::clamp<int64_t>(f.limit, 1, 1000)));
  st.bind("offset", Value::integer(std::max<int64_t>(f.offset, 0)));
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartArray();
  while (st.step()) write_task(st, w);
  w.EndArray();
  return std::string(buf.GetString(), buf.GetSize());
}

bool TaskQueue::cancel(int64_t id) {
  double now = unix_now();
  {
    Statement queued(db_,
                     "UPDATE plughost_tasks SET status = 'cancelled', finished_at = :now,"
                     " error = 'cancelled before it ran' WHERE id = :id AND status = 'queued'");
    queued.bind("id", Value::integer(id));
    queued.bind("now", Value::real(now));
    queued.step();
    if (queued.affected_rows() > 0) return true;
  }
  {
    Statement running(db_,
                      "UPDATE plughost_tasks SET cancel_requested = 1 WHERE id = :id AND"
                      " status = 'running'");
    running.bind("id", Value::integer(id));
    running.step();
    if (running.affected_rows() == 0) return false;
  }  // the pooled session is back before mu_ is taken (lock order: mu_ never waits on the pool)
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = running_.find(id); it != running_.end()) it->second->cancel_requested = true;
  return true;
}

void TaskQueue::wait_for_final(int64_t id) {
  std::unique_lock<std::mutex> lock(mu_);
  settled_.wait(lock, [&] {
    return stopping_ || std::find(final_ids_.begin(), final_ids_.end(), id) != final_ids_.end();
  });
}

void TaskQueue::worker_loop() {
  while (!stopping_) {
    bool ran = false;
    try {
      ran = claim_and_run();
    } catch (const std::exception& e) {
      log_.error("tasks", "task worker error", {{"error", e.what()}});
    }
    if (ran) continue;
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait_for(lock, std::chrono::duration<double>(settings_.poll_interval_seconds),
                   [&] { return stopping_.load(); });
  }
}

// Our own heartbeat was late and the lease lapsed while this host still runs the task: keep
// the running attempt rather than start a second one (or fail it) next to it.
bool TaskQueue::already_running_here(ph_task_context& run) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_.count(run.id)) return false;
  }
  Statement keep(db_,
                 "UPDATE plughost_tasks SET attempts = attempts - 1, lease_until = :lease"
                 " WHERE id = :id AND node = :node");
  keep.bind("lease", Value::real(unix_now() + settings_.lease_seconds));
  keep.bind("id", Value::integer(run.id));
  keep.bind("node", Value::text(node_));
  keep.step();
  return true;
}

bool TaskQueue::claim_and_run() {
  double now = unix_now();
  auto run = std::make_unique<ph_task_context>();
  double timeout = 0;
  int max_attempts = 0;
  {
    std::string pick =
        "SELECT id FROM plughost_tasks WHERE (status = 'queued' AND run_after <= :now) OR"
        " (status = 'running' AND lease_until < :now) ORDER BY run_after, id LIMIT 1";
    if (db_.dialect() == Dialect::kPostgres) pick += " FOR UPDATE SKIP LOCKED";
    Statement claim(db_,
                    "UPDATE plughost_tasks SET status = 'running', attempts = attempts + 1,"
                    " lease_until = :lease, node = :node, started_at = :now WHERE id = (" +
                        pick +
                        ") RETURNING id, kind, payload, attempts, max_attempts, timeout_seconds,"
                        " cancel_requested, log");
    claim.bind("now", Value::real(now));
    claim.bind("lease", Value::real(now + settings_.lease_seconds));
    claim.bind("node", Value::text(node_));
    if (!claim.step()) return false;
    run->id = claim.column_int64(0);
    run->kind = std::string(claim.column_bytes(1));
    run->payload = std::string(claim.column_bytes(2));
    run->attempt = static_cast<int>(claim.column_int64(3));
    max_attempts = static_cast<int>(claim.column_int64(4));
    timeout = claim.column_double(5);
    run->cancel_requested = claim.column_int64(6) != 0;
    // Earlier attempts' lines stay in the log; this attempt appends.
    std::string_view log = claim.column_bytes(7);
    for (size_t start = 0; start < log.size();) {
      size_t nl = std::min(log.find('\n', start), log.size());
      run->log.emplace_back(log.substr(start, nl - start));
      start = nl + 1;
    }
    while (claim.step()) {
    }
  }
  run->queue = this;
  run->deadline = now + timeout;
  if (already_running_here(*run)) return true;
  if (run->attempt > max_attempts) {
    // Its worker died on the last allowed attempt: do not run it again.
    finish(*run, PH_ERR_INTERNAL, "worker lost during the last attempt");
    return true;
  }
  auto handler = lookup_(run->kind);
  if (!handler) {
    finish(*run, PH_ERR_NOT_FOUND, "no plugin on this host handles task kind " + run->kind);
    return true;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      // Claimed while this host began to stop (possibly a task another worker just handed
      // back): hand it back untouched instead of starting it.
      run->shutdown = true;
    } else {
      running_[run->id] = run.get();
    }
  }
  if (run->shutdown) {
    finish(*run, PH_ERR_WRONG_STATE, "not started: the host is stopping");
    return true;
  }
  char message[1024] = {0};
  ph_error err{sizeof(ph_error), message, sizeof(message)};
  int rc = handler->handler(handler->user_data, run.get(), &err);
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_.erase(run->id);
  }
  finish(*run, rc, message[0] ? message : "task failed");
  return true;
}

void TaskQueue::finish(ph_task_context& run, int rc, const std::string& error) {
  double now = unix_now();
  std::string status;
  double run_after = 0;
  std::string final_error;
  bool exhausted = false;
  {
    Statement st(db_, "SELECT max_attempts FROM plughost_tasks WHERE id = :id");
    st.bind("id", Value::integer(run.id));
    exhausted = !st.step() || run.attempt >= st.column_int64(0);
  }
  if (run.shutdown && rc != PH_OK && !run.timed_out && !run.cancel_requested) {
    // Interrupted by this host's shutdown: hand the task back, this attempt does not count.
    Statement back(db_,
                   "UPDATE plughost_tasks SET status = 'queued', attempts = attempts - 1,"
                   " lease_until = NULL, node = NULL WHERE id = :id AND node = :node AND"
                   " status = 'running'");
    back.bind("id", Value::integer(run.id));
    back.bind("node", Value::text(node_));
    back.step();
  } else {
    if (run.cancel_requested) {
      status = "cancelled", final_error = "cancelled";
    } else if (run.timed_out || now > run.deadline) {
      status = exhausted ? "timed_out" : "queued";
      final_error = "timed out";
    } else if (rc == PH_OK) {
      status = "succeeded";
    } else {
      status = exhausted ? "failed" : "queued";
      final_error = error;
    }
    if (status == "queued") {
      run_after = now + std::min(3600.0, settings_.retry_base_seconds *
                                             std::pow(2.0, std::max(0, run.attempt - 1)));
    }
    std::lock_guard<std::mutex> lock(run.mu);
    Statement st(db_,
                 "UPDATE plughost_tasks SET status = :status, result = :result, error = :error,"
                 " progress = :progress, lease_until = NULL, run_after = :run_after,"
                 " finished_at = :finished WHERE id = :id AND status = 'running' AND"
                 " node = :node");
    st.bind("status", Value::text(status));
    st.bind("result", run.result.empty() ? Value::null() : Value::text(run.result));
    st.bind("error", final_error.empty() ? Value::null() : Value::text(final_error));
    st.bind("progress", Value::integer(status == "succeeded" ? 100 : run.progress));
    st.bind("run_after", Value::real(status == "queued" ? run_after : now));
    st.bind("finished", status == "queued" ? Value::null() : Value::real(now));
    st.bind("id", Value::integer(run.id));
    st.bind("node", Value::text(node_));
    st.step();
  }
  log_.write(status == "succeeded" || status.empty() ? LogLevel::kInfo : LogLevel::kWarn, "tasks",
             "task settled",
             {{"task_id", run.id},
              {"kind", run.kind},
              {"status", status.empty() ? "returned" : status},
              {"attempt", run.attempt},
              {"error", final_error}});
  if (status.empty() || status == "queued") return;
  if (sink_) {
    try {
      if (auto json = get_json(run.id)) sink_("task." + status, *json);
    } catch (const std::exception& e) {
      log_.warn("tasks", "task event not published", {{"error", e.what()}});
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  final_ids_.push_back(run.id);
  if (final_ids_.size() > 10000) final_ids_.erase(final_ids_.begin(), final_ids_.begin() + 5000);
  settled_.notify_all();
}

void TaskQueue::lease_loop() {
  auto period = std::chrono::duration<double>(std::max(0.05, settings_.lease_seconds / 3));
  while (!lease_stop_) {
    std::vector<int64_t> ids;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, period, [&] { return lease_stop_.load(); });
      if (lease_stop_) return;
      double now = unix_now();
      for (auto& [id, run] : running_) {
        if (now > run->deadline) run->timed_out = true;
        ids.push_back(id);
      }
    }
    // Database work happens without mu_, so workers never wait on a slow heartbeat.
    std::vector<int64_t> cancelled;
    try {
      for (int64_t id : ids) {
        Statement st(db_,
                     "UPDATE plughost_tasks SET lease_until = :lease WHERE id = :id AND"
                     " node = :node AND status = 'running' RETURNING cancel_requested");
        st.bind("lease", Value::real(unix_now() + settings_.lease_seconds));
        st.bind("id", Value::integer(id));
        st.bind("node", Value::text(node_));
        if (st.step() && st.column_int64(0) != 0) cancelled.push_back(id);
        while (st.step()) {
        }
      }
    } catch (const std::exception& e) {
      log_.warn("tasks", "lease renewal failed", {{"error", e.what()}});
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (int64_t id : cancelled) {
      if (auto it = running_.find(id); it != running_.end()) it->second->cancel_requested = true;
    }
  }
}

void TaskQueue::report_progress(ph_task_context& run, int percent) {
  {
    std::lock_guard<std::mutex> lock(run.mu);
    run.progress = std::clamp(percent, 0, 100);
  }
  write_progress(run);
}

void TaskQueue::write_progress(ph_task_context& run) {
  Statement st(db_, "UPDATE plughost_tasks SET progress = :p WHERE id = :id AND node = :node");
  {
    std::lock_guard<std::mutex> lock(run.mu);
    st.bind("p", Value::integer(run.progress));
  }
  st.bind("id", Value::integer(run.id));
  st.bind("node", Value::text(node_));
  st.step();
}

void TaskQueue::append_log(ph_task_context& run, std::string line) {
  std::replace(line.begin(), line.end(), '\n', ' ');
  {
    std::lock_guard<std::mutex> lock(run.mu);
    run.log.push_back(std::move(line));
    if (run.log.size() > settings_.log_lines) {
      run.log.erase(run.log.begin());
      ++run.dropped_lines;
    }
  }
  write_log(run);
}

void TaskQueue::write_log(ph_task_context& run) {
  std::string text_log;
  {
    std::lock_guard<std::mutex> lock(run.mu);
    if (run.dropped_lines)
      text_log = "[" + std::to_string(run.dropped_lines) + " earlier lines dropped]\n";
    for (size_t i = 0; i < run.log.size(); ++i) {
      if (i) text_log += '\n';
      text_log += run.log[i];
    }
  }
  Statement st(db_, "UPDATE plughost_tasks SET log = :log WHERE id = :id AND node = :node");
  st.bind("log", Value::text(text_log));
  st.bind("id", Value::integer(run.id));
  st.bind("node", Value::text(node_));
  st.step();
}

}  // namespace plughost
