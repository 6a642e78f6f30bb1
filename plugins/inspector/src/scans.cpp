#include "scans.hpp"

#include <algorithm>
#include <stdexcept>

#include "clock.hpp"
#include "introspection.hpp"
#include "migration_state.hpp"
#include "process_runner.hpp"

namespace inspector {
namespace {

using plughost::sdk::TaskContext;

void add_line(ScanRecord& scan, TaskContext& task, const std::string& text) {
  std::string entry = stamped(text);
  if (!scan.log.empty()) scan.log += '\n';
  scan.log += entry;
  task.log(scan.workspace + ": " + entry);
}

size_t model_count(const ProjectInfo& project) {
  size_t n = 0;
  for (const auto& app : project.apps) n += app.models.size();
  return n;
}

std::string plural(size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// Applied migrations of the project: its SQLite database read directly, else `showmigrations`.
AppliedRead applied_migrations(const Workspace& workspace, const ProjectInfo& project,
                               double timeout, const std::function<bool()>& cancelled,
                               std::string& source) {
  if (project.db_engine.find("sqlite3") != std::string::npos && !project.db_name.empty() &&
      project.db_name != ":memory:") {
    std::string path =
        project.db_name[0] == '/' ? project.db_name : workspace.path + "/" + project.db_name;
    source = "sqlite";
    return read_applied_sqlite(path);
  }
  source = "showmigrations";
  ProcessSpec spec;
  spec.argv = {workspace.python, "manage.py", "showmigrations", "--list"};
  spec.cwd = workspace.path;
  spec.env = command_environment(workspace);
  spec.timeout_seconds = timeout;
  spec.max_output_lines = 100000;
  spec.max_output_bytes = 16 << 20;
  std::vector<std::string> lines;
  ProcessEvents events;
  events.line = [&](std::string_view l) { lines.emplace_back(l); };
  events.cancelled = cancelled;
  ProcessResult r = run_process(spec, events);
  AppliedRead out;
  if (!r.started) {
    out.error = "Unable to start command: " + r.start_error;
  } else if (r.timed_out || r.cancelled || r.exit_code != 0) {
    out.error =
        "showmigrations failed" + (r.timed_out ? std::string(" (timed out)")
                                               : " with exit code " + std::to_string(r.exit_code));
  } else {
    out.applied = parse_showmigrations(lines);
  }
  return out;
}

// Fills `result` with the migration state of each app; returns the number pending.
size_t write_migrations(const ProjectInfo& project, const AppliedMigrations& applied,
                        rapidjson::Value& result, rapidjson::Document::AllocatorType& a) {
  rapidjson::Value apps(rapidjson::kArrayType);
  size_t pending_total = 0;
  for (const auto& app : project.apps) {
    std::vector<std::string> on_disk;
    if (app.migrations_dir) on_disk = migration_files(*app.migrations_dir);
    auto it = applied.find(app.label);
    rapidjson::Value pending(rapidjson::kArrayType);
    size_t applied_count = 0;
    for (const auto& name : on_disk) {
      if (it != applied.end() && it->second.count(name)) {
        ++applied_count;
      } else {
        pending.PushBack(rapidjson::Value(name.c_str(), a), a);
      }
    }
    pending_total += pending.Size();
    rapidjson::Value entry(rapidjson::kObjectType);
    entry.AddMember("name", rapidjson::Value(app.name.c_str(), a), a);
    entry.AddMember("label", rapidjson::Value(app.label.c_str(), a), a);
    entry.AddMember("total", static_cast<uint64_t>(on_disk.size()), a);
    entry.AddMember("applied", static_cast<uint64_t>(applied_count), a);
    entry.AddMember("pending", pending, a);
    apps.PushBack(entry, a);
  }
  result.AddMember("migrations", apps, a);
  result.AddMember("pending_total", static_cast<uint64_t>(pending_total), a);
  return pending_total;
}

}  // namespace

int64_t Scanner::record_pending(const Workspace& workspace, std::string_view kind) const {
  ScanRecord scan;
  scan.workspace = workspace.slug;
  scan.kind = std::string(kind);
  scan.summary =
      kind == "schema" ? "Collecting models and relationships" : "Diffing unapplied migrations";
  scan.created_at = now_unix();
  return scans_.create(scan);
}

void Scanner::enqueue(const Workspace& workspace, std::string_view kind, int64_t scan_id) const {
  plughost::sdk::TaskRequest request;
  request.kind =
      std::string("inspector/") + (kind == "schema" ? kSchemaScanTask : kMigrationScanTask);
  request.payload_json =
      "{\"workspace\":\"" + workspace.slug + "\",\"scan_id\":" + std::to_string(scan_id) + "}";
  request.max_attempts = 1;
  request.timeout_seconds = settings_.scan_timeout_seconds * 2 + 30;
  scans_.set_task(scan_id, host_.enqueue_task(request));
}

void Scanner::run_schema_scan(TaskContext& task) const {
  run_scans(task, "schema");
}

void Scanner::run_migration_scan(TaskContext& task) const {
  run_scans(task, "migrations");
}

void Scanner::run_scans(TaskContext& task, std::string_view kind) const {
  auto payload = task.payload();
  std::optional<int64_t> scan_id;
  if (payload.IsObject() && payload.HasMember("scan_id") && payload["scan_id"].IsInt64()) {
    scan_id = payload["scan_id"].GetInt64();
  }
  std::vector<const Workspace*> targets;
  if (payload.IsObject() && payload.HasMember("workspace") && payload["workspace"].IsString()) {
    const Workspace* w = settings_.workspace(payload["workspace"].GetString());
    if (!w) throw std::invalid_argument("unknown workspace in scan payload");
    targets.push_back(w);
  } else {
    for (const auto& w : settings_.workspaces) targets.push_back(&w);
  }
  for (const Workspace* w : targets) {
    if (task.cancelled()) throw std::runtime_error("scan cancelled");
    scan_workspace(task, *w, kind, targets.size() == 1 ? scan_id : std::nullopt);
  }
  task.progress(100);
}

void Scanner::scan_workspace(TaskContext& task, const Workspace& workspace, std::string_view kind,
                             std::optional<int64_t> scan_id) const {
  std::optional<ScanRecord> existing = scan_id ? scans_.get(*scan_id) : std::nullopt;
  ScanRecord scan;
  if (existing && existing->workspace == workspace.slug && existing->kind == kind) {
    scan = *existing;
  } else {
    scan.workspace = workspace.slug;
    scan.kind = std::string(kind);
    scan.created_at = now_unix();
    scan.id = scans_.create(scan);
  }
  scan.task_id = task.id();
  scan.status = "running";
  scan.started_at = now_unix();
  scan.completed_at.reset();
  scan.progress = 10;
  scan.summary =
      kind == "schema" ? "Collecting models and relationships" : "Diffing unapplied migrations";
  add_line(scan, task,
           kind == "schema" ? "Introspecting models with manage.py shell."
                            : "Introspecting apps and migration modules.");
  scans_.update(scan);
  task.progress(10);

  auto cancelled = [&] { return task.cancelled(); };
  Introspection in = introspect(workspace, settings_.scan_timeout_seconds, cancelled);
  auto fail = [&](const std::string& why, const std::vector<std::string>& output) {
    size_t from = output.size() > 5 ? output.size() - 5 : 0;
    for (size_t i = from; i < output.size(); ++i) add_line(scan, task, output[i]);
    add_line(scan, task, why);
    scan.status = "failed";
    scan.summary = why;
    scan.completed_at = now_unix();
    scans_.update(scan);
    if (task.cancelled()) throw std::runtime_error("scan cancelled");
  };
  if (!in.project) return fail(in.error, in.output);
  scan.progress = 60;
  scans_.update(scan);
  task.progress(60);

  rapidjson::Document result(rapidjson::kObjectType);
  auto& a = result.GetAllocator();
  rapidjson::Value project;
  write_project(*in.project, project, a);
  result.AddMember("project", project, a);
  if (kind == "schema") {
    size_t models = model_count(*in.project);
    scan.summary = "Discovered " + plural(models, "model") + " across " +
                   plural(in.project->apps.size(), "app");
    add_line(scan, task, "Schema ingest finished: " + scan.summary + ".");
  } else {
    std::string source;
    AppliedRead applied = applied_migrations(workspace, *in.project, settings_.scan_timeout_seconds,
                                             cancelled, source);
    if (!applied.applied) return fail("Unable to read applied migrations: " + applied.error, {});
    result.AddMember("source", rapidjson::Value(source.c_str(), a), a);
    size_t pending = write_migrations(*in.project, *applied.applied, result, a);
    scan.summary =
        pending == 0 ? "No pending migrations" : "Found " + plural(pending, "pending migration");
    add_line(scan, task, "Migration diff finished (" + source + "): " + scan.summary + ".");
  }
  scan.result_json = plughost::sdk::to_json(result);
  scan.status = "completed";
  scan.progress = 100;
  scan.completed_at = now_unix();
  scans_.update(scan);
}

StartupScans::StartupScans(const Scanner& scanner, const Settings& settings,
                           const HostServices& host)
    : scanner_(scanner), settings_(settings), host_(host), thread_([this] { run(); }) {}

StartupScans::~StartupScans() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void StartupScans::run() {
  struct Pending {
    const Workspace* workspace;
    const char* kind;
    int64_t scan_id;
  };
  std::vector<Pending> pending;
  try {
    for (const auto& w : settings_.workspaces) {
      for (const char* kind : {"schema", "migrations"}) {
        pending.push_back({&w, kind, scanner_.record_pending(w, kind)});
      }
    }
  } catch (const std::exception& e) {
    host_.warn_log(std::string("start-up scans not recorded: ") + e.what());
    return;
  }
  std::string last_error;
  for (int attempt = 0; attempt < 1200 && !pending.empty(); ++attempt) {
    for (auto it = pending.begin(); it != pending.end();) {
      try {
        scanner_.enqueue(*it->workspace, it->kind, it->scan_id);
        it = pending.erase(it);
      } catch (const std::exception& e) {
        last_error = e.what();
        ++it;
      }
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (wake_.wait_for(lock, std::chrono::milliseconds(50), [&] { return stop_; })) return;
  }
  if (!pending.empty()) host_.warn_log("start-up scans not queued: " + last_error);
}

}  // namespace inspector
