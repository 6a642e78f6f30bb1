#include "documents.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <set>

#include "capabilities.hpp"
#include "checksums.hpp"
#include "migration_summary.hpp"

namespace studio {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void str(Writer& w, const std::string& s) {
  w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
}
void key_str(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  str(w, value);
}
void key_opt(Writer& w, const char* key, const std::optional<std::string>& value) {
  w.Key(key);
  if (value) {
    str(w, *value);
  } else {
    w.Null();
  }
}
void key_int(Writer& w, const char* key, int64_t value) {
  w.Key(key);
  w.Int64(value);
}
void list(Writer& w, const std::vector<std::string>& items) {
  w.StartArray();
  for (const auto& s : items) str(w, s);
  w.EndArray();
}
std::string finish(const rapidjson::StringBuffer& buf) {
  return std::string(buf.GetString(), buf.GetSize());
}

void database_status(Writer& w, const StorageStatus& s) {
  w.StartObject();
  w.Key("connected");
  w.Bool(s.connected);
  key_str(w, "dialect", s.dialect);
  key_int(w, "pool_size", s.pool_size);
  key_int(w, "pool_available", s.pool_available);
  w.Key("latency_ms");
  if (s.latency_ms) {
    w.Double(*s.latency_ms);
  } else {
    w.Null();
  }
  key_opt(w, "last_error", s.last_error);
  w.EndObject();
}

void checksums(Writer& w, const Checksums& c) {
  w.StartObject();
  key_str(w, "schema_checksum", c.schema);
  key_str(w, "migrations_checksum", c.migrations);
  key_str(w, "settings_checksum", c.settings);
  key_str(w, "routes_checksum", c.routes);
  w.EndObject();
}

void project(Writer& w, const HostSnapshot& s, const Settings& settings) {
  w.StartObject();
  key_str(w, "name", settings.project_name);
  key_str(w, "version", settings.project_version);
  key_str(w, "aksara_version", s.host.version);  // the framework here is the host
  key_str(w, "host_version", s.host.version);
  key_str(w, "python_version", s.host.compiler);  // the runtime here is the host's build
  key_str(w, "runtime_version", s.host.compiler);
  w.Key("debug_mode");
  w.Bool(settings.debug);
  key_str(w, "environment", settings.environment);
  w.EndObject();
}

void metadata(Writer& w, const HostSnapshot& s) {
  w.StartObject();
  w.Key("host");
  w.StartObject();
  key_str(w, "name", s.host.name);
  key_str(w, "version", s.host.version);
  key_str(w, "abi", s.host.abi);
  key_str(w, "node", s.host.node);
  key_str(w, "started_at", s.host.started_at);
  w.EndObject();
  w.Key("plugins");
  w.StartArray();
  for (const auto& p : s.plugins) {
    w.StartObject();
    key_str(w, "name", p.name);
    key_str(w, "version", p.version);
    key_str(w, "status", p.status);
    w.EndObject();
  }
  w.EndArray();
  key_opt(w, "catalog_error", s.catalog_error);
  w.EndObject();
}

int running_plugins(const HostSnapshot& s) {
  int n = 0;
  for (const auto& p : s.plugins) n += p.status == "running" ? 1 : 0;
  return n;
}

}  // namespace

const char* health_status(const StorageStatus& storage) {
  return storage.connected && !storage.last_error ? "healthy" : "degraded";
}

std::string detail_json(const std::string& text) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  str(w, text);
  return "{\"detail\": " + finish(buf) + "}";
}

std::string handshake_json(const HostSnapshot& s, const Settings& settings,
                           const std::string& timestamp) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  key_str(w, "protocol_version", kProtocolVersion);
  key_str(w, "timestamp", timestamp);
  w.Key("project");
  project(w, s, settings);
  w.Key("database");
  database_status(w, s.storage);
  w.Key("capabilities");
  list(w, derive_capabilities(s, settings.debug));
  w.Key("checksums");
  checksums(w, compute_checksums(s));
  w.Key("endpoints");
  w.StartObject();
  for (const auto& [name, path] : existing_endpoints(s.routes)) key_str(w, name.c_str(), path);
  w.EndObject();
  w.Key("metadata");
  metadata(w, s);
  w.EndObject();
  return finish(buf);
}

std::string context_summary_json(const HostSnapshot& s) {
  MigrationSummary m = summarize_migrations(s.migrations);
  std::set<std::string> paths;
  for (const auto& r : s.routes) paths.insert(r.path);
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  key_int(w, "app_count", running_plugins(s));
  key_int(w, "model_count", static_cast<int64_t>(s.catalog.tables.size()));
  key_int(w, "viewset_count", static_cast<int64_t>(paths.size()));
  key_int(w, "route_count", static_cast<int64_t>(s.routes.size()));
  key_int(w, "ai_tool_count", static_cast<int64_t>(s.connectors.size()));
  key_int(w, "migration_count", m.total);
  key_int(w, "pending_migrations", m.pending);
  w.Key("database_status");
  database_status(w, s.storage);
  w.Key("migration_status");
  w.StartObject();
  key_int(w, "total", m.total);
  key_int(w, "applied", m.applied);
  key_int(w, "pending", m.pending);
  w.Key("has_conflicts");
  w.Bool(!m.conflicts.empty());
  key_opt(w, "last_applied", m.last_applied);
  w.EndObject();
  w.Key("models");
  w.StartArray();
  for (const auto& t : s.catalog.tables) {  // sorted by table name, so by model name too
    w.StartObject();
    key_str(w, "name", model_name(t.name));
    key_str(w, "table_name", t.name);
    key_int(w, "field_count", static_cast<int64_t>(t.columns.size()));
    w.Key("has_relations");
    w.Bool(!t.foreign_keys.empty() || t.referenced);
    w.EndObject();
  }
  w.EndArray();
  w.Key("checksums");
  checksums(w, compute_checksums(s));
  w.EndObject();
  return finish(buf);
}

std::string health_json(const HostSnapshot& s, const std::string& timestamp) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  key_str(w, "status", health_status(s.storage));
  key_str(w, "aksara_version", s.host.version);
  key_str(w, "host_version", s.host.version);
  w.Key("database");
  database_status(w, s.storage);
  key_str(w, "timestamp", timestamp);
  w.EndObject();
  return finish(buf);
}

std::string migrations_summary_json(const HostSnapshot& s) {
  MigrationSummary m = summarize_migrations(s.migrations);
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  key_int(w, "total_migrations", m.total);
  key_int(w, "applied_migrations", m.applied);
  key_int(w, "pending_migrations", m.pending);
  w.Key("apps");
  w.StartArray();
  for (const auto& app : m.apps) {
    w.StartObject();
    key_str(w, "app_label", app.app_label);
    key_int(w, "total", app.total);
    key_int(w, "applied", app.applied);
    key_int(w, "pending", app.pending);
    w.Key("has_conflicts");
    w.Bool(app.has_conflicts);
    w.Key("head_migrations");
    list(w, app.head_migrations);
    key_opt(w, "last_applied", app.last_applied);
    w.EndObject();
  }
  w.EndArray();
  w.Key("conflicts");
  w.StartArray();
  for (const auto& c : m.conflicts) {
    w.StartObject();
    key_str(w, "app_label", c.app_label);
    w.Key("heads");
    list(w, c.heads);
    key_str(w, "order", c.order);
    key_str(w, "message", c.message);
    w.EndObject();
  }
  w.EndArray();
  key_str(w, "migrations_checksum", migrations_checksum(s.migrations));
  key_opt(w, "last_applied", m.last_applied);
  w.EndObject();
  return finish(buf);
}

}  // namespace studio
