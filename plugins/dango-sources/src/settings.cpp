#include "settings.hpp"

#include <algorithm>
#include <filesystem>
#include <plughost/json.hpp>
#include <stdexcept>

namespace dango {

namespace fs = std::filesystem;

namespace {

std::string string_or(const rapidjson::Value& v, const char* key, const std::string& fallback) {
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : fallback;
}

SourceConfig parse_source(const rapidjson::Value& v, const std::string& data_dir) {
  if (!v.IsObject()) throw std::invalid_argument("sources: each entry must be an object");
  SourceConfig s;
  auto name = normalize_source_name(string_or(v, "name", ""));
  if (!name) throw std::invalid_argument("sources: name must match [A-Za-z0-9_]{1,128}");
  s.name = *name;
  s.type = string_or(v, "type", "");
  if (s.type.empty()) throw std::invalid_argument("sources." + s.name + ": type is required");
  auto enabled = v.FindMember("enabled");
  if (enabled != v.MemberEnd() && enabled->value.IsBool()) s.enabled = enabled->value.GetBool();
  s.schedule = string_or(v, "schedule", "");
  auto options = v.FindMember("options");
  s.options_json = options != v.MemberEnd() && options->value.IsObject()
                       ? plughost::sdk::to_json(options->value)
                       : "{}";
  std::string folder = options != v.MemberEnd() && options->value.IsObject()
                           ? string_or(options->value, "folder", "")
                           : "";
  s.folder = folder.empty() ? (fs::path(data_dir) / "uploads" / s.name).string() : folder;
  if (options != v.MemberEnd() && options->value.IsObject()) {
    s.sync_mode = string_or(options->value, "sync_mode", s.sync_mode);
  }
  if (s.sync_mode != "incremental" && s.sync_mode != "full_refresh") {
    throw std::invalid_argument("sources." + s.name +
                                ".options.sync_mode must be incremental or full_refresh");
  }
  s.folder = fs::absolute(s.folder).lexically_normal().string();
  while (s.folder.size() > 1 && s.folder.back() == '/') s.folder.pop_back();
  return s;
}

}  // namespace

std::optional<std::string> normalize_source_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return std::nullopt;
  std::string out;
  for (char c : name) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return std::nullopt;
    out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return out;
}

Settings parse_settings(const rapidjson::Value& config) {
  Settings s;
  s.data_dir = fs::absolute(string_or(config, "data_dir", "var/dango")).lexically_normal().string();
  s.warehouse_url = "sqlite://" + (fs::path(s.data_dir) / "warehouse.db").string();
  auto wh = config.FindMember("warehouse");
  if (wh != config.MemberEnd() && wh->value.IsObject()) {
    s.warehouse_url = string_or(wh->value, "url", s.warehouse_url);
    auto pool = wh->value.FindMember("pool_size");
    if (pool != wh->value.MemberEnd() && pool->value.IsInt()) {
      s.warehouse_pool_size = std::clamp(pool->value.GetInt(), 1, 16);
    }
  }
  auto timeout = config.FindMember("sync_timeout_seconds");
  if (timeout != config.MemberEnd() && timeout->value.IsNumber()) {
    s.sync_timeout_seconds = timeout->value.GetDouble();
  }
  auto query = config.FindMember("query");
  if (query != config.MemberEnd() && query->value.IsObject()) {
    auto t = query->value.FindMember("timeout_seconds");
    if (t != query->value.MemberEnd() && t->value.IsNumber()) {
      s.query_timeout_seconds = t->value.GetDouble();
    }
    auto rows = query->value.FindMember("max_rows");
    if (rows != query->value.MemberEnd() && rows->value.IsInt64()) {
      s.query_max_rows = std::max<int64_t>(1, rows->value.GetInt64());
    }
  }
  auto upload = config.FindMember("upload");
  if (upload != config.MemberEnd() && upload->value.IsObject()) {
    auto max = upload->value.FindMember("max_bytes");
    if (max != upload->value.MemberEnd() && max->value.IsInt64()) {
      s.upload_max_bytes = std::max<int64_t>(1, max->value.GetInt64());
    }
  }
  auto sources = config.FindMember("sources");
  if (sources != config.MemberEnd() && sources->value.IsArray()) {
    for (const auto& v : sources->value.GetArray()) {
      SourceConfig src = parse_source(v, s.data_dir);
      if (find_source(s, src.name)) {
        throw std::invalid_argument("sources: duplicate name " + src.name);
      }
      s.sources.push_back(std::move(src));
    }
  }
  std::sort(s.sources.begin(), s.sources.end(),
            [](const SourceConfig& a, const SourceConfig& b) { return a.name < b.name; });
  return s;
}

const SourceConfig* find_source(const Settings& s, std::string_view name) {
  for (const auto& src : s.sources) {
    if (src.name == name) return &src;
  }
  return nullptr;
}

}  // namespace dango
