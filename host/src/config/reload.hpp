// reload.hpp — what a SIGHUP config reload may apply to a running host, and what it may not.
// Live: log.level, plugins.<name>.log_level, rate_limits, schedules. Everything else needs a
// restart.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace plughost {

// Dotted names of the settings that differ between the running config and `next` and that only
// take effect after a restart ("server", "storage", "plugins.rag.config"…), in a stable order.
std::vector<std::string> settings_needing_restart(const Config& running, const Config& next);

// Dotted names of the live settings that differ ("log.level", "plugins.x.log_level",
// "rate_limits", "schedules").
std::vector<std::string> live_settings_changed(const Config& applied, const Config& next);

// Whether two lists of config schedules are the same, in order.
bool same_schedules(const std::vector<ScheduleConfig>& a, const std::vector<ScheduleConfig>& b);

// Whether two rate-limit configs count the same way (a reload swaps the limiter only if not).
bool same_rate_limits(const RateLimitConfig& a, const RateLimitConfig& b);

}  // namespace plughost
