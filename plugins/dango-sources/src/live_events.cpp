#include "live_events.hpp"

#include <plughost/json.hpp>
#include <stdexcept>

#include "replies.hpp"

namespace dango {

LiveSettings parse_live_settings(const rapidjson::Value& config, const Settings& settings) {
  LiveSettings s;
  s.watcher = parse_watcher_settings(config, settings);
  s.health = parse_health_settings(config);
  s.websocket = parse_websocket_settings(config);
  auto it = config.FindMember("freshness_check_seconds");
  if (it != config.MemberEnd()) {
    if (!it->value.IsNumber() || it->value.GetDouble() < 1 || it->value.GetDouble() > 86400) {
      throw std::invalid_argument("freshness_check_seconds must be within 1..86400");
    }
    s.freshness_check_seconds = it->value.GetDouble();
  }
  return s;
}

std::string live_frame(std::string_view type, std::string_view payload_json) {
  rapidjson::Document d;
  std::string error;
  if (!plughost::sdk::parse_json(payload_json, d, error) || !d.IsObject()) {
    Json j;
    j.begin().key("type").str(type).key("event").str(type).key("data");
    if (error.empty()) {
      j.raw(payload_json);
    } else {
      j.null();
    }
    return j.end().text();
  }
  if (d.HasMember("type") && d.HasMember("event")) return std::string(payload_json);
  auto& a = d.GetAllocator();
  for (const char* key : {"type", "event"}) {
    if (!d.HasMember(key)) {
      d.AddMember(rapidjson::StringRef(key),
                  rapidjson::Value(type.data(), static_cast<rapidjson::SizeType>(type.size()), a),
                  a);
    }
  }
  return plughost::sdk::to_json(d);
}

std::string event_source(std::string_view payload_json) {
  rapidjson::Document d;
  std::string error;
  if (!plughost::sdk::parse_json(payload_json, d, error) || !d.IsObject()) return "";
  auto it = d.FindMember("source");
  return it != d.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

}  // namespace dango
