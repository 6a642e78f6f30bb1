// live_events.hpp — what the live parts share: their config (watcher, health, websocket,
// freshness_check_seconds) and the frames WS /ws sends for the plugin's events.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>

#include "platform_health.hpp"
#include "settings.hpp"
#include "watcher.hpp"
#include "websocket.hpp"

namespace dango {

struct LiveSettings {
  WatcherSettings watcher;
  HealthSettings health;
  WebSocketSettings websocket;
  double freshness_check_seconds = 300;  // how often time alone is checked for staleness
};

// Throws std::invalid_argument naming a bad value.
LiveSettings parse_live_settings(const rapidjson::Value& config, const Settings& settings);

// The seed's event types, as host bus patterns: forwarded to WS /ws clients.
constexpr const char* kLiveEventPatterns[] = {"sync_*", "csv_uploaded", "freshness_update",
                                              "dbt_run_*"};

// The frame of one bus event: its payload object, with `type` and its alias `event` added when
// the publisher left them out. A payload that is not an object is sent as {type, event, data}.
std::string live_frame(std::string_view type, std::string_view payload_json);

// The `source` member of an event payload ("" when absent).
std::string event_source(std::string_view payload_json);

}  // namespace dango
