#include "run_store.hpp"

namespace inspector {
namespace {

constexpr const char* kColumns =
    "id, workspace, preset, label, command, notes, status, progress, log, metadata, task_id,"
    " requested_at, started_at, completed_at";

std::optional<double> maybe_real(const plughost::sdk::Statement& st, int col) {
  if (st.is_null(col)) return std::nullopt;
  return st.real(col);
}

RunRecord read_run(const plughost::sdk::Statement& st) {
  RunRecord r;
  r.id = st.int64(0);
  r.workspace = st.text(1);
  r.preset = st.text(2);
  r.label = st.text(3);
  r.command = st.text(4);
  r.notes = st.text(5);
  r.status = st.text(6);
  r.progress = static_cast<int>(st.int64(7));
  r.log = st.text(8);
  r.metadata_json = st.text(9);
  if (!st.is_null(10)) r.task_id = st.int64(10);
  r.requested_at = st.real(11);
  r.started_at = maybe_real(st, 12);
  r.completed_at = maybe_real(st, 13);
  return r;
}

}  // namespace

const std::vector<TableMigration>& table_migrations() {
  // One text per table; only the id column differs between the dialects.
  auto both = [](const char* name, const std::string& sql) {
    auto with_id = [&](const char* id) {
      std::string out = sql;
      out.replace(out.find("{ID}"), 4, id);
      return out;
    };
    return TableMigration{name, with_id("id INTEGER PRIMARY KEY AUTOINCREMENT"),
                          with_id("id BIGSERIAL PRIMARY KEY")};
  };
  static const std::vector<TableMigration> migrations = {
      both("0001_runs",
           "CREATE TABLE inspector_runs ({ID}, workspace TEXT NOT NULL, preset TEXT NOT NULL,"
           " label TEXT NOT NULL, command TEXT NOT NULL, notes TEXT NOT NULL,"
           " status TEXT NOT NULL, progress INTEGER NOT NULL DEFAULT 0,"
           " log TEXT NOT NULL DEFAULT '', metadata TEXT NOT NULL DEFAULT '{}', task_id BIGINT,"
           " requested_at DOUBLE PRECISION NOT NULL, started_at DOUBLE PRECISION,"
           " completed_at DOUBLE PRECISION);"
           "CREATE INDEX inspector_runs_workspace ON inspector_runs (workspace, id);"),
      both("0002_scans",
           "CREATE TABLE inspector_scans ({ID}, workspace TEXT NOT NULL, kind TEXT NOT NULL,"
           " status TEXT NOT NULL, progress INTEGER NOT NULL DEFAULT 0,"
           " summary TEXT NOT NULL DEFAULT '', log TEXT NOT NULL DEFAULT '', result TEXT,"
           " task_id BIGINT, created_at DOUBLE PRECISION NOT NULL,"
           " started_at DOUBLE PRECISION, completed_at DOUBLE PRECISION);"
           "CREATE INDEX inspector_scans_workspace ON inspector_scans (workspace, kind, id);"),
  };
  return migrations;
}

int64_t RunStore::create(const RunRecord& run) const {
  auto st = host_.query(
      "INSERT INTO inspector_runs (workspace, preset, label, command, notes, status, progress,"
      " log, metadata, requested_at) VALUES (:workspace, :preset, :label, :command, :notes,"
      " :status, :progress, :log, :metadata, :requested_at) RETURNING id");
  st.bind("workspace", run.workspace)
      .bind("preset", run.preset)
      .bind("label", run.label)
      .bind("command", run.command)
      .bind("notes", run.notes)
      .bind("status", run.status)
      .bind("progress", run.progress)
      .bind("log", run.log)
      .bind("metadata", run.metadata_json)
      .bind("requested_at", run.requested_at);
  st.step();
  int64_t id = st.int64(0);
  st.exec();
  return id;
}

void RunStore::set_task(int64_t id, int64_t task_id) const {
  host_.query("UPDATE inspector_runs SET task_id = :task WHERE id = :id")
      .bind("task", task_id)
      .bind("id", id)
      .exec();
}

std::optional<RunRecord> RunStore::get(int64_t id) const {
  auto st = host_.query(std::string("SELECT ") + kColumns + " FROM inspector_runs WHERE id = :id");
  st.bind("id", id);
  if (!st.step()) return std::nullopt;
  return read_run(st);
}

std::vector<RunRecord> RunStore::newest(std::string_view workspace, int limit) const {
  auto st = host_.query(std::string("SELECT ") + kColumns +
                        " FROM inspector_runs WHERE workspace = :workspace"
                        " ORDER BY id DESC LIMIT :limit");
  st.bind("workspace", workspace).bind("limit", limit);
  std::vector<RunRecord> out;
  while (st.step()) out.push_back(read_run(st));
  return out;
}

void RunStore::update(const RunRecord& run) const {
  host_
      .query(
          "UPDATE inspector_runs SET status = :status, progress = :progress, log = :log,"
          " metadata = :metadata, started_at = :started_at, completed_at = :completed_at"
          " WHERE id = :id")
      .bind("status", run.status)
      .bind("progress", run.progress)
      .bind("log", run.log)
      .bind("metadata", run.metadata_json)
      .bind("started_at", run.started_at)
      .bind("completed_at", run.completed_at)
      .bind("id", run.id)
      .exec();
}

}  // namespace inspector
