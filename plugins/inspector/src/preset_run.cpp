#include "preset_run.hpp"

#include <chrono>
#include <cmath>
#include <stdexcept>

#include "clock.hpp"
#include "introspection.hpp"
#include "presets.hpp"
#include "process_runner.hpp"
#include "workspace_path.hpp"

namespace inspector {
namespace {

using plughost::sdk::TaskContext;

// Appends stamped lines to a run and writes the run back at most every 250 ms (the log is
// rewritten whole, so writing per line would cost O(n²) on chatty commands).
class RunWriter {
 public:
  RunWriter(RunRecord& run, const RunStore& runs, TaskContext& task)
      : run_(run), runs_(runs), task_(task) {}

  void line(std::string_view text, bool to_host_log = false) {
    std::string entry = stamped(text);
    if (!run_.log.empty()) run_.log += '\n';
    run_.log += entry;
    if (to_host_log) task_.log(entry);
    auto now = std::chrono::steady_clock::now();
    if (now - last_write_ > std::chrono::milliseconds(250)) flush();
  }
  void progress(int percent) {
    run_.progress = percent;
    task_.progress(percent);
    flush();
  }
  void flush() {
    runs_.update(run_);
    last_write_ = std::chrono::steady_clock::now();
  }

 private:
  RunRecord& run_;
  const RunStore& runs_;
  TaskContext& task_;
  std::chrono::steady_clock::time_point last_write_{};
};

rapidjson::Document metadata_of(const RunRecord& run) {
  rapidjson::Document d;
  d.Parse(run.metadata_json.c_str());
  if (d.HasParseError() || !d.IsObject()) d.SetObject();
  return d;
}

void set_command_metadata(RunRecord& run, rapidjson::Value command, rapidjson::Document& d) {
  if (d.HasMember("command")) d.RemoveMember("command");
  d.AddMember("command", command, d.GetAllocator());
  run.metadata_json = plughost::sdk::to_json(d);
}

// Settles a run that failed before its command could run (djdesk's _fail_run).
void fail_before_run(RunRecord& run, RunWriter& writer, const std::string& message,
                     const std::string& workspace_path, const std::string& safe_prefix) {
  writer.line(message, true);
  rapidjson::Document d = metadata_of(run);
  auto& a = d.GetAllocator();
  rapidjson::Value command(rapidjson::kObjectType);
  command.AddMember("raw", rapidjson::Value(run.command.c_str(), a), a);
  command.AddMember("workspace_path", rapidjson::Value(workspace_path.c_str(), a), a);
  command.AddMember("error", rapidjson::Value(message.c_str(), a), a);
  if (!safe_prefix.empty()) {
    command.AddMember("safe_prefix", rapidjson::Value(safe_prefix.c_str(), a), a);
  }
  set_command_metadata(run, std::move(command), d);
  run.status = "failed";
  run.completed_at = now_unix();
  writer.progress(100);
}

}  // namespace

void PresetRunner::run(TaskContext& task) const {
  auto payload = task.payload();
  if (!payload.IsObject() || !payload.HasMember("run_id") || !payload["run_id"].IsInt64()) {
    throw std::invalid_argument("payload needs an integer run_id");
  }
  std::optional<RunRecord> found = runs_.get(payload["run_id"].GetInt64());
  if (!found) throw std::runtime_error("task run not found");
  RunRecord& run = *found;
  if (run.finished()) return;  // delivered again after it settled
  RunWriter writer(run, runs_, task);
  const Workspace* workspace = settings_.workspace(run.workspace);
  std::string workspace_path = workspace ? workspace->path : std::string();

  SafeCommand safe = check_safe_command(run.command, settings_.safe_commands);
  if (!safe.ok()) return fail_before_run(run, writer, safe.error, workspace_path, {});

  run.status = "running";
  run.started_at = now_unix();
  writer.line("Executing `" + run.command + "` inside " + workspace_path, true);
  writer.progress(5);
  if (!workspace) {
    return fail_before_run(run, writer, "Workspace path does not exist.", workspace_path,
                           safe.safe_prefix);
  }
  PathCheck path = resolve_workspace_path(workspace->path);
  if (!path.ok()) {
    return fail_before_run(run, writer, path.error, workspace_path, safe.safe_prefix);
  }

  ProcessSpec spec;
  spec.argv = {workspace->python};  // the allow-list guarantees "python manage.py …"
  spec.argv.insert(spec.argv.end(), safe.args.begin() + 1, safe.args.end());
  spec.cwd = path.resolved;
  spec.env = command_environment(*workspace);
  const Preset* preset = settings_.preset(run.preset);
  spec.timeout_seconds = preset ? settings_.timeout_for(*preset) : settings_.timeout_seconds;
  spec.max_output_bytes = settings_.max_output_bytes;
  spec.max_output_lines = settings_.max_output_lines;
  ProcessEvents events;
  events.line = [&](std::string_view line) { writer.line(line); };
  events.notice = [&](std::string_view notice) { writer.line(notice, true); };
  events.cancelled = [&] { return task.cancelled(); };
  ProcessResult result = run_process(spec, events);
  if (!result.started) {
    return fail_before_run(run, writer, "Unable to start command: " + result.start_error,
                           workspace_path, safe.safe_prefix);
  }

  run.progress = 95;
  std::string last = result.timed_out   ? "Command timed out before completion."
                     : result.cancelled ? "Command cancelled before completion."
                                        : "Command finished with exit code " +
                                              std::to_string(result.exit_code) + ".";
  writer.line(last, true);
  bool succeeded = result.exit_code == 0 && !result.timed_out && !result.cancelled;
  rapidjson::Document d = metadata_of(run);
  auto& a = d.GetAllocator();
  rapidjson::Value command(rapidjson::kObjectType);
  command.AddMember("raw", rapidjson::Value(run.command.c_str(), a), a);
  command.AddMember("safe_prefix", rapidjson::Value(safe.safe_prefix.c_str(), a), a);
  command.AddMember("workspace_path", rapidjson::Value(workspace_path.c_str(), a), a);
  command.AddMember("exit_code", result.exit_code, a);
  command.AddMember("duration_seconds", std::round(result.duration_seconds * 1000) / 1000, a);
  command.AddMember("output_lines", static_cast<uint64_t>(result.output_lines), a);
  command.AddMember("timed_out", result.timed_out, a);
  command.AddMember("output_truncated", result.output_capped, a);
  if (!succeeded) command.AddMember("error", rapidjson::Value(last.c_str(), a), a);
  set_command_metadata(run, std::move(command), d);
  run.status = succeeded ? "succeeded" : result.cancelled ? "cancelled" : "failed";
  run.completed_at = now_unix();
  writer.progress(100);
  if (result.cancelled) throw std::runtime_error("cancelled before completion");
}

void settle_orphaned_run(RunRecord& run, const RunStore& runs, const HostServices& host) {
  if (run.finished() || !run.task_id) return;
  auto json = host.host_task(*run.task_id);
  rapidjson::Document task;
  if (json) task.Parse(json->c_str());
  std::string status;
  if (json && task.IsObject() && task.HasMember("status") && task["status"].IsString()) {
    status = task["status"].GetString();
  }
  bool lost = !json;
  if (!lost && status != "failed" && status != "timed_out" && status != "cancelled") return;
  std::string reason = lost ? "task record is gone"
                       : task.HasMember("error") && task["error"].IsString()
                           ? task["error"].GetString()
                           : status;
  std::string message = status == "cancelled" ? "Command cancelled before completion."
                                              : "Task ended before completion: " + reason + ".";
  if (!run.log.empty()) run.log += '\n';
  run.log += stamped(message);
  rapidjson::Document d = metadata_of(run);
  rapidjson::Value command(rapidjson::kObjectType);
  if (d.HasMember("command") && d["command"].IsObject()) {
    command.CopyFrom(d["command"], d.GetAllocator());
  } else {
    command.AddMember("raw", rapidjson::Value(run.command.c_str(), d.GetAllocator()),
                      d.GetAllocator());
  }
  if (command.HasMember("error")) command.RemoveMember("error");
  command.AddMember("error", rapidjson::Value(message.c_str(), d.GetAllocator()), d.GetAllocator());
  set_command_metadata(run, std::move(command), d);
  run.status = status == "cancelled" ? "cancelled" : "failed";
  run.progress = 100;
  run.completed_at = now_unix();
  runs.update(run);
}

}  // namespace inspector
