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
  auto deployments = config.FindMember("deployments");
  if (deployments != config.MemberEnd() && deployments->value.IsObject()) {
    o.deploy_journal = string_or(deployments->value, "journal_file", "");
  }
  auto metabase = config.FindMember("metabase");
  if (metabase != config.MemberEnd() && metabase->value.IsObject()) {
    const auto& m = metabase->value;
    o.metabase_url = string_or(m, "url", "");
    o.metabase_database_name = string_or(m, "database_name", o.metabase_database_name);
    o.metabase_api_key = string_or(m, "api_key", "");
    auto sso = m.FindMember("sso");
    if (sso != m.MemberEnd() && sso->value.IsObject()) {
      o.metabase_sso_email = string_or(sso->value, "email", "");
      o.metabase_sso_password = string_or(sso->value, "password", "");
    }
    auto id = m.FindMember("database_id");
    if (id != m.MemberEnd() && id->value.IsInt64()) o.metabase_database_id = id->value.GetInt64();
  }
  auto dbt_docs = config.FindMember("dbt_docs");
  if (dbt_docs != config.MemberEnd() && dbt_docs->value.IsObject()) {
    o.dbt_docs_url = string_or(dbt_docs->value, "url", "");
  }
  auto timeout = config.FindMember("upstream_timeout_seconds");
  if (timeout != config.MemberEnd() && timeout->value.IsNumber()) {
    o.upstream_timeout_seconds = std::clamp(timeout->value.GetDouble(), 0.1, 60.0);
  }
  return o;
}

}  // namespace dango
