#include "settings.hpp"

namespace studio {
namespace {

std::string string_or(const rapidjson::Value& config, const char* key,
                      const std::string& fallback) {
  if (!config.IsObject()) return fallback;
  auto it = config.FindMember(key);
  if (it == config.MemberEnd() || !it->value.IsString()) return fallback;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

}  // namespace

Settings read_settings(const rapidjson::Value& config) {
  Settings s;
  s.project_name = string_or(config, "project_name", s.project_name);
  s.project_version = string_or(config, "project_version", s.project_version);
  s.environment = string_or(config, "environment", s.environment);
  s.auth_token = string_or(config, "auth_token", s.auth_token);
  s.permission = string_or(config, "permission", s.permission);
  if (config.IsObject() && config.HasMember("debug") && config["debug"].IsBool()) {
    s.debug = config["debug"].GetBool();
  }
  return s;
}

std::optional<std::vector<std::string>> self_checked_origins(const rapidjson::Value& host_settings,
                                                             const std::string& plugin) {
  if (host_settings.IsObject() && host_settings.HasMember("plugins")) {
    const auto& plugins = host_settings["plugins"];
    if (plugins.IsObject() && plugins.HasMember(plugin.c_str())) {
      const auto& mine = plugins[plugin.c_str()];
      if (mine.IsObject() && mine.HasMember("allowed_origins")) return std::nullopt;
    }
  }
  return default_allowed_origins();
}

}  // namespace studio
