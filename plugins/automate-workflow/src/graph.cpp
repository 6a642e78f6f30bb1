#include "graph.hpp"

#include <cstdio>
#include <map>
#include <string_view>

#include "expression.hpp"

namespace automate {

using plughost::sdk::ErrorDetail;

namespace {

std::string at(const char* list, size_t i, const char* key) {
  return std::string("graph.") + list + "[" + std::to_string(i) + "]." + key;
}

bool non_empty_string(const rapidjson::Value& obj, const char* key) {
  return obj.HasMember(key) && obj[key].IsString() && obj[key].GetStringLength() > 0;
}

// Kahn's algorithm over ids in listed order; shorter than `ids` when there is a cycle.
std::vector<std::string> kahn(const std::vector<std::string>& ids,
                              const std::vector<std::pair<std::string, std::string>>& edges) {
  std::map<std::string, int> indegree;
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& id : ids) indegree[id] = 0;
  for (const auto& [s, t] : edges) {
    out[s].push_back(t);
    ++indegree[t];
  }
  std::vector<std::string> order;
  std::set<std::string> done;
  bool progressed = true;
  while (progressed) {
    progressed = false;
    for (const auto& id : ids) {
      if (done.count(id) || indegree[id] != 0) continue;
      done.insert(id);
      order.push_back(id);
      for (const auto& t : out[id]) --indegree[t];
      progressed = true;
    }
  }
  return order;
}

void check_retry(const rapidjson::Value& n, size_t i, std::vector<ErrorDetail>& problems) {
  if (!n.HasMember("retry") || n["retry"].IsNull()) return;
  const auto& r = n["retry"];
  if (!r.IsObject()) {
    problems.push_back({at("nodes", i, "retry"), "Must be an object"});
    return;
  }
  struct Limit {
    const char* key;
    double lo, hi;
  };
  static const Limit kLimits[] = {{"max_attempts", 1, 10},
                                  {"backoff_seconds", 0, 86400},
                                  {"backoff_multiplier", 1, 10},
                                  {"max_backoff_seconds", 0, 86400}};
  for (const auto& m : r.GetObject()) {
    const Limit* limit = nullptr;
    for (const auto& l : kLimits) {
      if (std::string_view(m.name.GetString()) == l.key) limit = &l;
    }
    std::string field = at("nodes", i, "retry.") + m.name.GetString();
    if (!limit) {
      problems.push_back({field, "Unknown key"});
    } else if (!m.value.IsNumber() || m.value.GetDouble() < limit->lo ||
               m.value.GetDouble() > limit->hi ||
               (limit->key == std::string_view("max_attempts") && !m.value.IsInt())) {
      char text[96];
      std::snprintf(text, sizeof(text), "Must be a number from %g to %g", limit->lo, limit->hi);
      problems.push_back({field, text});
    }
  }
}

void check_condition(const rapidjson::Value& n, size_t i, std::vector<ErrorDetail>& problems) {
  std::string field = at("nodes", i, "config.expression");
  if (!n.HasMember("config") || !n["config"].IsObject() ||
      !non_empty_string(n["config"], "expression")) {
    problems.push_back({field, "This field is required"});
    return;
  }
  try {
    Expression::parse(n["config"]["expression"].GetString());
  } catch (const ExpressionError& e) {
    problems.push_back({field, e.what()});
  }
}

}  // namespace

std::vector<ErrorDetail> validate_graph(const rapidjson::Value& graph,
                                        const std::set<std::string>& step_types) {
  std::vector<ErrorDetail> problems;
  if (!graph.IsObject()) return {{"graph", "Must be an object with nodes and edges"}};
  if (!graph.HasMember("nodes") || !graph["nodes"].IsArray()) {
    return {{"graph.nodes", "This field is required and must be a list"}};
  }
  std::vector<std::string> ids;
  std::set<std::string> known;
  const auto& nodes = graph["nodes"];
  for (rapidjson::SizeType i = 0; i < nodes.Size(); ++i) {
    const auto& n = nodes[i];
    if (!n.IsObject()) {
      problems.push_back({"graph.nodes[" + std::to_string(i) + "]", "Must be an object"});
      continue;
    }
    if (!non_empty_string(n, "id")) {
      problems.push_back({at("nodes", i, "id"), "This field is required"});
    } else if (!known.insert(n["id"].GetString()).second) {
      problems.push_back(
          {at("nodes", i, "id"), std::string("Duplicate node id '") + n["id"].GetString() + "'"});
    } else {
      ids.push_back(n["id"].GetString());
    }
    if (!non_empty_string(n, "type")) {
      problems.push_back({at("nodes", i, "type"), "This field is required"});
    } else if (!step_types.count(n["type"].GetString())) {
      problems.push_back({at("nodes", i, "type"),
                          std::string("Unknown step type '") + n["type"].GetString() + "'"});
    }
    if (n.HasMember("config") && !n["config"].IsObject()) {
      problems.push_back({at("nodes", i, "config"), "Must be an object"});
    }
    check_retry(n, i, problems);
    if (non_empty_string(n, "type") && std::string_view(n["type"].GetString()) == "condition") {
      check_condition(n, i, problems);
    }
  }
  std::vector<std::pair<std::string, std::string>> edges;
  if (graph.HasMember("edges") && !graph["edges"].IsNull()) {
    if (!graph["edges"].IsArray()) return {{"graph.edges", "Must be a list"}};
    const auto& list = graph["edges"];
    for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
      const auto& e = list[i];
      bool ok = e.IsObject();
      for (const char* end : {"source", "target"}) {
        if (!ok) break;
        if (!non_empty_string(e, end)) {
          problems.push_back({at("edges", i, end), "This field is required"});
          ok = false;
        } else if (!known.count(e[end].GetString())) {
          problems.push_back(
              {at("edges", i, end), std::string("Unknown node id '") + e[end].GetString() + "'"});
          ok = false;
        }
      }
      if (!e.IsObject()) {
        problems.push_back({"graph.edges[" + std::to_string(i) + "]", "Must be an object"});
      } else if (e.HasMember("condition") && !e["condition"].IsNull() &&
                 !e["condition"].IsString() && !e["condition"].IsBool()) {
        problems.push_back(
            {at("edges", i, "condition"),
             "Must be the branch this edge follows (\"true\", \"false\" or a name)"});
      }
      if (ok) edges.emplace_back(e["source"].GetString(), e["target"].GetString());
    }
  }
  if (problems.empty() && kahn(ids, edges).size() != ids.size()) {
    problems.push_back({"graph.edges", "The graph contains a cycle"});
  }
  return problems;
}

std::vector<std::string> run_order(const rapidjson::Value& graph) {
  std::vector<std::string> ids;
  for (const auto& n : graph["nodes"].GetArray()) ids.push_back(n["id"].GetString());
  std::vector<std::pair<std::string, std::string>> edges;
  if (graph.HasMember("edges") && graph["edges"].IsArray()) {
    for (const auto& e : graph["edges"].GetArray()) {
      edges.emplace_back(e["source"].GetString(), e["target"].GetString());
    }
  }
  return kahn(ids, edges);
}

}  // namespace automate
