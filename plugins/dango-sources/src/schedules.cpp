#include "schedules.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "replies.hpp"
#include "time_text.hpp"

namespace dango {

namespace {

std::string fnv1a_hex(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string at_line(const YAML::Node& n) {
  return n.Mark().line >= 0 ? " (line " + std::to_string(n.Mark().line + 1) + ")" : "";
}

std::vector<std::string> string_list(const YAML::Node& n, const std::string& where) {
  std::vector<std::string> out;
  if (!n) return out;
  if (!n.IsSequence()) throw std::invalid_argument(where + ": must be a list" + at_line(n));
  for (const auto& item : n) {
    if (!item.IsScalar()) throw std::invalid_argument(where + ": items must be names");
    out.push_back(item.Scalar());
  }
  return out;
}

bool bool_key(const YAML::Node& n, const std::string& where, bool fallback) {
  if (!n) return fallback;
  try {
    return n.as<bool>();
  } catch (const YAML::Exception&) {
    throw std::invalid_argument(where + ": must be true or false" + at_line(n));
  }
}

ScheduleDef parse_entry(const YAML::Node& n, size_t index, const Settings& settings) {
  std::string where = "schedules[" + std::to_string(index) + "]";
  if (!n.IsMap()) throw std::invalid_argument(where + ": must be a mapping" + at_line(n));
  static const std::set<std::string> kKeys = {"name",    "cron",         "timezone",
                                              "sources", "models",       "dbt_models",
                                              "enabled", "full_refresh", "description"};
  for (const auto& kv : n) {
    std::string key = kv.first.Scalar();
    if (!kKeys.count(key)) {
      throw std::invalid_argument(where + ": unknown key '" + key + "'" + at_line(kv.first));
    }
  }
  ScheduleDef d;
  auto name = normalize_source_name(n["name"] && n["name"].IsScalar() ? n["name"].Scalar() : "");
  if (!name) throw std::invalid_argument(where + ".name: must match [A-Za-z0-9_]{1,128}");
  d.name = *name;
  where += " (" + d.name + ")";
  d.cron = n["cron"] && n["cron"].IsScalar() ? n["cron"].Scalar() : "";
  std::string error;
  auto spec = parse_cron(d.cron, error);
  if (!spec) throw std::invalid_argument(where + ".cron: " + error + at_line(n["cron"]));
  d.spec = *spec;
  if (n["timezone"]) d.timezone = n["timezone"].Scalar();
  d.tz = find_time_zone(d.timezone, error);
  if (!d.tz) throw std::invalid_argument(where + ".timezone: " + error + at_line(n["timezone"]));
  for (const auto& s : string_list(n["sources"], where + ".sources")) {
    auto normal = normalize_source_name(s);
    if (!normal || !find_source(settings, *normal)) {
      throw std::invalid_argument(where + ".sources: no configured source '" + s + "'");
    }
    if (std::find(d.sources.begin(), d.sources.end(), *normal) == d.sources.end()) {
      d.sources.push_back(*normal);
    }
  }
  d.models = string_list(n["models"], where + ".models");
  for (auto& m : string_list(n["dbt_models"], where + ".dbt_models")) d.models.push_back(m);
  if (d.sources.empty() && d.models.empty()) {
    throw std::invalid_argument(where + ": needs sources or models");
  }
  d.full_refresh = bool_key(n["full_refresh"], where + ".full_refresh", false);
  d.enabled = bool_key(n["enabled"], where + ".enabled", true);
  if (n["description"]) d.description = n["description"].Scalar();
  return d;
}

void write_list(Json& j, const std::vector<std::string>& list) {
  j.begin_array();
  for (const auto& s : list) j.str(s);
  j.end_array();
}

std::vector<std::string> read_list(const std::string& json_text) {
  std::vector<std::string> out;
  rapidjson::Document d;
  std::string error;
  if (!sdk::parse_json(json_text, d, error) || !d.IsArray()) return out;
  for (const auto& v : d.GetArray()) {
    if (v.IsString()) out.push_back(v.GetString());
  }
  return out;
}

std::string list_json(const std::vector<std::string>& list) {
  Json j;
  write_list(j, list);
  return j.text();
}

constexpr const char* kExecColumns =
    "id, schedule, trigger_kind, triggered_by, due_at, started_at, job_id, sources, skipped,"
    " models, status, error";

ScheduleExecution read_execution(const sdk::Statement& st) {
  ScheduleExecution e;
  e.id = st.int64(0);
  e.schedule = st.text(1);
  e.trigger = st.text(2);
  e.triggered_by = st.text(3);
  e.due_at = st.maybe_text(4);
  e.started_at = st.text(5);
  if (!st.is_null(6)) e.job_id = st.int64(6);
  e.sources = read_list(st.text(7));
  e.skipped = read_list(st.text(8));
  e.models = read_list(st.text(9));
  e.status = st.text(10);
  e.error = st.maybe_text(11);
  return e;
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

ScheduleFile parse_schedule_file(const std::string& yaml_text, const Settings& settings) {
  ScheduleFile f;
  f.version = fnv1a_hex(yaml_text);
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw std::invalid_argument(std::string("not valid YAML: ") + e.what());
  }
  if (!root || root.IsNull()) return f;
  if (!root.IsMap()) throw std::invalid_argument("the file must be a mapping with `schedules:`");
  for (const auto& kv : root) {
    if (kv.first.Scalar() != "schedules") {
      throw std::invalid_argument("unknown key '" + kv.first.Scalar() + "'" + at_line(kv.first));
    }
  }
  YAML::Node list = root["schedules"];
  if (!list || list.IsNull()) return f;
  if (!list.IsSequence()) throw std::invalid_argument("schedules: must be a list" + at_line(list));
  for (size_t i = 0; i < list.size(); ++i) {
    ScheduleDef d = parse_entry(list[i], i, settings);
    for (const auto& other : f.schedules) {
      if (other.name == d.name) throw std::invalid_argument("schedules: duplicate name " + d.name);
    }
    f.schedules.push_back(std::move(d));
  }
  std::sort(f.schedules.begin(), f.schedules.end(),
            [](const ScheduleDef& a, const ScheduleDef& b) { return a.name < b.name; });
  return f;
}

ScheduleEngine::ScheduleEngine(sdk::Services host, const Settings& settings, SyncEngine& engine,
                               std::string file_path)
    : host_(host),
      settings_(settings),
      engine_(engine),
      path_(std::move(file_path)),
      file_(std::make_shared<ScheduleFile>()) {}

namespace {

// nullopt when the file does not exist; throws std::invalid_argument when it cannot be read.
std::optional<std::string> read_schedule_text(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

void ScheduleEngine::start() {
  try {
    auto text = read_schedule_text(path_);
    auto file = std::make_shared<ScheduleFile>(parse_schedule_file(text.value_or(""), settings_));
    {
      std::lock_guard<std::mutex> lock(mu_);
      file_ = file;
    }
    arm_all(*file);
  } catch (const std::exception& e) {
    host_.error("dango-sources: schedules file " + path_ + " rejected, no schedules: " + e.what());
  }
}

std::shared_ptr<const ScheduleFile> ScheduleEngine::reload() {
  auto text = read_schedule_text(path_);
  auto file = std::make_shared<ScheduleFile>(parse_schedule_file(text.value_or(""), settings_));
  std::map<std::string, std::pair<int64_t, int64_t>> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    file_ = file;
    old.swap(armed_);
  }
  // Ticks armed for the old file would find their version gone and do nothing; cancelling them
  // keeps the queue clean (a tick already claimed simply finishes as a no-op).
  for (const auto& [name, due_and_task] : old) host_.cancel_task(due_and_task.second);
  arm_all(*file);
  host_.info("dango-sources: reloaded " + std::to_string(file->schedules.size()) +
             " schedule(s) from " + path_);
  return file;
}

std::shared_ptr<const ScheduleFile> ScheduleEngine::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return file_;
}

void ScheduleEngine::arm_all(const ScheduleFile& file) {
  const auto now = static_cast<int64_t>(unix_now());
  for (const auto& s : file.schedules) {
    if (s.enabled) arm(s, file.version, now);
  }
}

void ScheduleEngine::arm(const ScheduleDef& s, const std::string& version, int64_t after) {
  auto due = next_fire(s.spec, s.tz, after);
  if (!due) return;
  sdk::TaskRequest rq;
  rq.kind = kScheduleTickTask;
  rq.payload_json = Json()
                        .begin()
                        .key("schedule")
                        .str(s.name)
                        .key("version")
                        .str(version)
                        .key("due")
                        .num(*due)
                        .end()
                        .text();
  rq.idempotency_key =
      "dango-sources:schedule:" + s.name + ":" + version + ":" + std::to_string(*due);
  rq.delay_seconds = std::max(0.0, static_cast<double>(*due) - unix_now());
  rq.max_attempts = 1;
  rq.timeout_seconds = 60;
  try {
    int64_t task = host_.enqueue(rq);
    std::lock_guard<std::mutex> lock(mu_);
    armed_[s.name] = {*due, task};
  } catch (const std::exception& e) {
    host_.error("dango-sources: could not arm schedule " + s.name + ": " + e.what());
  }
}

void ScheduleEngine::run_tick(sdk::TaskContext& task) {
  rapidjson::Document p = task.payload();
  auto member = [&](const char* k) -> const rapidjson::Value* {
    auto it = p.FindMember(k);
    return it == p.MemberEnd() ? nullptr : &it->value;
  };
  const auto* name = member("schedule");
  const auto* version = member("version");
  const auto* due = member("due");
  if (!name || !name->IsString() || !version || !version->IsString() || !due || !due->IsInt64()) {
    throw std::runtime_error("schedule tick without schedule, version and due");
  }
  auto file = current();
  if (file->version != version->GetString()) {
    // Another host may have reloaded a newer file: read it once before calling the tick stale.
    try {
      auto text = read_schedule_text(path_);
      if (text && parse_schedule_file(*text, settings_).version == version->GetString()) {
        file = reload();
      }
    } catch (const std::exception&) {
    }
  }
  const ScheduleDef* def = nullptr;
  for (const auto& s : file->schedules) {
    if (s.name == name->GetString()) def = &s;
  }
  if (!def || !def->enabled || file->version != version->GetString()) {
    task.log("stale tick: the schedule changed since it was armed");
    return;
  }
  auto e = fire(*def, "cron", "scheduler", due->GetInt64());
  task.result(Json().begin().key("execution_id").num(e.id).end().text());
  const auto now = static_cast<int64_t>(unix_now());
  arm(*def, file->version, std::max(due->GetInt64(), now));
}

ScheduleExecution ScheduleEngine::fire(const ScheduleDef& s, const std::string& trigger,
                                       const std::string& triggered_by,
                                       std::optional<int64_t> due) {
  ScheduleExecution e;
  e.schedule = s.name;
  e.trigger = trigger;
  e.triggered_by = triggered_by;
  if (due) e.due_at = iso_utc(*due);
  e.started_at = iso_utc_now();
  e.models = s.models;
  SyncOptions options;
  options.full_refresh = s.full_refresh;
  std::vector<const SourceConfig*> runnable;
  for (const auto& name : s.sources) {
    const SourceConfig* src = find_source(settings_, name);
    if (!src || !src->enabled) {
      e.skipped.push_back(name + ": disabled");
    } else {
      runnable.push_back(src);
    }
  }
  if (!runnable.empty()) {
    std::vector<std::string> names;
    for (const auto* src : runnable) names.push_back(src->name);
    e.job_id = engine_.create_job(names, s.full_refresh);
    for (const auto* src : runnable) {
      if (engine_.start(*src, options, "schedule", e.job_id)) {
        e.sources.push_back(src->name);
      } else {
        e.skipped.push_back(src->name + ": a sync is already running");
      }
    }
  }
  e.status = e.sources.empty() ? "skipped" : "running";
  if (!s.models.empty()) {
    // No dbt runner lives in this plugin: the models are recorded, not run, and said so.
    e.error = "models not run (no dbt runner configured): " + list_json(s.models);
  }
  {
    // Scoped: an unfinished INSERT … RETURNING keeps SQLite's write lock until it is finalized.
    auto st = host_.sql(
        "INSERT INTO dango_schedule_runs (schedule, trigger_kind, triggered_by, due_at, started_at,"
        " job_id, sources, skipped, models, status, error) VALUES (:s, :t, :by, :due, :at, :job,"
        " :src, :skip, :models, :status, :err) RETURNING id");
    st.bind("s", e.schedule)
        .bind("t", e.trigger)
        .bind("by", e.triggered_by)
        .bind("due", e.due_at)
        .bind("at", e.started_at)
        .bind("job", e.job_id)
        .bind("src", list_json(e.sources))
        .bind("skip", list_json(e.skipped))
        .bind("models", list_json(e.models))
        .bind("status", e.status)
        .bind("err", e.error);
    if (!st.step()) throw sdk::Error(PH_ERR_INTERNAL, "INSERT … RETURNING gave no id");
    e.id = st.int64(0);
  }
  engine_.log(std::nullopt, "info", "schedule_fired",
              "Schedule " + s.name + " (" + trigger + ") started " +
                  std::to_string(e.sources.size()) + " sync(s)" +
                  (e.skipped.empty() ? "" : ", skipped " + std::to_string(e.skipped.size())));
  return e;
}

std::optional<int64_t> ScheduleEngine::next_run(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = armed_.find(name);
  if (it == armed_.end()) return std::nullopt;
  return it->second.first;
}

void ScheduleEngine::settle(ScheduleExecution& e) {
  if (!e.job_id) return;
  auto runs = engine_.job_runs(*e.job_id);
  if (runs.empty()) return;
  bool running = false, failed = false, timeout = false, cancelled = false;
  std::optional<std::string> finished;
  int64_t rows = 0;
  for (const auto& r : runs) {
    running = running || r.status == "running";
    failed = failed || r.status == "failed";
    timeout = timeout || r.status == "timeout";
    cancelled = cancelled || r.status == "cancelled";
    rows += r.rows_loaded;
    if (r.finished_at && (!finished || *r.finished_at > *finished)) finished = r.finished_at;
    if (r.error && !e.error) e.error = r.source + ": " + *r.error;
  }
  e.rows_loaded = rows;
  e.status = running     ? "running"
             : failed    ? "failed"
             : timeout   ? "timeout"
             : cancelled ? "cancelled"
                         : "success";
  if (!running) e.finished_at = finished;
}

std::vector<ScheduleExecution> ScheduleEngine::select(const std::string& where,
                                                      const std::string& schedule, int limit,
                                                      int offset) {
  std::vector<ScheduleExecution> out;
  {
    auto st = host_.sql(std::string("SELECT ") + kExecColumns + " FROM dango_schedule_runs " +
                        where + " ORDER BY id DESC LIMIT :n OFFSET :o");
    if (!schedule.empty()) st.bind("s", schedule);
    st.bind("n", static_cast<int64_t>(limit)).bind("o", static_cast<int64_t>(offset));
    while (st.step()) out.push_back(read_execution(st));
  }
  for (auto& e : out) settle(e);
  return out;
}

std::vector<ScheduleExecution> ScheduleEngine::history(const std::string& schedule, int limit,
                                                       int offset) {
  return select(schedule.empty() ? "" : "WHERE schedule = :s", schedule, limit, offset);
}

int64_t ScheduleEngine::history_count(const std::string& schedule) {
  auto st =
      host_.sql(schedule.empty() ? "SELECT COUNT(*) FROM dango_schedule_runs"
                                 : "SELECT COUNT(*) FROM dango_schedule_runs WHERE schedule = :s");
  if (!schedule.empty()) st.bind("s", schedule);
  return st.step() ? st.int64(0) : 0;
}

std::optional<ScheduleExecution> ScheduleEngine::last_execution(const std::string& schedule) {
  auto list = history(schedule, 1, 0);
  if (list.empty()) return std::nullopt;
  return list.front();
}

std::vector<ScheduleExecution> ScheduleEngine::active(const std::string& schedule) {
  auto list = select(
      "WHERE schedule = :s AND EXISTS (SELECT 1 FROM dango_sync_runs r WHERE r.job_id ="
      " dango_schedule_runs.job_id AND r.status = 'running')",
      schedule, 100, 0);
  list.erase(std::remove_if(list.begin(), list.end(),
                            [](const ScheduleExecution& e) { return e.status != "running"; }),
             list.end());
  return list;
}

std::optional<std::vector<std::string>> ScheduleEngine::cancel_job(int64_t job_id) {
  std::string created;
  if (!engine_.job_exists(job_id, created)) return std::nullopt;
  std::vector<std::string> asked;
  for (const auto& r : engine_.job_runs(job_id)) {
    if (r.status == "running" && r.task_id && host_.cancel_task(*r.task_id)) {
      asked.push_back(r.source);
      engine_.log(r.source, "warning", "sync_cancel_requested", "Cancel requested", r.id);
    }
  }
  return asked;
}

}  // namespace dango
