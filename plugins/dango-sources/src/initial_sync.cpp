#include "initial_sync.hpp"

#include <sodium.h>

#include <chrono>
#include <thread>

#include "replies.hpp"
#include "time_text.hpp"

namespace dango {

namespace {

std::string sha256_hex(const std::string& text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

std::string sources_json(const std::vector<InitialSyncSource>& list) {
  Json j;
  j.begin_array();
  for (const auto& s : list) {
    j.begin()
        .key("name")
        .str(s.name)
        .key("status")
        .str(s.status)
        .key("run_id")
        .opt(s.run_id)
        .key("rows_loaded")
        .num(s.rows_loaded)
        .key("error")
        .opt(s.error)
        .end();
  }
  j.end_array();
  return j.text();
}

std::vector<InitialSyncSource> parse_sources(const std::string& text) {
  std::vector<InitialSyncSource> out;
  rapidjson::Document d;
  std::string error;
  if (!sdk::parse_json(text, d, error) || !d.IsArray()) return out;
  for (const auto& v : d.GetArray()) {
    InitialSyncSource s;
    s.name = v["name"].GetString();
    s.status = v["status"].GetString();
    if (v["run_id"].IsInt64()) s.run_id = v["run_id"].GetInt64();
    s.rows_loaded = v["rows_loaded"].GetInt64();
    if (v["error"].IsString()) s.error = v["error"].GetString();
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

InitialSyncSettings parse_initial_sync_settings(const rapidjson::Value& config) {
  InitialSyncSettings s;
  auto it = config.FindMember("initial_sync");
  if (it == config.MemberEnd() || !it->value.IsObject()) return s;
  const auto& v = it->value;
  auto token = v.FindMember("deploy_token");
  if (token != v.MemberEnd() && token->value.IsString() && token->value.GetStringLength() > 0) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    s.deploy_token_sha256 = sha256_hex(token->value.GetString());
  }
  auto hashed = v.FindMember("deploy_token_sha256");
  if (hashed != v.MemberEnd() && hashed->value.IsString() && hashed->value.GetStringLength()) {
    s.deploy_token_sha256 = hashed->value.GetString();
    for (auto& c : s.deploy_token_sha256) c = static_cast<char>(std::tolower(c));
    if (s.deploy_token_sha256.size() != 64) {
      throw std::invalid_argument("initial_sync.deploy_token_sha256 must be 64 hex digits");
    }
  }
  auto sources = v.FindMember("sources");
  if (sources != v.MemberEnd() && sources->value.IsArray()) {
    for (const auto& n : sources->value.GetArray()) {
      auto name = n.IsString() ? normalize_source_name(n.GetString()) : std::nullopt;
      if (!name) throw std::invalid_argument("initial_sync.sources: bad source name");
      s.sources.push_back(*name);
    }
  }
  return s;
}

bool InitialSync::token_matches(const std::string& token) const {
  if (config_.deploy_token_sha256.empty() || token.empty()) return false;
  std::string presented = sha256_hex(token);
  return presented.size() == config_.deploy_token_sha256.size() &&
         sodium_memcmp(presented.data(), config_.deploy_token_sha256.data(), presented.size()) == 0;
}

bool InitialSync::token_used() {
  auto st = host_.sql("SELECT COUNT(*) FROM dango_initial_sync WHERE by_token = 1");
  return st.step() && st.int64(0) > 0;
}

std::optional<InitialSyncState> InitialSync::start(const std::string& started_by, bool by_token) {
  auto current = latest();
  if (current && current->status == "running") return std::nullopt;
  InitialSyncState s;
  s.status = "running";
  s.started_at = iso_utc_now();
  s.started_by = started_by;
  std::vector<std::string> names = config_.sources;
  if (names.empty()) {
    for (const auto& src : settings_.sources) {
      if (src.enabled) names.push_back(src.name);
    }
  }
  for (const auto& n : names) {
    InitialSyncSource src;
    src.name = n;
    s.sources.push_back(std::move(src));
  }
  {
    // A unique index on running rows refuses a second start racing this one (another host).
    auto st = host_.sql(
        "INSERT INTO dango_initial_sync (status, started_at, started_by, by_token, sources, flag)"
        " VALUES ('running', :at, :by, :tok, :src, '') RETURNING id");
    st.bind("at", s.started_at)
        .bind("by", started_by)
        .bind("tok", static_cast<int64_t>(by_token))
        .bind("src", sources_json(s.sources));
    try {
      if (!st.step()) return std::nullopt;
    } catch (const sdk::Error&) {
      return std::nullopt;
    }
    s.id = st.int64(0);
  }
  sdk::TaskRequest rq;
  rq.kind = kInitialSyncTask;
  rq.payload_json = Json().begin().key("id").num(s.id).end().text();
  rq.idempotency_key = "dango-sources:initial-sync:" + std::to_string(s.id);
  rq.max_attempts = 1;
  rq.timeout_seconds = settings_.sync_timeout_seconds * static_cast<double>(names.size() + 1);
  host_.enqueue(rq);
  engine_.log(
      std::nullopt, "info", "initial_sync_started",
      "Initial sync of " + std::to_string(names.size()) + " source(s) started by " + started_by);
  return s;
}

std::optional<InitialSyncState> InitialSync::latest() {
  auto st = host_.sql(
      "SELECT id, status, started_at, finished_at, started_by, sources FROM dango_initial_sync"
      " ORDER BY id DESC LIMIT 1");
  if (!st.step()) return std::nullopt;
  InitialSyncState s;
  s.id = st.int64(0);
  s.status = st.text(1);
  s.started_at = st.text(2);
  s.finished_at = st.maybe_text(3);
  s.started_by = st.text(4);
  s.sources = parse_sources(st.text(5));
  return s;
}

namespace {

const InitialSyncSource* syncing(const InitialSyncState& s) {
  for (const auto& src : s.sources) {
    if (src.status == "syncing" && src.run_id) return &src;
  }
  return nullptr;
}

}  // namespace

// Skip and cancel stop the current sync at once (host task cancellation) and leave a flag the
// orchestrating task reads to record why it ended.
bool InitialSync::request_skip() {
  auto state = latest();
  if (!state || state->status != "running") return false;
  const InitialSyncSource* current = syncing(*state);
  if (!current) return false;
  if (host_
          .sql("UPDATE dango_initial_sync SET flag = :f WHERE id = :id AND status = 'running'"
               " AND flag = ''")
          .bind("f", "skip:" + current->name)
          .bind("id", state->id)
          .exec() == 0) {
    return false;
  }
  stop_run(*current->run_id);
  return true;
}

bool InitialSync::request_cancel() {
  auto state = latest();
  if (!state || state->status != "running") return false;
  if (host_
          .sql("UPDATE dango_initial_sync SET flag = 'cancel' WHERE id = :id AND status ="
               " 'running'")
          .bind("id", state->id)
          .exec() == 0) {
    return false;
  }
  if (const InitialSyncSource* current = syncing(*state)) stop_run(*current->run_id);
  return true;
}

void InitialSync::stop_run(int64_t run_id) {
  auto run = engine_.run(run_id);
  if (run && run->status == "running" && run->task_id) host_.cancel_task(*run->task_id);
}

std::optional<SyncRun> InitialSync::follow(int64_t run_id, const std::string& source) {
  // latest_run reconciles a run whose task ended without closing it (cancelled while queued).
  auto latest = engine_.latest_run(source);
  if (latest && latest->id == run_id) return latest;
  return engine_.run(run_id);
}

void InitialSync::save(const InitialSyncState& s) {
  host_
      .sql(
          "UPDATE dango_initial_sync SET status = :status, finished_at = :fin, sources = :src"
          " WHERE id = :id")
      .bind("status", s.status)
      .bind("fin", s.finished_at)
      .bind("src", sources_json(s.sources))
      .bind("id", s.id)
      .exec();
}

std::string InitialSync::flag(int64_t id) {
  auto st = host_.sql("SELECT flag FROM dango_initial_sync WHERE id = :id");
  st.bind("id", id);
  return st.step() ? st.text(0) : "cancel";
}

void InitialSync::clear_flag(int64_t id) {
  host_.sql("UPDATE dango_initial_sync SET flag = '' WHERE id = :id AND flag <> 'cancel'")
      .bind("id", id)
      .exec();
}

void InitialSync::run_task(sdk::TaskContext& task) {
  rapidjson::Document p = task.payload();
  if (!p.HasMember("id") || !p["id"].IsInt64()) throw std::runtime_error("no initial sync id");
  auto state = latest();
  if (!state || state->id != p["id"].GetInt64() || state->status != "running") return;
  InitialSyncState& s = *state;
  bool cancelled = false;
  for (size_t i = 0; i < s.sources.size(); ++i) {
    InitialSyncSource& src = s.sources[i];
    if (cancelled || task.cancelled() || flag(s.id) == "cancel") {
      cancelled = true;
      src.status = "cancelled";
      continue;
    }
    const SourceConfig* config = find_source(settings_, src.name);
    if (!config || !config->enabled) {
      src.status = "skipped";
      src.error = "not a configured, enabled source";
      continue;
    }
    SyncOptions options;
    options.full_refresh = true;
    auto run = engine_.start(*config, options, "initial_sync");
    if (!run) {
      src.status = "skipped";
      src.error = "a sync of this source was already running";
      continue;
    }
    src.status = "syncing";
    src.run_id = run->id;
    save(s);
    task.progress(static_cast<int>(100 * i / s.sources.size()));
    // Follow the run until it ends; a cancel of the whole task stops it too.
    bool asked_to_stop = false;
    for (;;) {
      auto now = follow(run->id, src.name);
      if (!now || now->status != "running") {
        if (now) {
          src.status = now->status;
          src.rows_loaded = now->rows_loaded;
          src.error = now->error;
        }
        break;
      }
      if (task.cancelled() && !asked_to_stop && now->task_id) {
        host_.cancel_task(*now->task_id);
        asked_to_stop = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // pacing of the follow loop
    }
    const std::string f = flag(s.id);
    if (f == "cancel" || task.cancelled()) {
      cancelled = true;
    } else if (f == "skip:" + src.name) {
      // A run that finished before the stop reached it keeps its own outcome.
      if (src.status == "cancelled") src.status = "skipped";
      clear_flag(s.id);
      engine_.log(src.name, "warning", "initial_sync_skipped", "Skipped during the initial sync");
    } else if (!f.empty()) {
      clear_flag(s.id);  // a skip meant for a source that is no longer current
    }
    save(s);
  }
  bool failed = false;
  for (const auto& src : s.sources) failed = failed || src.status == "failed";
  s.status = cancelled ? "cancelled" : failed ? "failed" : "completed";
  s.finished_at = iso_utc_now();
  save(s);
  engine_.log(std::nullopt, cancelled || failed ? "warning" : "info", "initial_sync_" + s.status,
              "Initial sync " + s.status);
  if (cancelled) throw std::runtime_error("initial sync cancelled");
}

}  // namespace dango
