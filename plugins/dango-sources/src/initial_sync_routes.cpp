// The initial-sync routes (seed: Initial Sync (Deploy)): start and status take the one-time
// deploy token (header X-Deploy-Token) or an admin; skip and cancel are admin only.
#include "ops.hpp"
#include "replies.hpp"

namespace dango {

namespace {

constexpr const char* kAdminPermission = "initial_sync.manage";

std::string presented_token(const sdk::Request& rq) {
  return std::string(rq.header("x-deploy-token").value_or(""));
}

// Admits an admin; otherwise 401 for nobody, 403 for a signed-in non-admin.
void require_admin(const sdk::Request& rq) {
  if (rq.has_permission(kAdminPermission)) return;
  if (is_anonymous(rq.principal()))
    throw error_reply(401, "DANGO-S001", "Authentication required.");
  throw error_reply(403, "DANGO-S002", std::string("Permission denied: ") + kAdminPermission);
}

void write_state(Json& j, const InitialSyncState& s) {
  int64_t done = 0;
  std::optional<std::string> current;
  for (const auto& src : s.sources) {
    if (src.status == "syncing") current = src.name;
    if (src.status != "pending" && src.status != "syncing") ++done;
  }
  const auto total = static_cast<int64_t>(s.sources.size());
  j.begin()
      .key("id")
      .num(s.id)
      .key("status")
      .str(s.status)
      .key("started_at")
      .str(s.started_at)
      .key("finished_at")
      .opt(s.finished_at)
      .key("started_by")
      .str(s.started_by)
      .key("current_source")
      .opt(current)
      .key("total_sources")
      .num(total)
      .key("completed_sources")
      .num(done)
      .key("progress_percent")
      .num(total ? done * 100 / total : 100)
      .key("sources")
      .begin_array();
  for (const auto& src : s.sources) {
    j.begin()
        .key("name")
        .str(src.name)
        .key("status")
        .str(src.status)
        .key("run_id")
        .opt(src.run_id)
        .key("rows_loaded")
        .num(src.rows_loaded)
        .key("error")
        .opt(src.error)
        .end();
  }
  j.end_array().end();
}

}  // namespace

void start_initial_sync(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  std::string token = presented_token(rq);
  bool by_token = !token.empty();
  if (by_token) {
    if (!ops.initial_sync.token_matches(token)) {
      throw error_reply(401, "DANGO-S001", "Invalid deploy token");
    }
    if (ops.initial_sync.token_used()) {
      throw error_reply(401, "DANGO-S001", "The deploy token was already used");
    }
  } else {
    require_admin(rq);
  }
  auto started = ops.initial_sync.start(by_token ? "deploy token" : caller_name(rq), by_token);
  if (!started) throw error_reply(409, "DANGO-INIT-001", "An initial sync is already running");
  Json j;
  j.begin()
      .key("success")
      .flag(true)
      .key("status")
      .str("started")
      .key("message")
      .str("Initial sync started for " + std::to_string(started->sources.size()) + " source(s)")
      .key("state");
  write_state(j, *started);
  j.end();
  rs.json_text(j.text());
}

void initial_sync_status(Ops& ops, const sdk::Request& rq, sdk::Response& rs) {
  std::string token = presented_token(rq);
  if (token.empty()) {
    require_admin(rq);
  } else if (!ops.initial_sync.token_matches(token)) {
    throw error_reply(401, "DANGO-S001", "Invalid deploy token");
  }
  auto state = ops.initial_sync.latest();
  if (!state) {
    rs.json_text(R"({"status":"idle","sources":[],"total_sources":0,"completed_sources":0,)"
                 R"("progress_percent":0,"current_source":null})");
    return;
  }
  Json j;
  write_state(j, *state);
  rs.json_text(j.text());
}

void skip_initial_sync_source(Ops& ops, const sdk::Request&, sdk::Response& rs) {
  auto state = ops.initial_sync.latest();
  if (!state || state->status != "running" || !ops.initial_sync.request_skip()) {
    throw error_reply(409, "DANGO-INIT-002", "No source of an initial sync is syncing");
  }
  std::optional<std::string> current;
  for (const auto& s : state->sources) {
    if (s.status == "syncing") current = s.name;
  }
  rs.json_text(Json()
                   .begin()
                   .key("success")
                   .flag(true)
                   .key("message")
                   .str("Skip requested")
                   .key("source")
                   .opt(current)
                   .end()
                   .text());
}

void cancel_initial_sync(Ops& ops, const sdk::Request&, sdk::Response& rs) {
  if (!ops.initial_sync.request_cancel()) {
    throw error_reply(409, "DANGO-INIT-002", "No initial sync is running");
  }
  rs.json_text(R"({"success":true,"message":"Cancel requested"})");
}

}  // namespace dango
