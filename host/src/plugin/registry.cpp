#include "plugin/registry.hpp"

namespace plughost {
namespace {

// Two routes conflict when they have the same method and shape; trial-adding both to a scratch
// router is the one definition of "shape" (Router::add).
std::string conflict_in(const std::vector<RouteEntry>& existing, const RouteEntry& route) {
  Router scratch;
  for (const auto& r : existing) {
    if (r.method == route.method) scratch.add(r);
  }
  auto err = scratch.add(route);
  return err ? *err : std::string();
}

}  // namespace

std::string Registry::check_route(const RouteEntry& route,
                                  const PendingRegistrations& pending) const {
  if (auto err = Router::validate_pattern(route.pattern)) return route.pattern + ": " + *err;
  std::string err = conflict_in(routes_, route);
  if (err.empty()) err = conflict_in(pending.routes, route);
  return err;
}

std::string Registry::check_connector(const ConnectorEntry& c,
                                      const PendingRegistrations& pending) const {
  auto clash = [&c](const ConnectorEntry& other) {
    return other.kind == c.kind && other.name == c.name;
  };
  for (const auto* list : {&connectors_, &pending.connectors}) {
    for (const auto& other : *list) {
      if (clash(other)) {
        return "connector " + c.kind + "/" + c.name + " of plugin '" + c.plugin +
               "' is already registered by plugin '" + other.plugin + "'";
      }
    }
  }
  return {};
}

std::string Registry::check_task(const TaskKindEntry& t,
                                 const PendingRegistrations& pending) const {
  for (const auto& other : pending.tasks) {
    if (other.name == t.name) return "task kind '" + t.name + "' is registered twice";
  }
  return {};
}

void Registry::commit(PendingRegistrations pending) {
  for (size_t i = 0; i < pending.routes.size(); ++i) {
    pending.routes[i].target = targets_.size();
    targets_.push_back(pending.targets[i]);
    routes_.push_back(std::move(pending.routes[i]));
  }
  for (auto& t : pending.tasks) tasks_.push_back(std::move(t));
  for (auto& c : pending.connectors) connectors_.push_back(std::move(c));
}

void Registry::build_router() {
  router_ = Router();
  for (const auto& r : routes_) router_.add(r);  // conflicts were refused at registration
}

const ConnectorEntry* Registry::find_connector(std::string_view kind, std::string_view name) const {
  for (const auto& c : connectors_) {
    if (c.kind == kind && c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace plughost
