#include "ops.hpp"

#include <algorithm>
#include <filesystem>

namespace dango {

namespace fs = std::filesystem;

namespace {

std::string string_or(const rapidjson::Value& v, const char* key, const std::string& fallback) {
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : fallback;
}

}  // namespace

OpsSettings parse_ops_settings(const rapidjson::Value& config, const Settings& settings) {
  OpsSettings o;
  o.schedules_file =
      fs::absolute(string_or(config, "schedules_file",
                             (fs::path(settings.data_dir) / "schedules.yml").string()))
          .lexically_normal()
          .string();
  o.notebooks.dir = (fs::path(settings.data_dir) / "notebooks").string();
  auto nb = config.FindMember("notebooks");
  if (nb != config.MemberEnd() && nb->value.IsObject()) {
    o.notebooks.dir = string_or(nb->value, "dir", o.notebooks.dir);
    o.notebooks.editor_url = string_or(nb->value, "editor_url", "");
    auto minutes = nb->value.FindMember("lock_minutes");
    if (minutes != nb->value.MemberEnd() && minutes->value.IsInt()) {
      o.notebooks.lock_minutes = std::max(1, minutes->value.GetInt());
    }
  }
  o.notebooks.dir = fs::absolute(o.notebooks.dir).lexically_normal().string();
  return o;
}

}  // namespace dango
