// capabilities.hpp — which Studio capabilities and endpoints this host really offers, derived from
// what the loaded plugins registered (routes, connectors), the storage probe and debug mode.
// The mapping is documented in the plugin's README ("Capabilities").
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "host_snapshot.hpp"

namespace studio {

// Every capability, in the order of the Studio API document (answers keep this order).
const std::vector<std::string>& all_capabilities();

std::vector<std::string> derive_capabilities(const HostSnapshot& snapshot, bool debug);

// Endpoint name -> path, only for paths that are in the host's route table.
std::vector<std::pair<std::string, std::string>> existing_endpoints(
    const std::vector<RouteInfo>& routes);

}  // namespace studio
