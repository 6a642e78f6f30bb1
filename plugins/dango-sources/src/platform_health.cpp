#include "platform_health.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "freshness.hpp"
#include "replies.hpp"
#include "time_text.hpp"

namespace dango {

namespace fs = std::filesystem;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr double kMiB = 1024.0 * 1024.0;

double round1(double v) {
  return std::round(v * 10.0) / 10.0;
}

std::string percent_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", v);
  return buf;
}

double number_in(const rapidjson::Value& block, const char* key, double fallback, double lo,
                 double hi) {
  auto it = block.FindMember(key);
  if (it == block.MemberEnd()) return fallback;
  if (!it->value.IsNumber() || it->value.GetDouble() < lo || it->value.GetDouble() > hi) {
    throw std::invalid_argument(std::string("health.") + key + " must be a number within " +
                                std::to_string(lo) + ".." + std::to_string(hi));
  }
  return it->value.GetDouble();
}

struct Disk {
  bool ok = false;
  double free_bytes = 0;
  double total_bytes = 0;
  std::string error;
};

// statvfs of the data folder, or of its nearest existing parent when it is not created yet.
Disk disk_of(const std::string& dir) {
  Disk d;
  fs::path p = dir;
  std::error_code ec;
  while (!p.empty() && !fs::exists(p, ec) && p != p.root_path()) p = p.parent_path();
  struct statvfs st {};
  if (statvfs(p.c_str(), &st) != 0) {
    d.error = "statvfs " + p.string() + " failed";
    return d;
  }
  d.ok = true;
  d.free_bytes = static_cast<double>(st.f_bavail) * static_cast<double>(st.f_frsize);
  d.total_bytes = static_cast<double>(st.f_blocks) * static_cast<double>(st.f_frsize);
  return d;
}

struct LayerCounts {
  int64_t raw = 0, staging = 0, marts = 0;
};

bool failure(const std::string& status) {
  return status == "failed" || status == "timeout";
}

}  // namespace

// ---- Warehouse statistics (members declared in warehouse.hpp) ---------------------------------

std::vector<WarehouseTable> Warehouse::layer_tables() {
  soci::session sql(*pool_);
  std::vector<WarehouseTable> out;
  if (dialect_ == "postgresql") {
    soci::rowset<soci::row> rs = sql.prepare
                                 << "SELECT table_schema::text, table_name::text FROM "
                                    "information_schema.tables WHERE table_schema LIKE 'raw\\_%' "
                                    "OR table_schema IN ('staging', 'marts') ORDER BY 1, 2";
    for (const auto& r : rs) out.push_back({r.get<std::string>(1), r.get<std::string>(0), 0});
    return out;
  }
  soci::rowset<std::string> rs = sql.prepare << "SELECT name FROM sqlite_master WHERE type IN "
                                                "('table', 'view') ORDER BY name";
  for (const auto& name : rs) {
    size_t sep = name.find("__");
    if (sep == std::string::npos || sep == 0) continue;
    std::string layer = name.substr(0, sep);
    if (layer.rfind("raw_", 0) == 0 || layer == "staging" || layer == "marts") {
      out.push_back({name.substr(sep + 2), layer, 0});
    }
  }
  return out;
}

int64_t Warehouse::size_bytes() {
  if (dialect_ == "postgresql") {
    soci::session sql(*pool_);
    long long size = 0;
    sql << "SELECT pg_database_size(current_database())", soci::into(size);
    return size;
  }
  std::error_code ec;
  int64_t size = 0;
  for (const std::string& f : {file_, file_ + "-wal"}) {
    auto n = fs::file_size(f, ec);
    if (!ec) size += static_cast<int64_t>(n);
  }
  return size;
}

// ---- The report ------------------------------------------------------------------------------

HealthSettings parse_health_settings(const rapidjson::Value& config) {
  HealthSettings h;
  auto block = config.FindMember("health");
  if (block == config.MemberEnd() || !block->value.IsObject()) return h;
  const auto& b = block->value;
  h.disk_warning_percent = number_in(b, "disk_warning_percent", h.disk_warning_percent, 0, 100);
  h.disk_critical_percent = number_in(b, "disk_critical_percent", h.disk_critical_percent, 0, 100);
  h.stale_after_hours = number_in(b, "stale_after_hours", h.stale_after_hours, 0.01, 87600);
  h.failure_window_hours =
      number_in(b, "failure_window_hours", h.failure_window_hours, 0.01, 87600);
  return h;
}

std::string platform_health_json(const Settings& settings, const HealthSettings& health,
                                 Warehouse& warehouse, SyncEngine& engine) {
  std::vector<std::string> critical, warnings;

  // Database
  LayerCounts layers;
  int64_t size = 0;
  std::string db_error;
  try {
    size = warehouse.size_bytes();
    for (const auto& t : warehouse.layer_tables()) {
      ++(t.schema == "staging" ? layers.staging : t.schema == "marts" ? layers.marts : layers.raw);
    }
  } catch (const std::exception& e) {
    db_error = e.what();
    critical.push_back("Warehouse unreachable: " + db_error);
  }
  const double bytes = static_cast<double>(size);
  const char* db_status = !db_error.empty()   ? "error"
                          : bytes < kGiB      ? "small"
                          : bytes < 10 * kGiB ? "medium"
                                              : "large";

  // Disk of the data folder
  Disk disk = disk_of(settings.data_dir);
  double free_percent = disk.total_bytes > 0 ? 100.0 * disk.free_bytes / disk.total_bytes : 0;
  std::string disk_status = "ok";
  if (!disk.ok) {
    disk_status = "unknown";
    warnings.push_back("Disk space unknown: " + disk.error);
  } else if (free_percent < health.disk_critical_percent) {
    disk_status = "critical";
    critical.push_back("Disk space critical: " + percent_text(free_percent) +
                       " free on the data folder's disk");
  } else if (free_percent < health.disk_warning_percent) {
    disk_status = "warning";
    warnings.push_back("Disk space low: " + percent_text(free_percent) +
                       " free on the data folder's disk");
  }

  // Sources: recent failures, failing and stale sources
  std::string cutoff =
      iso_utc(now_ms() / 1000 - static_cast<int64_t>(health.failure_window_hours * 3600));
  std::vector<SyncRun> failures;
  int64_t enabled = 0;
  for (const auto& s : settings.sources) {
    if (s.enabled) ++enabled;
    std::vector<SyncRun> runs;
    try {
      runs = engine.runs(s.name, 20);
    } catch (const std::exception& e) {
      critical.push_back(std::string("Sync history unreadable: ") + e.what());
      break;
    }
    for (const auto& r : runs) {
      if (failure(r.status) && r.started_at >= cutoff) failures.push_back(r);
    }
    if (!runs.empty() && failure(runs.front().status)) {
      warnings.push_back("Source '" + s.name +
                         "' is failing: " + runs.front().error.value_or(runs.front().status));
    }
    if (!s.enabled) continue;
    Freshness f = source_freshness(engine, s.name);
    if (f.hours_since_sync && *f.hours_since_sync >= health.stale_after_hours) {
      warnings.push_back("Source '" + s.name + "' is stale: last successful sync " +
                         std::to_string(static_cast<int64_t>(*f.hours_since_sync)) + " hours ago");
    }
  }
  std::sort(failures.begin(), failures.end(),
            [](const SyncRun& a, const SyncRun& b) { return a.id > b.id; });

  Json j;
  j.begin()
      .key("status")
      .str(!critical.empty()   ? "critical"
           : !warnings.empty() ? "warning"
                               : "healthy")
      .key("timestamp")
      .str(iso_utc_now())
      .key("database")
      .begin()
      .key("dialect")
      .str(warehouse.dialect())
      .key("size_mb")
      .real(round1(bytes / kMiB))
      .key("size_bytes")
      .num(size)
      .key("tables")
      .num(layers.raw + layers.staging + layers.marts)
      .key("status")
      .str(db_status)
      .key("raw_tables")
      .num(layers.raw)
      .key("staging_tables")
      .num(layers.staging)
      .key("marts_tables")
      .num(layers.marts);
  if (!db_error.empty()) j.key("error").str(db_error);
  j.end()
      .key("disk")
      .begin()
      .key("status")
      .str(disk_status)
      .key("free_gb")
      .real(round1(disk.free_bytes / kGiB))
      .key("total_gb")
      .real(round1(disk.total_bytes / kGiB))
      .key("free_percent")
      .real(round1(free_percent))
      .key("path")
      .str(settings.data_dir)
      .end()
      .key("sync_failures")
      .begin_array();
  for (const auto& r : failures) {
    j.begin()
        .key("source")
        .str(r.source)
        .key("run_id")
        .num(r.id)
        .key("status")
        .str(r.status)
        .key("error")
        .opt(r.error)
        .key("started_at")
        .str(r.started_at)
        .key("failed_at")
        .opt(r.finished_at)
        .end();
  }
  // dbt models belong to part 2 (no dbt runs exist in this plugin): always empty here.
  j.end_array().key("dbt_failures").begin_array().end_array();
  j.key("total_sources")
      .num(static_cast<int64_t>(settings.sources.size()))
      .key("enabled_sources")
      .num(enabled)
      .key("critical_issues")
      .begin_array();
  for (const auto& c : critical) j.str(c);
  j.end_array().key("warnings").begin_array();
  for (const auto& w : warnings) j.str(w);
  j.end_array().end();
  return j.text();
}

}  // namespace dango
