// registry.hpp — what plugins registered: routes, task kinds and connectors.
// Filled on the main thread while plugins init; read-only (and so lock-free) once serving starts.
#pragma once

#include <plughost/abi.h>

#include <map>
#include <string>
#include <vector>

#include "http/router.hpp"

namespace plughost {

struct RouteTarget {
  ph_route_handler handler = nullptr;
  void* user_data = nullptr;
  size_t plugin_index = 0;
};

struct TaskKindEntry {
  std::string plugin;
  std::string name;
  std::string description;
  ph_task_handler handler = nullptr;
  void* user_data = nullptr;
};

struct ConnectorEntry {
  std::string plugin;
  std::string kind;
  std::string name;
  std::string description;
  std::string config_schema;
  ph_connector_invoke invoke = nullptr;
  void* user_data = nullptr;
};

// Registrations of one plugin made during its init; committed to the Registry only if init
// succeeds, so a failed plugin leaves nothing behind.
struct PendingRegistrations {
  std::vector<RouteEntry> routes;
  std::vector<RouteTarget> targets;
  std::vector<TaskKindEntry> tasks;
  std::vector<ConnectorEntry> connectors;
};

class Registry {
 public:
  // Checks a route against everything committed and pending; returns an error or "".
  std::string check_route(const RouteEntry& route, const PendingRegistrations& pending) const;
  std::string check_connector(const ConnectorEntry& c, const PendingRegistrations& pending) const;
  std::string check_task(const TaskKindEntry& t, const PendingRegistrations& pending) const;

  void commit(PendingRegistrations pending);
  // Builds the router from every committed route. Call once, after the last commit.
  void build_router();

  const Router& router() const { return router_; }
  const RouteTarget& target(size_t index) const { return targets_[index]; }
  const std::vector<RouteEntry>& routes() const { return routes_; }
  const std::vector<TaskKindEntry>& tasks() const { return tasks_; }
  const std::vector<ConnectorEntry>& connectors() const { return connectors_; }
  const ConnectorEntry* find_connector(std::string_view kind, std::string_view name) const;

 private:
  std::vector<RouteEntry> routes_;
  std::vector<RouteTarget> targets_;
  std::vector<TaskKindEntry> tasks_;
  std::vector<ConnectorEntry> connectors_;
  Router router_;
};

}  // namespace plughost
