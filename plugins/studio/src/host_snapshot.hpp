// host_snapshot.hpp — the host as Studio sees it: plugins, routes, settings, storage status,
// migrations, connectors and the database catalog, read through the SDK and parsed into structs.
// Reading is per request (no cache), so every answer reflects the host at that moment.
#pragma once

#include <rapidjson/document.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "catalog.hpp"

namespace studio {

struct HostInfo {
  std::string name;
  std::string version;
  std::string abi;
  std::string compiler;
  std::string node;
  std::string started_at;
};

struct PluginInfo {
  std::string name;
  std::string version;
  std::string status;  // found | disabled | loaded | failed | running | stopped
};

struct RouteInfo {
  std::string method;
  std::string path;  // the pattern, e.g. "/api/items/:id"
  std::string plugin;
  std::string permission;
};

struct StorageStatus {
  bool connected = false;
  std::string dialect;
  int64_t pool_size = 0;
  int64_t pool_available = 0;
  std::optional<double> latency_ms;  // of the round trip made while describing
  std::optional<std::string> last_error;
};

struct MigrationRow {
  std::string plugin;
  std::string name;
  std::string checksum;
  bool applied = false;
  std::optional<std::string> applied_at;  // ISO-8601 UTC; nullopt while pending
};

struct ConnectorEntry {
  std::string kind;
  std::string name;
  std::string plugin;
};

struct HostSnapshot {
  HostInfo host;
  std::vector<PluginInfo> plugins;
  std::vector<RouteInfo> routes;
  rapidjson::Document settings;  // effective settings, secrets already masked by the host
  StorageStatus storage;
  std::vector<MigrationRow> migrations;  // registered this run + every ledger row
  std::vector<ConnectorEntry> connectors;
  Catalog catalog;
  std::optional<std::string> catalog_error;  // why the catalog could not be read
};

// What the snapshot is read through; plugin.cpp binds these to the SDK.
struct HostAccess {
  std::function<std::string(const std::string& what)> describe;  // host_describe JSON text
  std::function<std::vector<ConnectorEntry>()> connectors;
  QueryFn query;  // for the catalog
};

// Each reader throws std::runtime_error when the host answers something unparseable.
HostInfo parse_host_info(const std::string& json);
std::vector<PluginInfo> parse_plugins(const std::string& json);
std::vector<RouteInfo> parse_routes(const std::string& json);
StorageStatus parse_storage(const std::string& json);
std::vector<MigrationRow> parse_migrations(const std::string& json);

// Reads everything; the catalog only when the storage probe succeeded (else it stays empty).
HostSnapshot read_snapshot(const HostAccess& access);

}  // namespace studio
