// A workflow's graph: nodes (steps) joined by edges {source, target}. Validation on save and the
// order the engine runs the nodes in.
#pragma once

#include <rapidjson/document.h>

#include <plughost/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace automate {

// Problems with `graph` (field names like "graph.nodes[1].type"); empty when it is valid: an
// object with a `nodes` array of {id, type, config?} (ids unique, type one of `step_types`) and
// an optional `edges` array of {source, target} naming known ids, without cycles.
std::vector<plughost::sdk::ErrorDetail> validate_graph(const rapidjson::Value& graph,
                                                       const std::set<std::string>& step_types);

// Node ids in an order where every edge's source comes before its target (nodes without
// ordering constraints keep their listed order). Only for a graph validate_graph accepted.
std::vector<std::string> run_order(const rapidjson::Value& graph);

}  // namespace automate
