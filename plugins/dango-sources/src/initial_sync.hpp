// initial_sync.hpp — Dango's initial sync after a first deployment (seed: Initial Sync): every
// enabled source (or a configured list) synced one after another by one orchestrating host task,
// with per-source progress, skip-current and cancel. Started by a one-time deploy token (kept as
// its SHA-256; the first start consumes it) or by an admin. State lives in host storage.
#pragma once

#include <cstdint>
#include <optional>
#include <plughost/plugin.hpp>
#include <string>
#include <vector>

#include "settings.hpp"
#include "sync.hpp"

namespace dango {

constexpr const char* kInitialSyncTask = "dango-sources/initial_sync";

struct InitialSyncSettings {
  std::string deploy_token_sha256;   // lower-case hex; empty: admins only
  std::vector<std::string> sources;  // empty: every enabled source, by name
};

// The `initial_sync` object of the config (`deploy_token` is hashed here and not kept).
InitialSyncSettings parse_initial_sync_settings(const rapidjson::Value& config);

struct InitialSyncSource {
  std::string name;
  std::string status = "pending";  // pending, syncing, success, failed, skipped, cancelled, timeout
  std::optional<int64_t> run_id;
  int64_t rows_loaded = 0;
  std::optional<std::string> error;
};

struct InitialSyncState {
  int64_t id = 0;
  std::string status;  // running, completed, failed, cancelled
  std::string started_at;
  std::optional<std::string> finished_at;
  std::string started_by;
  std::vector<InitialSyncSource> sources;
};

class InitialSync {
 public:
  InitialSync(sdk::Services host, const Settings& settings, SyncEngine& engine,
              InitialSyncSettings config)
      : host_(host), settings_(settings), engine_(engine), config_(std::move(config)) {}

  bool has_deploy_token() const { return !config_.deploy_token_sha256.empty(); }
  // Constant-time check of a presented token against the configured hash.
  bool token_matches(const std::string& token) const;
  // Whether the deploy token already started an initial sync.
  bool token_used();

  // Starts one; nullopt when one is running. `by_token` consumes the deploy token.
  std::optional<InitialSyncState> start(const std::string& started_by, bool by_token);
  std::optional<InitialSyncState> latest();
  // False when none is running (or, for skip, when no source is syncing right now).
  bool request_skip();
  bool request_cancel();

  void run_task(sdk::TaskContext& task);

 private:
  void save(const InitialSyncState& s);
  std::string flag(int64_t id);  // "", "skip:<source>" or "cancel"
  void stop_run(int64_t run_id);
  std::optional<SyncRun> follow(int64_t run_id, const std::string& source);
  void clear_flag(int64_t id);

  sdk::Services host_;
  const Settings& settings_;
  SyncEngine& engine_;
  InitialSyncSettings config_;
};

}  // namespace dango
