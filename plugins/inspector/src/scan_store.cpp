#include "scan_store.hpp"

namespace inspector {
namespace {

constexpr const char* kColumns =
    "id, workspace, kind, status, progress, summary, log, result, task_id, created_at,"
    " started_at, completed_at";

ScanRecord read_scan(const plughost::sdk::Statement& st) {
  ScanRecord s;
  s.id = st.int64(0);
  s.workspace = st.text(1);
  s.kind = st.text(2);
  s.status = st.text(3);
  s.progress = static_cast<int>(st.int64(4));
  s.summary = st.text(5);
  s.log = st.text(6);
  s.result_json = st.maybe_text(7);
  if (!st.is_null(8)) s.task_id = st.int64(8);
  s.created_at = st.real(9);
  if (!st.is_null(10)) s.started_at = st.real(10);
  if (!st.is_null(11)) s.completed_at = st.real(11);
  return s;
}

}  // namespace

std::string scan_kind_label(std::string_view kind) {
  if (kind == "schema") return "Schema ingest";
  if (kind == "migrations") return "Migration diff";
  if (kind == "logs") return "Log import";
  if (kind == "fixtures") return "Fixture export";
  return std::string(kind);
}

int64_t ScanStore::create(const ScanRecord& scan) const {
  auto st = host_.query(
      "INSERT INTO inspector_scans (workspace, kind, status, progress, summary, created_at)"
      " VALUES (:workspace, :kind, :status, :progress, :summary, :created_at) RETURNING id");
  st.bind("workspace", scan.workspace)
      .bind("kind", scan.kind)
      .bind("status", scan.status)
      .bind("progress", scan.progress)
      .bind("summary", scan.summary)
      .bind("created_at", scan.created_at);
  st.step();
  int64_t id = st.int64(0);
  st.exec();
  return id;
}

void ScanStore::set_task(int64_t id, int64_t task_id) const {
  host_.query("UPDATE inspector_scans SET task_id = :task WHERE id = :id")
      .bind("task", task_id)
      .bind("id", id)
      .exec();
}

std::optional<ScanRecord> ScanStore::get(int64_t id) const {
  auto st = host_.query(std::string("SELECT ") + kColumns + " FROM inspector_scans WHERE id = :id");
  st.bind("id", id);
  if (!st.step()) return std::nullopt;
  return read_scan(st);
}

std::vector<ScanRecord> ScanStore::newest(std::string_view workspace, int limit) const {
  auto st = host_.query(std::string("SELECT ") + kColumns +
                        " FROM inspector_scans WHERE workspace = :workspace"
                        " ORDER BY id DESC LIMIT :limit");
  st.bind("workspace", workspace).bind("limit", limit);
  std::vector<ScanRecord> out;
  while (st.step()) out.push_back(read_scan(st));
  return out;
}

std::vector<ScanRecord> ScanStore::completed(std::string_view workspace, std::string_view kind,
                                             int limit) const {
  auto st = host_.query(std::string("SELECT ") + kColumns +
                        " FROM inspector_scans WHERE workspace = :workspace AND kind = :kind"
                        " AND status = 'completed' ORDER BY id DESC LIMIT :limit");
  st.bind("workspace", workspace).bind("kind", kind).bind("limit", limit);
  std::vector<ScanRecord> out;
  while (st.step()) out.push_back(read_scan(st));
  return out;
}

void ScanStore::update(const ScanRecord& scan) const {
  host_
      .query(
          "UPDATE inspector_scans SET status = :status, progress = :progress,"
          " summary = :summary, log = :log, result = :result, started_at = :started_at,"
          " completed_at = :completed_at WHERE id = :id")
      .bind("status", scan.status)
      .bind("progress", scan.progress)
      .bind("summary", scan.summary)
      .bind("log", scan.log)
      .bind("result", scan.result_json)
      .bind("started_at", scan.started_at)
      .bind("completed_at", scan.completed_at)
      .bind("id", scan.id)
      .exec();
}

}  // namespace inspector
