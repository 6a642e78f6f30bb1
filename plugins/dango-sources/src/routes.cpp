#include "routes.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

#include "replies.hpp"
#include "time_text.hpp"

namespace dango {

namespace fs = std::filesystem;

namespace {

constexpr const char* kFileColumn = "_dango_filename";

// ---- request helpers ----

const SourceConfig& source_param(Context& c, const sdk::Request& rq) {
  auto name = normalize_source_name(rq.param("name").value_or(""));
  if (!name) throw error_reply(400, "DANGO-V002", "Invalid source name");
  const SourceConfig* s = find_source(c.settings, *name);
  if (!s) throw detail_reply(404, "Source '" + *name + "' not found");
  return *s;
}

int limit_param(const sdk::Request& rq, int fallback) {
  auto text = rq.query("limit");
  if (!text || text->empty()) return fallback;
  std::string s(*text);
  size_t sign = s[0] == '-' ? 1 : 0;
  if (s.size() == sign || s.size() > 12 ||
      !std::all_of(s.begin() + static_cast<long>(sign), s.end(),
                   [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)) != 0; })) {
    throw error_reply(400, "DANGO-V001", "limit must be an integer");
  }
  return static_cast<int>(std::clamp<long long>(std::stoll(s), 1, 10000));
}

rapidjson::Document json_body(const sdk::Request& rq) {
  rapidjson::Document d;
  std::string error;
  if (rq.body().empty() || !sdk::parse_json(rq.body(), d, error) || !d.IsObject()) {
    throw detail_reply(422, "A JSON object body is required ({} is enough)");
  }
  return d;
}

bool bool_member(const rapidjson::Value& v, const char* key, const char* code) {
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || it->value.IsNull()) return false;
  if (!it->value.IsBool()) throw error_reply(400, code, std::string(key) + " must be a boolean");
  return it->value.GetBool();
}

bool valid_date(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  int month = std::stoi(s.substr(5, 2));
  int day = std::stoi(s.substr(8, 2));
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

std::string date_member(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || it->value.IsNull()) return "";
  std::string s = it->value.IsString() ? it->value.GetString() : "";
  if (!valid_date(s)) {
    throw error_reply(400, "DANGO-V003", std::string(key) + " must be a date YYYY-MM-DD");
  }
  return s;
}

// ---- answers ----

void write_run(Json& j, const SyncRun& r) {
  j.begin()
      .key("id")
      .num(r.id)
      .key("source")
      .str(r.source)
      .key("job_id")
      .opt(r.job_id)
      .key("status")
      .str(r.status)
      .key("full_refresh")
      .flag(r.full_refresh)
      .key("triggered_by")
      .str(r.triggered_by)
      .key("started_at")
      .str(r.started_at)
      .key("finished_at")
      .opt(r.finished_at)
      .key("duration_ms")
      .opt(r.duration_ms)
      .key("duration_seconds");
  if (r.duration_ms) {
    j.real(static_cast<double>(*r.duration_ms) / 1000.0);
  } else {
    j.null();
  }
  j.key("rows_loaded")
      .num(r.rows_loaded)
      .key("rows")
      .num(r.rows_loaded)
      .key("rows_deleted")
      .num(r.rows_deleted)
      .key("error")
      .opt(r.error)
      .end();
}

struct SourceState {
  std::string status;  // synced, syncing, failed, empty, not_synced, unknown
  std::optional<std::string> last_sync;
  std::optional<SyncRun> latest;
  std::optional<SyncRun> last_success;
  std::vector<WarehouseTable> tables;
  int64_t row_count = 0;
};

SourceState source_state(Context& c, const SourceConfig& s) {
  SourceState st;
  auto history = c.engine.runs(s.name, 50);
  if (!history.empty()) st.latest = history.front();
  for (const auto& r : history) {
    if (!st.last_sync && r.finished_at) st.last_sync = r.finished_at;
    if (r.status == "success") {
      st.last_success = r;
      break;
    }
  }
  bool warehouse_ok = true;
  try {
    st.tables = c.warehouse.source_tables(s.name);
  } catch (const std::exception& e) {
    warehouse_ok = false;
    c.host.warn(std::string("dango-sources: cannot read the warehouse: ") + e.what());
  }
  for (const auto& t : st.tables) st.row_count += t.row_count;
  if (!warehouse_ok) {
    st.status = "unknown";
  } else if (!st.latest) {
    st.status = st.row_count > 0 ? "synced" : "not_synced";
  } else if (st.latest->status == "running") {
    st.status = "syncing";
  } else if (st.latest->status != "success") {
    st.status = "failed";
  } else {
    st.status = st.row_count > 0 ? "synced" : "empty";
  }
  return st;
}

// Doc freshness {last_update, days_old} plus the original's status, hours_since_sync,
// last_sync_time, last_sync_status.
void write_freshness(Json& j, const SourceState& st) {
  j.begin();
  std::optional<std::string> last = st.last_success ? st.last_success->finished_at : std::nullopt;
  auto at = last ? parse_iso_utc(*last) : std::nullopt;
  j.key("last_update").opt(last);
  if (at) {
    int64_t seconds = std::max<int64_t>(0, now_ms() / 1000 - *at);
    double hours = static_cast<double>(seconds) / 3600.0;
    j.key("days_old").num(seconds / 86400);
    j.key("status").str(hours < 24 ? "fresh" : "stale");
    j.key("hours_since_sync").real(static_cast<double>(static_cast<int64_t>(hours * 10)) / 10.0);
  } else {
    j.key("days_old").null().key("status").str("never").key("hours_since_sync").null();
  }
  j.key("last_sync_time").opt(st.last_sync);
  j.key("last_sync_status");
  if (st.latest) {
    j.str(st.latest->status);
  } else {
    j.null();
  }
  j.end();
}

void write_tables(Json& j, const SourceState& st) {
  j.begin_array();
  for (const auto& t : st.tables) {
    j.begin()
        .key("name")
        .str(t.name)
        .key("row_count")
        .num(t.row_count)
        .key("schema")
        .str(t.schema)
        .end();
  }
  j.end_array();
}

void write_source(Json& j, Context& c, const SourceConfig& s, bool details) {
  SourceState st = source_state(c, s);
  j.begin()
      .key("name")
      .str(s.name)
      .key("type")
      .str(s.type)
      .key("enabled")
      .flag(s.enabled)
      .key("last_sync")
      .opt(st.last_sync)
      .key("row_count")
      .num(st.row_count)
      .key("status")
      .str(st.status)
      .key("freshness");
  write_freshness(j, st);
  j.key("tables");
  write_tables(j, st);
  j.key("schedule").str(s.schedule);
  if (details) {
    j.key("config").raw(masked_options_json(s.options_json));
    j.key("sync_mode").str(s.sync_mode);
    j.key("sync_history").begin_array();
    for (const auto& r : c.engine.runs(s.name, 20)) write_run(j, r);
    j.end_array();
  }
  j.end();
}

bool secret_key(std::string key) {
  std::transform(key.begin(), key.end(), key.begin(), ::tolower);
  for (const char* word :
       {"password", "api_key", "secret", "token", "credentials", "private_key", "client_secret"}) {
    if (key.find(word) != std::string::npos) return true;
  }
  return false;
}

std::string masked_url(const std::string& url);

void mask_value(rapidjson::Value& v, bool secret, rapidjson::Document::AllocatorType& a) {
  if (v.IsObject()) {
    for (auto& m : v.GetObject()) mask_value(m.value, secret || secret_key(m.name.GetString()), a);
  } else if (v.IsArray()) {
    for (auto& e : v.GetArray()) mask_value(e, secret, a);
  } else if (secret && !v.IsNull()) {
    std::string masked = mask_secret(v.IsString() ? v.GetString() : sdk::to_json(v));
    v.SetString(masked.c_str(), static_cast<rapidjson::SizeType>(masked.size()), a);
  } else if (v.IsString()) {
    // A URL with a password in it (the sql type's `url`) whatever its key.
    std::string masked = masked_url(v.GetString());
    if (masked != v.GetString()) {
      v.SetString(masked.c_str(), static_cast<rapidjson::SizeType>(masked.size()), a);
    }
  }
}

// postgresql://user:password@host/db → postgresql://user:pa*rd@host/db
std::string masked_url(const std::string& url) {
  size_t scheme = url.find("://");
  size_t at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + mask_secret(url.substr(colon + 1, at - colon - 1)) +
         url.substr(at);
}

struct FileRow {
  std::string name;
  bool on_disk = false;
  int64_t size = 0;
  std::optional<std::string> modified;
  int64_t rows = 0;
  bool loaded = false;
};

std::vector<std::string> file_extensions(const SourceConfig& s) {
  if (s.type == "json") return {".json", ".jsonl", ".ndjson"};
  return {".csv"};
}

}  // namespace

std::string mask_secret(const std::string& value) {
  if (value.size() <= 4) return "****";
  return value.substr(0, 2) + "*" + value.substr(value.size() - 2);
}

std::string masked_options_json(const std::string& options_json) {
  rapidjson::Document d;
  std::string error;
  if (!sdk::parse_json(options_json, d, error) || !d.IsObject()) return "{}";
  mask_value(d, false, d.GetAllocator());
  return sdk::to_json(d);
}

void service_status(Context& c, const sdk::Request&, sdk::Response& rs) {
  std::string error;
  bool up = c.warehouse.ping(error);
  int enabled = static_cast<int>(std::count_if(c.settings.sources.begin(), c.settings.sources.end(),
                                               [](const SourceConfig& s) { return s.enabled; }));
  Json j;
  j.begin()
      .key("status")
      .str(up ? "healthy" : "degraded")
      .key("timestamp")
      .str(iso_utc_now())
      .key("warehouse")
      .begin()
      .key("status")
      .str(up ? "healthy" : "unhealthy")
      .key("dialect")
      .str(c.warehouse.dialect());
  if (!up) j.key("error").str(error);
  j.end()
      .key("total_sources")
      .num(static_cast<int64_t>(c.settings.sources.size()))
      .key("enabled_sources")
      .num(enabled)
      .end();
  rs.json_text(j.text());
}

void project_config(Context& c, const sdk::Request&, sdk::Response& rs) {
  Json j;
  j.begin()
      .key("warehouse")
      .begin()
      .key("dialect")
      .str(c.warehouse.dialect())
      .key("url")
      .str(masked_url(c.settings.warehouse_url))
      .end()
      .key("data_dir")
      .str(c.settings.data_dir)
      .key("sources")
      .begin_array();
  for (const auto& s : c.settings.sources) {
    j.begin()
        .key("name")
        .str(s.name)
        .key("type")
        .str(s.type)
        .key("enabled")
        .flag(s.enabled)
        .key("schedule")
        .str(s.schedule)
        .key("options")
        .raw(masked_options_json(s.options_json))
        .end();
  }
  j.end_array().end();
  rs.json_text(j.text());
}

void list_sources(Context& c, const sdk::Request&, sdk::Response& rs) {
  Json j;
  j.begin_array();
  // Settings keep sources sorted by their lower-cased names: case-insensitive order.
  for (const auto& s : c.settings.sources) write_source(j, c, s, false);
  j.end_array();
  rs.json_text(j.text());
}

void source_details(Context& c, const sdk::Request& rq, sdk::Response& rs) {
  const SourceConfig& s = source_param(c, rq);
  Json j;
  write_source(j, c, s, true);
  rs.json_text(j.text());
}

void sync_source(Context& c, const sdk::Request& rq, sdk::Response& rs) {
  const SourceConfig& s = source_param(c, rq);
  rapidjson::Document body = json_body(rq);
  SyncOptions o;
  o.full_refresh = bool_member(body, "full_refresh", "DANGO-V001");
  o.allow_empty_replace = bool_member(body, "allow_empty_replace", "DANGO-V001");
  o.start_date = date_member(body, "start_date");
  o.end_date = date_member(body, "end_date");
  if (!s.enabled) throw error_reply(400, "DANGO-SYNC-002", "Source '" + s.name + "' is disabled");
  auto run = c.engine.start(s, o, "api");
  if (!run) {
    throw error_reply(409, "DANGO-SYNC-004", "Sync already running for " + s.name);
  }
  rs.json_text(Json()
                   .begin()
                   .key("success")
                   .flag(true)
                   .key("message")
                   .str("Sync started for " + s.name)
                   .key("source_name")
                   .str(s.name)
                   .key("started_at")
                   .str(run->started_at)
                   .key("run_id")
                   .num(run->id)
                   .end()
                   .text());
}

// Backfill "7d", "2w", "1m" (30 days) → the start date it means; throws 422 otherwise.
static std::string backfill_start(const std::string& spec) {
  if (spec.size() < 2) throw error_reply(422, "DANGO-SYNC-002", "Invalid backfill: " + spec);
  std::string digits = spec.substr(0, spec.size() - 1);
  char unit = spec.back();
  if (digits.empty() || digits.size() > 4 ||
      !std::all_of(digits.begin(), digits.end(), [](char ch) { return std::isdigit(ch); }) ||
      (unit != 'd' && unit != 'w' && unit != 'm')) {
    throw error_reply(422, "DANGO-SYNC-002", "Invalid backfill '" + spec + "' (use 7d, 2w or 1m)");
  }
  int64_t days = std::stoll(digits) * (unit == 'd' ? 1 : unit == 'w' ? 7 : 30);
  return iso_utc(now_ms() / 1000 - days * 86400).substr(0, 10);
}

void trigger_sync(Context& c, const sdk::Request& rq, sdk::Response& rs) {
  rapidjson::Document body = json_body(rq);
  auto list = body.FindMember("sources");
  if (list == body.MemberEnd() || !list->value.IsArray() || list->value.Empty()) {
    throw error_reply(422, "DANGO-SYNC-002", "sources must be a non-empty list of source names");
  }
  std::vector<const SourceConfig*> sources;
  for (const auto& v : list->value.GetArray()) {
    auto name = v.IsString() ? normalize_source_name(v.GetString()) : std::nullopt;
    if (!name) throw error_reply(400, "DANGO-V002", "Invalid source name");
    const SourceConfig* s = find_source(c.settings, *name);
    if (!s) throw error_reply(404, "DANGO-SYNC-001", "Source not found: " + *name);
    if (!s->enabled) throw error_reply(422, "DANGO-SYNC-002", "Source is disabled: " + *name);
    if (std::find(sources.begin(), sources.end(), s) == sources.end()) sources.push_back(s);
  }
  SyncOptions o;
  o.full_refresh = bool_member(body, "full_refresh", "DANGO-SYNC-002");
  auto backfill = body.FindMember("backfill");
  if (backfill != body.MemberEnd() && !backfill->value.IsNull()) {
    if (!backfill->value.IsString()) throw error_reply(422, "DANGO-SYNC-002", "Invalid backfill");
    o.start_date = backfill_start(backfill->value.GetString());
  }
  std::vector<std::string> names;
  for (const auto* s : sources) names.push_back(s->name);
  int64_t job = c.engine.create_job(names, o.full_refresh);
  std::vector<std::string> busy;
  for (const auto* s : sources) {
    if (!c.engine.start(*s, o, "trigger", job)) busy.push_back(s->name);
  }
  if (busy.size() == sources.size()) {
    throw error_reply(409, "DANGO-SYNC-004", "Sync already running for " + busy.front());
  }
  Json j;
  j.begin().key("job_id").num(job).key("sources").begin_array();
  for (const auto& n : names) {
    if (std::find(busy.begin(), busy.end(), n) == busy.end()) j.str(n);
  }
  j.end_array().key("status").str("started");
  if (!busy.empty()) {
    j.key("skipped").begin_array();
    for (const auto& n : busy) j.str(n);
    j.end_array();
  }
  j.end();
  rs.json_text(j.text());
}

void sync_job_status(Context& c, const sdk::Request& rq, sdk::Response& rs) {
  std::string id_text(rq.param("record_id").value_or(""));
  bool numeric =
      !id_text.empty() && id_text.size() < 18 &&
      std::all_of(id_text.begin(), id_text.end(), [](char ch) { return std::isdigit(ch); });
  std::string created_at;
  if (!numeric || !c.engine.job_exists(std::stoll(id_text), created_at)) {
    throw error_reply(404, "DANGO-SYNC-003", "Sync job not found: " + id_text);
  }
  int64_t job = std::stoll(id_text);
  auto runs = c.engine.job_runs(job);
  std::string status = "success";
  bool running = false;
  std::optional<std::string> finished;
  int64_t rows = 0;
  for (const auto& r : runs) {
    rows += r.rows_loaded;
    if (r.status == "running") running = true;
    if (r.status == "timeout" && status == "success") status = "timeout";
    if (r.status == "cancelled" && status == "success") status = "cancelled";
    if (r.status == "failed") status = "failed";
    if (r.finished_at && (!finished || *r.finished_at > *finished)) finished = r.finished_at;
  }
  if (running) {
    status = "running";
    finished.reset();
  }
  Json j;
  j.begin()
      .key("job_id")
      .num(job)
      .key("status")
      .str(status)
      .key("started_at")
      .str(created_at)
      .key("finished_at")
      .opt(finished)
      .key("rows_loaded")
      .num(rows)
      .key("sources")
      .begin_array();
  for (const auto& r : runs) write_run(j, r);
  j.end_array().end();
  rs.json_text(j.text());
}

static void write_logs(Json& j, const std::vector<LogEntry>& logs) {
  j.begin_array();
  for (const auto& e : logs) {
    j.begin()
        .key("id")
        .num(e.id)
        .key("timestamp")
        .str(e.timestamp)
        .key("source")
        .opt(e.source)
        .key("level")
        .str(e.level)
        .key("event")
        .str(e.event)
        .key("message")
        .str(e.message)
        .key("run_id")
        .opt(e.run_id)
        .end();
  }
  j.end_array();
}

void source_logs(Context& c, const sdk::Request& rq, sdk::Response& rs) {
  const SourceConfig& s = source_param(c, rq);
  auto logs = c.engine.logs(s.name, limit_param(rq, 100));
  Json j;
  j.begin().key("source").str(s.name).key("count").num(static_cast<int64_t>(logs.size()));
  j.key("logs");
  write_logs(j, logs);
  j.end();
  rs.json_text(j.text());
}

void all_logs(Context& c, const sdk::Request& rq, sdk::Response& rs) {
  auto logs = c.engine.logs(std::nullopt, limit_param(rq, 1000));
  Json j;
  j.begin().key("count").num(static_cast<int64_t>(logs.size())).key("logs");
  write_logs(j, logs);
  j.end();
  rs.json_text(j.text());
}

void list_source_files(Context& c, const sdk::Request& rq, sdk::Response& rs) {
  const SourceConfig& s = source_param(c, rq);
  std::map<std::string, FileRow> files;
  auto extensions = file_extensions(s);
  std::error_code ec;
  for (fs::directory_iterator it(s.folder, ec), end; !ec && it != end; it.increment(ec)) {
    std::string ext = it->path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    struct stat st {};
    if (std::find(extensions.begin(), extensions.end(), ext) == extensions.end() ||
        ::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    FileRow& f = files[it->path().filename().string()];
    f.name = it->path().filename().string();
    f.on_disk = true;
    f.size = static_cast<int64_t>(st.st_size);
    f.modified = iso_utc(st.st_mtim.tv_sec);
  }
  for (const auto& [name, count] : c.warehouse.count_by(s.name, s.name, kFileColumn)) {
    FileRow& f = files[name];
    f.name = name;
    f.rows = count;
    f.loaded = true;
  }
  Json j;
  j.begin()
      .key("source_name")
      .str(s.name)
      .key("directory")
      .str(s.folder)
      .key("total_files")
      .num(static_cast<int64_t>(files.size()))
      .key("files")
      .begin_array();
  for (const auto& [name, f] : files) {
    j.begin()
        .key("filename")
        .str(f.name)
        .key("file_path")
        .str((fs::path(s.folder) / f.name).string())
        .key("on_disk")
        .flag(f.on_disk)
        .key("size_bytes")
        .num(f.size)
        .key("modified_at")
        .opt(f.modified)
        .key("in_database")
        .flag(f.loaded)
        .key("row_count")
        .num(f.rows)
        .end();
  }
  j.end_array().end();
  rs.json_text(j.text());
}

// Only a regular file directly inside the source's folder: "..", absolute paths elsewhere and
// symlinks (the file itself or the folder reached through one) are refused with 403.
void delete_source_file(Context& c, const sdk::Request& rq, sdk::Response& rs) {
  const SourceConfig& s = source_param(c, rq);
  auto param = rq.query("file_path");
  if (!param || param->empty()) throw detail_reply(422, "file_path is required");
  fs::path requested{std::string(*param)};
  if (requested.is_relative()) requested = fs::path(s.folder) / requested;
  fs::path normal = requested.lexically_normal();
  bool lexically_inside = normal.parent_path() == fs::path(s.folder) &&
                          std::string(*param).find("..") == std::string::npos;
  std::error_code ec;
  fs::path real_folder = fs::canonical(s.folder, ec);
  fs::path real_parent = ec ? fs::path() : fs::canonical(normal.parent_path(), ec);
  bool really_inside = !ec && real_parent == real_folder;
  struct stat st {};
  bool exists = ::lstat(normal.c_str(), &st) == 0;
  if (!lexically_inside || !really_inside || (exists && !S_ISREG(st.st_mode))) {
    c.engine.log(s.name, "warning", "file_delete_refused",
                 "Refused to delete a path outside the source folder: " + std::string(*param));
    throw detail_reply(403, "Access denied: file is outside the source directory");
  }
  if (!exists) throw detail_reply(404, "File not found");
  if (::unlink(normal.c_str()) != 0) {
    throw error_reply(500, "DANGO-G001", "An internal error occurred.");
  }
  std::string name = normal.filename().string();
  int64_t rows = c.warehouse.delete_rows(s.name, s.name, kFileColumn, name);
  c.engine.log(s.name, "info", "file_deleted",
               "Deleted " + name + " and its " + std::to_string(rows) + " rows");
  rs.json_text(Json()
                   .begin()
                   .key("success")
                   .flag(true)
                   .key("message")
                   .str("Deleted " + name)
                   .key("file_path")
                   .str(normal.string())
                   .key("rows_deleted")
                   .num(rows)
                   .end()
                   .text());
}

}  // namespace dango
