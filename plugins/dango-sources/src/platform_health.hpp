// platform_health.hpp — GET /api/health/platform: the warehouse's size and tables per layer, the
// data folder's disk space, recent sync failures, and the warnings and critical issues drawn from
// them, all measured at the time of the request.
#pragma once

#include <rapidjson/document.h>

#include <plughost/plugin.hpp>
#include <string>

#include "settings.hpp"
#include "sync.hpp"
#include "warehouse.hpp"

namespace dango {

struct HealthSettings {
  double disk_warning_percent = 10;  // free space below this share of the disk: a warning
  double disk_critical_percent = 5;  // below this: a critical issue
  double stale_after_hours = 48;     // an enabled source synced longer ago: a warning
  double failure_window_hours = 24;  // sync failures listed from this far back
};

// `health: {…}` of the plugin config. Throws std::invalid_argument naming a bad value.
HealthSettings parse_health_settings(const rapidjson::Value& config);

// The response body; never throws for an unreachable warehouse or storage (reported in it).
std::string platform_health_json(const Settings& settings, const HealthSettings& health,
                                 Warehouse& warehouse, SyncEngine& engine);

}  // namespace dango
