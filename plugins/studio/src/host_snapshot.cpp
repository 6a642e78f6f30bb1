#include "host_snapshot.hpp"

#include <plughost/json.hpp>
#include <stdexcept>

namespace studio {
namespace {

rapidjson::Document parse(const std::string& json, const char* what) {
  rapidjson::Document d;
  std::string error;
  if (!plughost::sdk::parse_json(json, d, error)) {
    throw std::runtime_error(std::string("host described ") + what + " as invalid JSON: " + error);
  }
  return d;
}

std::string text(const rapidjson::Value& object, const char* key) {
  if (!object.IsObject()) return {};
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::optional<std::string> maybe_text(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

int64_t integer(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsNumber()) return 0;
  return it->value.IsInt64() ? it->value.GetInt64() : static_cast<int64_t>(it->value.GetDouble());
}

bool flag(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  return it != object.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

template <typename T, typename F>
std::vector<T> parse_array(const std::string& json, const char* what, F&& item) {
  rapidjson::Document d = parse(json, what);
  if (!d.IsArray()) throw std::runtime_error(std::string("host described ") + what + " as no list");
  std::vector<T> out;
  for (const auto& v : d.GetArray()) {
    if (v.IsObject()) out.push_back(item(v));
  }
  return out;
}

}  // namespace

HostInfo parse_host_info(const std::string& json) {
  rapidjson::Document d = parse(json, "host");
  return {text(d, "name"),     text(d, "version"), text(d, "abi"),
          text(d, "compiler"), text(d, "node"),    text(d, "started_at")};
}

std::vector<PluginInfo> parse_plugins(const std::string& json) {
  return parse_array<PluginInfo>(json, "plugins", [](const rapidjson::Value& v) {
    return PluginInfo{text(v, "name"), text(v, "version"), text(v, "status")};
  });
}

std::vector<RouteInfo> parse_routes(const std::string& json) {
  return parse_array<RouteInfo>(json, "routes", [](const rapidjson::Value& v) {
    return RouteInfo{text(v, "method"), text(v, "path"), text(v, "plugin"), text(v, "permission")};
  });
}

StorageStatus parse_storage(const std::string& json) {
  rapidjson::Document d = parse(json, "storage");
  if (!d.IsObject()) throw std::runtime_error("host described storage as no object");
  StorageStatus s;
  s.connected = flag(d, "connected");
  s.dialect = text(d, "dialect");
  s.pool_size = integer(d, "pool_size");
  s.pool_available = integer(d, "pool_available");
  if (d.HasMember("latency_ms") && d["latency_ms"].IsNumber()) {
    s.latency_ms = d["latency_ms"].GetDouble();
  }
  s.last_error = maybe_text(d, "last_error");
  return s;
}

std::vector<MigrationRow> parse_migrations(const std::string& json) {
  return parse_array<MigrationRow>(json, "migrations", [](const rapidjson::Value& v) {
    return MigrationRow{text(v, "plugin"), text(v, "name"), text(v, "checksum"), flag(v, "applied"),
                        maybe_text(v, "applied_at")};
  });
}

HostSnapshot read_snapshot(const HostAccess& access) {
  HostSnapshot s;
  s.host = parse_host_info(access.describe("host"));
  s.plugins = parse_plugins(access.describe("plugins"));
  s.routes = parse_routes(access.describe("routes"));
  s.settings = parse(access.describe("settings"), "settings");
  s.storage = parse_storage(access.describe("storage"));
  s.migrations = parse_migrations(access.describe("migrations"));
  s.connectors = access.connectors();
  if (s.storage.connected) {
    try {
      s.catalog = read_catalog(s.storage.dialect, access.query);
    } catch (const std::exception& e) {
      s.catalog_error = e.what();  // reported in metadata; the rest of the answer still holds
    }
  }
  return s;
}

}  // namespace studio
