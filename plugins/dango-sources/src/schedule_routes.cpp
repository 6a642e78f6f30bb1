// The schedule routes (seed: Schedules): list, details, history, trigger, reload, cancel,
// unscheduled sources.
#include <algorithm>
#include <set>

#include "ops.hpp"
#include "replies.hpp"
#include "time_text.hpp"

namespace dango {

namespace {

int int_param(const sdk::Request& rq, const char* name, int fallback, int low, int high) {
  auto text = rq.query(name);
  if (!text || text->empty()) return fallback;
  std::string s(*text);
  bool digits = s.find_first_not_of("-0123456789") == std::string::npos && s.size() < 10 &&
                s.find('-', 1) == std::string::npos;
  if (!digits || s == "-") {
    throw error_reply(400, "DANGO-V001", std::string(name) + " must be an integer");
  }
  return std::clamp(std::stoi(s), low, high);
}

void write_execution(Json& j, const ScheduleExecution& e) {
  j.begin()
      .key("id")
      .num(e.id)
      .key("execution_id")
      .num(e.id)
      .key("schedule")
      .str(e.schedule)
      .key("schedule_name")
      .str(e.schedule)
      .key("trigger")
      .str(e.trigger)
      .key("triggered_by")
      .str(e.triggered_by)
      .key("due_at")
      .opt(e.due_at)
      .key("started_at")
      .str(e.started_at)
      .key("finished_at")
      .opt(e.finished_at)
      .key("status")
      .str(e.status)
      .key("job_id")
      .opt(e.job_id)
      .key("sources")
      .begin_array();
  for (const auto& s : e.sources) j.str(s);
  j.end_array().key("skipped").begin_array();
  for (const auto& s : e.skipped) j.str(s);
  j.end_array().key("models").begin_array();
  for (const auto& s : e.models) j.str(s);
  j.end_array().key("models_status");
  if (e.models_status.empty()) {
    j.null();
  } else {
    j.str(e.models_status);
  }
  j.key("model_results").begin();
  for (const auto& [model, status] : e.model_results) j.key(model).str(status);
  j.end().key("models_finished_at").opt(e.models_finished_at);
  j.key("rows_loaded").num(e.rows_loaded).key("error").opt(e.error).end();
}

void write_schedule(Json& j, Ops& ops, const ScheduleDef& s) {
  auto last = ops.schedules.last_execution(s.name);
  auto active = ops.schedules.active(s.name);
  j.begin()
      .key("name")
      .str(s.name)
      .key("cron")
      .str(s.cron)
      .key("timezone")
      .str(s.timezone)
      .key("enabled")
      .flag(s.enabled)
      .key("description")
      .str(s.description)
      .key("full_refresh")
      .flag(s.full_refresh)
      .key("sources")
      .begin_array();
  for (const auto& src : s.sources) j.str(src);
  j.end_array().key("models").begin_array();
  for (const auto& m : s.models) j.str(m);
  j.end_array();
  // The host scheduler's own next due time (GET /api/schedules and the scheduler agree).
  j.key("next_run").opt(s.enabled ? ops.schedules.next_run(s.name) : std::nullopt);
  j.key("last_run").opt(last ? std::optional<std::string>(last->started_at) : std::nullopt);
  j.key("last_status").opt(last ? std::optional<std::string>(last->status) : std::nullopt);
  j.key("active_jobs").begin_array();
  for (const auto& e : active) write_execution(j, e);
  j.end_array().key("is_running").flag(!active.empty()).end();
}

const ScheduleDef& find_schedule(const ScheduleFile& file, const sdk::Request& rq) {
  std::string raw(rq.param("name").value_or(""));
  auto name = normalize_source_name(raw);
  if (name) {
    for (const auto& s : file.schedules) {
      if (s.name == *name) return s;
    }
  }
  throw detail_reply(404, "Schedule '" + raw + "' not found");
}

}  // namespace

std::string caller_name(const sdk::Request& rq) {
  auto p = rq.principal();
  for (const char* key : {"name", "email", "id"}) {
    auto it = p.FindMember(key);
    if (it != p.MemberEnd() && it->value.IsString() && it->value.GetStringLength() > 0) {
      return it->value.GetString();
    }
  }
  return "anonymous";
}

bool is_anonymous(const rapidjson::Value& principal) {
  auto kind = principal.FindMember("kind");
  return kind == principal.MemberEnd() || !kind->value.IsString() ||
         std::string_view(kind->value.GetString()) == "anonymous";
}

void list_schedules(Ops& ops, const sdk::Request&, sdk::Response& rs) {
  auto file = ops.schedules.current();
  Json j;
  j.begin().key("schedules").begin_array();
  for (const auto& s : file->schedules) write_schedule(j, ops, s);
  j.end_array()
      .key("total")
      .num(static_cast<int64_t>(file->schedules.size()))
      .key("file")
      .str(ops.schedules.file_path())
      .key("version")
      .str(file->version)
      .end();
  rs.json_text(j.text());
}

void schedule_details(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  auto file = ops.schedules.current();
  const ScheduleDef& s = find_schedule(*file, rq);
  Json j;
  write_schedule(j, ops, s);
  // The schedule object plus its 10 newest executions.
  std::string body = j.text();
  Json recent;
  recent.begin_array();
  for (const auto& e : ops.schedules.history(s.name, 10, 0)) write_execution(recent, e);
  recent.end_array();
  body.pop_back();
  body += ",\"recent_executions\":" + recent.text() + "}";
  rs.json_text(body);
}

void schedule_history(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  auto file = ops.schedules.current();
  const ScheduleDef& s = find_schedule(*file, rq);
  int limit = int_param(rq, "limit", 20, 1, 10000);
  int offset = int_param(rq, "offset", 0, 0, 1 << 30);
  auto list = ops.schedules.history(s.name, limit, offset);
  int64_t total = ops.schedules.history_count(s.name);
  Json j;
  j.begin()
      .key("schedule")
      .str(s.name)
      .key("total")
      .num(total)
      .key("limit")
      .num(limit)
      .key("offset")
      .num(offset)
      .key("has_more")
      .flag(offset + static_cast<int64_t>(list.size()) < total)
      .key("executions")
      .begin_array();
  for (const auto& e : list) write_execution(j, e);
  j.end_array().end();
  rs.json_text(j.text());
}

void recent_schedule_history(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  int limit = int_param(rq, "limit", 20, 1, 10000);
  auto list = ops.schedules.history("", limit, 0);
  Json j;
  j.begin().key("count").num(static_cast<int64_t>(list.size())).key("executions").begin_array();
  for (const auto& e : list) write_execution(j, e);
  j.end_array().end();
  rs.json_text(j.text());
}

void trigger_schedule(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  auto file = ops.schedules.current();
  const ScheduleDef& s = find_schedule(*file, rq);
  auto e = ops.schedules.fire(s, "manual", caller_name(rq), std::nullopt);
  if (e.sources.empty() && !s.sources.empty()) {
    throw error_reply(409, "DANGO-SYNC-004",
                      "Nothing to start for schedule " + s.name + ": " +
                          (e.skipped.empty() ? "" : e.skipped.front()));
  }
  Json j;
  j.begin()
      .key("success")
      .flag(true)
      .key("message")
      .str("Schedule " + s.name + " triggered")
      .key("execution")
      .raw([&] {
        Json x;
        write_execution(x, e);
        return x.text();
      }())
      .key("execution_id")
      .num(e.id)
      .key("job_id")
      .opt(e.job_id)
      .end();
  rs.json_text(j.text());
}

void reload_schedules(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  std::shared_ptr<const ScheduleFile> file;
  try {
    file = ops.schedules.reload();
  } catch (const std::invalid_argument& e) {
    ops.core.host.log(PH_LOG_WARN,
                      std::string("dango-sources: schedules reload rejected: ") + e.what(), &rq);
    throw error_reply(
        400, "DANGO-SCHED-001",
        std::string("Invalid schedules file; the previous schedules stay: ") + e.what());
  }
  Json j;
  j.begin()
      .key("success")
      .flag(true)
      .key("message")
      .str("Reloaded " + std::to_string(file->schedules.size()) + " schedule(s)")
      .key("count")
      .num(static_cast<int64_t>(file->schedules.size()))
      .key("version")
      .str(file->version)
      .key("schedules")
      .begin_array();
  for (const auto& s : file->schedules) j.str(s.name);
  j.end_array().end();
  rs.json_text(j.text());
}

void cancel_schedule_job(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  std::string raw(rq.param("job_id").value_or(""));
  if (raw.empty() || raw.size() > 18 || raw.find_first_not_of("0123456789") != std::string::npos) {
    throw detail_reply(404, "Job '" + raw + "' not found");
  }
  int64_t job = std::stoll(raw);
  auto asked = ops.schedules.cancel_job(job);
  if (!asked) throw detail_reply(404, "Job '" + raw + "' not found");
  if (asked->empty()) throw error_reply(409, "DANGO-SCHED-002", "Job " + raw + " is not running");
  Json j;
  j.begin()
      .key("success")
      .flag(true)
      .key("message")
      .str("Cancel requested for job " + raw)
      .key("job_id")
      .num(job)
      .key("cancelled_sources")
      .begin_array();
  for (const auto& s : *asked) j.str(s);
  j.end_array().end();
  rs.json_text(j.text());
}

void unscheduled_sources(Ops& ops, const sdk::Request&, sdk::Response& rs) {
  std::set<std::string> scheduled;
  for (const auto& s : ops.schedules.current()->schedules) {
    if (s.enabled) scheduled.insert(s.sources.begin(), s.sources.end());
  }
  // A source's own `schedule:` (host scheduler) counts as scheduled too.
  Json j;
  j.begin().key("sources").begin_array();
  int64_t count = 0;
  for (const auto& src : ops.core.settings.sources) {
    if (scheduled.count(src.name) || !src.schedule.empty()) continue;
    ++count;
    j.begin()
        .key("name")
        .str(src.name)
        .key("type")
        .str(src.type)
        .key("enabled")
        .flag(src.enabled)
        .end();
  }
  j.end_array().key("count").num(count).end();
  rs.json_text(j.text());
}

}  // namespace dango
