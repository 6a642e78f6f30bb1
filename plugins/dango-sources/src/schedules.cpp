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

// The `models` column: a JSON array of names (no models, or rows from before models ran), or
// the models state {"names", "status", "results": {model: status}, "finished_at", "error"}.
std::string models_state_json(const ScheduleExecution& e) {
  if (e.models_status.empty()) return list_json(e.models);
  Json j;
  j.begin().key("names");
  write_list(j, e.models);
  j.key("status").str(e.models_status).key("results").begin();
  for (const auto& [model, status] : e.model_results) j.key(model).str(status);
  j.end().key("finished_at").opt(e.models_finished_at).end();
  return j.text();
}

void read_models_state(const std::string& text, ScheduleExecution& e) {
  rapidjson::Document d;
  std::string error;
  if (!sdk::parse_json(text, d, error)) return;
  if (d.IsArray()) {
    e.models = read_list(text);
    return;
  }
  if (!d.IsObject()) return;
  if (d.HasMember("names")) e.models = read_list(sdk::to_json(d["names"]));
  if (d.HasMember("status") && d["status"].IsString()) e.models_status = d["status"].GetString();
  if (d.HasMember("results") && d["results"].IsObject()) {
    for (const auto& m : d["results"].GetObject()) {
      if (m.value.IsString()) e.model_results.emplace_back(m.name.GetString(), m.value.GetString());
    }
  }
  if (d.HasMember("finished_at") && d["finished_at"].IsString()) {
    e.models_finished_at = d["finished_at"].GetString();
  }
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
  read_models_state(st.text(9), e);
  e.status = st.text(10);
  e.error = st.maybe_text(11);
  return e;
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

std::vector<sdk::Schedule> source_schedules(const Settings& settings) {
  std::vector<sdk::Schedule> out;
  for (const auto& s : settings.sources) {
    if (!s.enabled || s.schedule.empty()) continue;
    sdk::Schedule h;
    h.name = "dango-sources." + s.name;
    h.cron = s.schedule;
    h.task_kind = kSyncTask;
    h.payload_json = Json().begin().key("source").str(s.name).end().text();
    out.push_back(std::move(h));
  }
  return out;
}

void ScheduleEngine::install(const ScheduleFile& file) {
  std::vector<sdk::Schedule> set = source_schedules(settings_);
  for (const auto& s : file.schedules) {
    if (!s.enabled) continue;
    sdk::Schedule h;
    h.name = host_schedule_name(s.name);
    h.cron = s.cron;
    h.timezone = s.timezone;
    h.task_kind = kScheduleTickTask;
    h.payload_json = Json().begin().key("schedule").str(s.name).end().text();
    h.payload_with_due = true;
    set.push_back(std::move(h));
  }
  try {
    host_.replace_schedules(set);
  } catch (const sdk::Error& e) {
    throw std::invalid_argument(std::string("the host scheduler refused it: ") + e.what());
  }
}

void ScheduleEngine::start() {
  std::lock_guard<std::mutex> reloading(reload_mu_);
  try {
    auto text = read_schedule_text(path_);
    auto file = std::make_shared<ScheduleFile>(parse_schedule_file(text.value_or(""), settings_));
    install(*file);
    std::lock_guard<std::mutex> lock(mu_);
    file_ = file;
  } catch (const std::exception& e) {
    host_.error("dango-sources: schedules file " + path_ + " rejected, no schedules: " + e.what());
  }
}

std::shared_ptr<const ScheduleFile> ScheduleEngine::reload() {
  std::lock_guard<std::mutex> reloading(reload_mu_);
  auto text = read_schedule_text(path_);
  auto file = std::make_shared<ScheduleFile>(parse_schedule_file(text.value_or(""), settings_));
  install(*file);  // throws, and changes nothing, when the host refuses the set
  {
    std::lock_guard<std::mutex> lock(mu_);
    file_ = file;
  }
  host_.info("dango-sources: reloaded " + std::to_string(file->schedules.size()) +
             " schedule(s) from " + path_);
  return file;
}

std::shared_ptr<const ScheduleFile> ScheduleEngine::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return file_;
}

void ScheduleEngine::run_tick(sdk::TaskContext& task) {
  rapidjson::Document p = task.payload();
  if (p.IsObject() && p.HasMember("version")) {
    // Armed by a release that ran schedules on its own delayed tasks; the host scheduler has
    // its own tick for the same due time.
    task.log("tick of an older release, superseded by the host scheduler's");
    return;
  }
  if (!p.IsObject() || !p.HasMember("schedule") || !p["schedule"].IsString() ||
      !p.HasMember("due") || !p["due"].IsInt64()) {
    throw std::runtime_error("schedule tick without schedule and due");
  }
  const std::string name = p["schedule"].GetString();
  const int64_t due = p["due"].GetInt64();
  // The file is the truth for every host: another host may have reloaded a newer one, whose set
  // this host's scheduler has not got yet. Reading a few hundred bytes per tick is nothing.
  auto file = current();
  try {
    auto text = read_schedule_text(path_);
    if (text && parse_schedule_file(*text, settings_).version != file->version) file = reload();
  } catch (const std::exception& e) {
    task.log(std::string("schedules file not reloaded: ") + e.what());
  }
  const ScheduleDef* def = nullptr;
  for (const auto& s : file->schedules) {
    if (s.name == name) def = &s;
  }
  // A tick for a due time the current definition does not have (the cron changed, or the
  // schedule was disabled or removed meanwhile) is stale.
  if (!def || !def->enabled || next_fire(def->spec, def->tz, due - 1) != due) {
    task.log("stale tick: schedule " + name + " does not fire at " + iso_utc(due) + " any more");
    return;
  }
  auto e = fire(*def, "cron", "scheduler", due);
  task.result(Json().begin().key("execution_id").num(e.id).end().text());
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
  // "starting" until every sync of the job is started: a sync that ends before the next one
  // was started must not let the models go early.
  if (!s.models.empty()) e.models_status = "starting";
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
  {
    // Recorded before any sync starts, so a sync that ends at once finds the execution waiting.
    // Scoped: an unfinished INSERT … RETURNING keeps SQLite's write lock until it is finalized.
    e.status = "running";
    auto st = host_.sql(
        "INSERT INTO dango_schedule_runs (schedule, trigger_kind, triggered_by, due_at, started_at,"
        " job_id, sources, skipped, models, status, error) VALUES (:s, :t, :by, :due, :at, NULL,"
        " '[]', :skip, :models, :status, NULL) RETURNING id");
    st.bind("s", e.schedule)
        .bind("t", e.trigger)
        .bind("by", e.triggered_by)
        .bind("due", e.due_at)
        .bind("at", e.started_at)
        .bind("skip", list_json(e.skipped))
        .bind("models", models_state_json(e))
        .bind("status", e.status);
    if (!st.step()) throw sdk::Error(PH_ERR_INTERNAL, "INSERT … RETURNING gave no id");
    e.id = st.int64(0);
  }
  if (!runnable.empty()) {
    std::vector<std::string> names;
    for (const auto* src : runnable) names.push_back(src->name);
    e.job_id = engine_.create_job(names, s.full_refresh);
    host_.sql("UPDATE dango_schedule_runs SET job_id = :job WHERE id = :id")
        .bind("job", e.job_id)
        .bind("id", e.id)
        .exec();
    for (const auto* src : runnable) {
      if (engine_.start(*src, options, "schedule", e.job_id)) {
        e.sources.push_back(src->name);
      } else {
        e.skipped.push_back(src->name + ": a sync is already running");
      }
    }
  }
  if (e.sources.empty() && e.models.empty()) e.status = "skipped";
  if (!e.models.empty()) e.models_status = "waiting";
  host_
      .sql(
          "UPDATE dango_schedule_runs SET sources = :src, skipped = :skip, status = :status,"
          " models = :models WHERE id = :id")
      .bind("src", list_json(e.sources))
      .bind("skip", list_json(e.skipped))
      .bind("status", e.status)
      .bind("models", models_state_json(e))
      .bind("id", e.id)
      .exec();
  engine_.log(
      std::nullopt, "info", "schedule_fired",
      "Schedule " + s.name + " (" + trigger + ") started " + std::to_string(e.sources.size()) +
          " sync(s)" + (e.skipped.empty() ? "" : ", skipped " + std::to_string(e.skipped.size())) +
          (e.models.empty() ? "" : ", then " + std::to_string(e.models.size()) + " model(s)"));
  // Syncs that already ended (or none started) do not publish again: check now as well.
  if (!e.models.empty()) queue_models(e.id);
  return e;
}

void ScheduleEngine::queue_models(int64_t id) {
  std::string waiting;
  auto found = load(id, &waiting);
  if (!found) return;
  ScheduleExecution e = *found;
  if (e.models_status != "waiting") return;
  if (e.job_id) {
    for (const auto& r : engine_.job_runs(*e.job_id)) {
      if (r.status == "running") return;  // its end publishes an event that brings us back
    }
  }
  e.models_status = "queued";
  // Compare-and-set: of several hosts (or events) seeing the syncs done, one queues the task.
  int64_t changed = host_
                        .sql(
                            "UPDATE dango_schedule_runs SET models = :next WHERE id = :id AND"
                            " models = :prev")
                        .bind("next", models_state_json(e))
                        .bind("id", id)
                        .bind("prev", waiting)
                        .exec();
  if (changed == 0) return;
  sdk::TaskRequest rq;
  rq.kind = kScheduleModelsTask;
  rq.payload_json = Json().begin().key("execution_id").num(id).end().text();
  rq.idempotency_key = "dango-sources:schedule-models:" + std::to_string(id);
  rq.max_attempts = 1;
  host_.enqueue(rq);
}

void ScheduleEngine::on_sync_event(std::string_view payload_json) {
  rapidjson::Document p;
  std::string error;
  if (!sdk::parse_json(payload_json, p, error) || !p.IsObject() || !p.HasMember("source") ||
      !p["source"].IsString()) {
    return;
  }
  std::vector<int64_t> waiting;
  {
    // Executions still waiting for their syncs, among the recent jobs of this source.
    auto st = host_.sql(
        "SELECT id FROM dango_schedule_runs WHERE models LIKE '%\"status\":\"waiting\"%' AND"
        " job_id IN (SELECT job_id FROM dango_sync_runs WHERE source = :src AND job_id IS NOT"
        " NULL ORDER BY id DESC LIMIT 20)");
    st.bind("src", std::string(p["source"].GetString()));
    while (st.step()) waiting.push_back(st.int64(0));
  }
  for (int64_t id : waiting) {
    try {
      queue_models(id);
    } catch (const std::exception& e) {
      host_.error("dango-sources: could not queue the models of schedule execution " +
                  std::to_string(id) + ": " + e.what());
    }
  }
}

void ScheduleEngine::run_models_task(sdk::TaskContext& task) {
  rapidjson::Document p = task.payload();
  if (!p.IsObject() || !p.HasMember("execution_id") || !p["execution_id"].IsInt64()) {
    throw std::runtime_error("schedule models task without execution_id");
  }
  const int64_t id = p["execution_id"].GetInt64();
  auto found = load(id, nullptr);
  if (!found) throw std::runtime_error("no schedule execution " + std::to_string(id));
  ScheduleExecution e = *found;
  auto save = [&] {
    host_.sql("UPDATE dango_schedule_runs SET models = :m WHERE id = :id")
        .bind("m", models_state_json(e))
        .bind("id", id)
        .exec();
  };
  bool synced = true;
  if (e.job_id) {
    for (const auto& r : engine_.job_runs(*e.job_id)) synced = synced && r.status == "success";
  }
  if (!synced || !run_models_) {
    // Models built on a failed load would publish stale or partial data as fresh.
    e.models_status = "skipped";
    e.models_finished_at = iso_utc_now();
    save();
    task.log(synced ? "no model runner" : "models skipped: a source sync did not succeed");
    return;
  }
  e.models_status = "running";
  save();
  std::string outcome = "success";
  try {
    e.model_results = run_models_(e.models, task);
    for (const auto& [model, status] : e.model_results) {
      if (status == "failed" || status == "skipped") {
        outcome = "failed";
      } else if (status == "tests_failed" && outcome == "success") {
        outcome = "tests_failed";
      }
    }
  } catch (const std::exception& ex) {
    outcome = "failed";
    task.log(std::string("models not run: ") + ex.what());
    host_.sql("UPDATE dango_schedule_runs SET error = :e WHERE id = :id")
        .bind("e", std::string("models: ") + ex.what())
        .bind("id", id)
        .exec();
  }
  e.models_status = outcome;
  e.models_finished_at = iso_utc_now();
  save();
  engine_.log(std::nullopt, outcome == "success" ? "info" : "error", "schedule_models_finished",
              "Schedule " + e.schedule + ": models " + outcome);
  task.result(Json().begin().key("status").str(outcome).end().text());
}

std::optional<std::string> ScheduleEngine::next_run(const std::string& name) const {
  auto json = host_.schedule_json(host_schedule_name(name));
  if (!json) return std::nullopt;
  rapidjson::Document d;
  std::string error;
  if (!sdk::parse_json(*json, d, error) || !d.IsObject() || !d.HasMember("next_run") ||
      !d["next_run"].IsString()) {
    return std::nullopt;
  }
  return std::string(d["next_run"].GetString());
}

void ScheduleEngine::settle(ScheduleExecution& e) {
  bool syncs_running = false;
  if (e.job_id) {
    settle_syncs(e);
    syncs_running = e.status == "running";
  }
  if (e.models_status.empty() || syncs_running) return;
  const std::string& m = e.models_status;
  if (m == "starting" || m == "waiting" || m == "queued" || m == "running") {
    e.status = "running";
    e.finished_at.reset();
    return;
  }
  if (m == "skipped") {
    if (!e.job_id) e.status = "skipped";
  } else if (m != "success" && (e.status == "success" || e.status == "running")) {
    e.status = "failed";
    std::string failed;
    for (const auto& [model, status] : e.model_results) {
      if (status != "success") failed += (failed.empty() ? "" : ", ") + model + " " + status;
    }
    if (!e.error) e.error = "models: " + (failed.empty() ? m : failed);
  } else if (e.status == "running") {
    e.status = "success";  // models only, all built
  }
  if (e.models_finished_at && (!e.finished_at || *e.models_finished_at > *e.finished_at)) {
    e.finished_at = e.models_finished_at;
  }
}

void ScheduleEngine::settle_syncs(ScheduleExecution& e) {
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

std::optional<ScheduleExecution> ScheduleEngine::load(int64_t id, std::string* models_text) {
  auto st =
      host_.sql(std::string("SELECT ") + kExecColumns + " FROM dango_schedule_runs WHERE id = :id");
  st.bind("id", id);
  if (!st.step()) return std::nullopt;
  ScheduleExecution e = read_execution(st);
  if (models_text) *models_text = st.text(9);
  while (st.step()) {
  }
  return e;
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
      "WHERE schedule = :s AND (EXISTS (SELECT 1 FROM dango_sync_runs r WHERE r.job_id ="
      " dango_schedule_runs.job_id AND r.status = 'running') OR models LIKE"
      " '%\"status\":\"starting\"%' OR models LIKE '%\"status\":\"waiting\"%' OR models LIKE"
      " '%\"status\":\"queued\"%' OR models LIKE"
      " '%\"status\":\"running\"%')",
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
