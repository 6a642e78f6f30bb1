// settings.hpp — the plugin's config: where its data lives, the warehouse URL and the declared
// sources. Parsed once in init; read-only afterwards (safe from any thread).
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dango {

struct SourceConfig {
  std::string name;  // lower-cased, [a-z0-9_]{1,128}
  std::string type;  // a `source` connector's name: csv, json, or a third party's
  bool enabled = true;
  std::string options_json;               // the `options` object as JSON text ("{}" when absent)
  std::string schedule;                   // cron, empty: manual only
  std::string folder;                     // upload folder of file-based types
  std::string sync_mode = "incremental";  // options.sync_mode: incremental or full_refresh
};

struct Settings {
  std::string data_dir;
  std::string warehouse_url;  // sqlite://path or postgresql://…
  int warehouse_pool_size = 4;
  double sync_timeout_seconds = 3600;
  std::vector<SourceConfig> sources;  // sorted by name

  // POST /api/query (query.timeout_seconds, query.max_rows) and uploads (upload.max_bytes;
  // NOTES: > 100 MB is 413).
  double query_timeout_seconds = 30;
  int64_t query_max_rows = 10000;
  int64_t upload_max_bytes = 100LL * 1024 * 1024;
};

// Throws std::invalid_argument naming the bad key.
Settings parse_settings(const rapidjson::Value& config);

// A source name as Dango accepts it, lower-cased; nullopt when it is not [A-Za-z0-9_]{1,128}.
std::optional<std::string> normalize_source_name(std::string_view name);

const SourceConfig* find_source(const Settings& s, std::string_view name);

}  // namespace dango
