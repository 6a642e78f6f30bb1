#include "api.hpp"

#include <cmath>

#include "clock.hpp"
#include "django_responses.hpp"
#include "preset_run.hpp"
#include "status_payload.hpp"
#include "task_run_form.hpp"

namespace inspector {
namespace {

using plughost::sdk::Request;
using plughost::sdk::Response;

constexpr double kHostTimeoutMargin = 30;  // the run's own timeout fires first

std::optional<int64_t> positive_id(std::optional<std::string_view> text) {
  if (!text || text->empty() || text->size() > 18) return std::nullopt;
  int64_t id = 0;
  for (char c : *text) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + (c - '0');
  }
  return id > 0 ? std::optional<int64_t>(id) : std::nullopt;
}

}  // namespace

void InspectorApi::workspace_status(const Request& rq, Response& rs) const {
  std::string slug(rq.param("slug").value_or(""));
  const Workspace* workspace = valid_slug(slug) ? settings_.workspace(slug) : nullptr;
  if (!workspace) return respond_not_found(rs);
  rapidjson::Document payload;
  build_status_payload({settings_, runs_, scans_, host_}, *workspace, payload);
  rs.json(payload);
}

void InspectorApi::create_task_run(const Request& rq, Response& rs) const {
  std::optional<FormFields> fields = read_form(rq.body(), rq.header("content-type").value_or(""));
  if (!fields) {
    return rs.json_text(errors_json({{"__all__", {"Request body is not valid JSON."}}}), 400);
  }
  TaskRunValidation form = validate_task_run(*fields, settings_);
  if (!form.request) return rs.json_text(errors_json(form.errors), 400);
  std::optional<RunRecord> run =
      dispatch(*form.request->workspace, *form.request->preset, form.request->notes);
  if (!run) {
    return rs.json_text(errors_json({{"__all__", {"Unable to dispatch the requested task."}}}),
                        400);
  }
  rapidjson::Document payload;
  build_status_payload({settings_, runs_, scans_, host_}, *form.request->workspace, payload);
  auto& a = payload.GetAllocator();
  rapidjson::Value task_run(rapidjson::kObjectType);
  task_run.AddMember("id", run->id, a);
  task_run.AddMember("status", rapidjson::Value(run->status.c_str(), a), a);
  task_run.AddMember("progress", run->progress, a);
  task_run.AddMember("log", rapidjson::Value(run->log.c_str(), a), a);
  payload.AddMember("task_run", task_run, a);
  rs.json(payload, 201);
}

std::optional<RunRecord> InspectorApi::dispatch(const Workspace& workspace, const Preset& preset,
                                                const std::string& notes) const {
  RunRecord run;
  run.workspace = workspace.slug;
  run.preset = preset.key;
  run.label = preset.label;
  run.command = preset.command;
  run.notes = notes;
  run.requested_at = now_unix();
  rapidjson::Document metadata(rapidjson::kObjectType);
  metadata.AddMember("notes", rapidjson::Value(notes.c_str(), metadata.GetAllocator()),
                     metadata.GetAllocator());
  run.metadata_json = plughost::sdk::to_json(metadata);
  run.id = runs_.create(run);
  plughost::sdk::TaskRequest request;
  request.kind = std::string("inspector/") + kRunPresetTask;
  request.payload_json = "{\"run_id\":" + std::to_string(run.id) + "}";
  request.max_attempts = 1;
  request.timeout_seconds = settings_.timeout_for(preset) + kHostTimeoutMargin;
  try {
    int64_t task_id = host_.enqueue_task(request);
    runs_.set_task(run.id, task_id);
    run.task_id = task_id;
  } catch (const std::exception& e) {
    host_.warn_log(std::string("task run not queued: ") + e.what());
    run.status = "failed";
    run.log = stamped("Unable to enqueue task; please try again later.");
    run.completed_at = now_unix();
    runs_.update(run);
    return std::nullopt;
  }
  return run;
}

void InspectorApi::task_run_detail(const Request& rq, Response& rs) const {
  std::optional<int64_t> id = positive_id(rq.param("id"));
  std::optional<RunRecord> run = id ? runs_.get(*id) : std::nullopt;
  if (!run) return respond_not_found(rs);
  settle_orphaned_run(*run, runs_, host_);
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("id", run->id, a);
  d.AddMember("preset", rapidjson::Value(run->preset.c_str(), a), a);
  d.AddMember("label", rapidjson::Value(run->label.c_str(), a), a);
  d.AddMember("status", rapidjson::Value(run->status.c_str(), a), a);
  d.AddMember("progress", run->progress, a);
  d.AddMember("log", rapidjson::Value(run->log.c_str(), a), a);
  rapidjson::Document metadata;
  metadata.Parse(run->metadata_json.c_str());
  rapidjson::Value m;
  if (!metadata.HasParseError() && metadata.IsObject()) {
    m.CopyFrom(metadata, a);
  } else {
    m.SetObject();
  }
  d.AddMember("metadata", m, a);
  d.AddMember("workspace", rapidjson::Value(run->workspace.c_str(), a), a);
  d.AddMember("requested_at", rapidjson::Value(iso_timestamp(run->requested_at).c_str(), a), a);
  d.AddMember("started_at",
              run->started_at ? rapidjson::Value(iso_timestamp(*run->started_at).c_str(), a)
                              : rapidjson::Value(),
              a);
  d.AddMember("completed_at",
              run->completed_at ? rapidjson::Value(iso_timestamp(*run->completed_at).c_str(), a)
                                : rapidjson::Value(),
              a);
  rs.json(d);
}

}  // namespace inspector
