#include "capabilities.hpp"

#include <algorithm>
#include <set>

namespace studio {
namespace {

// True when one of the path's literal segments is `segment` ("/api/datachat/chat/" has
// "datachat"); parameters (":id") and the wildcard never match.
bool has_segment(const std::string& path, const std::string& segment) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (path.compare(start, end - start, segment) == 0 && end - start == segment.size()) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

struct Offer {
  bool query_route = false;           // ad-hoc queries: a "query" or "sql" segment
  bool datachat_route = false;        // natural-language questions over data
  bool rag_route = false;             // retrieval
  bool ai_connector = false;          // a connector of kind llm or embedder
  bool admin_route = false;           // user administration (permission users.manage)
  std::set<std::string> ai_segments;  // codegen, patch, plan under an AI route
};

Offer offer_of(const HostSnapshot& s) {
  Offer o;
  for (const auto& r : s.routes) {
    if (r.plugin == "studio") continue;  // Studio's own routes offer nothing new
    if (has_segment(r.path, "query") || has_segment(r.path, "sql")) o.query_route = true;
    if (has_segment(r.path, "datachat")) o.datachat_route = true;
    if (has_segment(r.path, "rag")) o.rag_route = true;
    if (r.permission == "users.manage") o.admin_route = true;
    for (const char* seg : {"codegen", "patch", "plan"}) {
      if (has_segment(r.path, seg)) o.ai_segments.insert(seg);
    }
  }
  for (const auto& c : s.connectors) {
    if (c.kind == "llm" || c.kind == "embedder") o.ai_connector = true;
  }
  return o;
}

}  // namespace

const std::vector<std::string>& all_capabilities() {
  static const std::vector<std::string> kAll = {
      "read_schema",      "read_data",  "write_data",   "read_migrations",
      "apply_migrations", "ai_tools",   "ai_query",     "ai_codegen",
      "ai_patch",         "ai_planner", "admin_access", "debug_panels"};
  return kAll;
}

std::vector<std::string> derive_capabilities(const HostSnapshot& s, bool debug) {
  Offer o = offer_of(s);
  bool db = s.storage.connected;
  bool ai = o.ai_connector || o.datachat_route || o.rag_route;
  std::set<std::string> on;
  if (db) on.insert({"read_schema", "read_migrations"});
  if (db && (o.query_route || o.datachat_route)) on.insert("read_data");
  if (db && debug) on.insert({"write_data", "apply_migrations"});
  if (ai) on.insert("ai_tools");
  if (o.datachat_route || (o.ai_connector && o.query_route)) on.insert("ai_query");
  if (ai && o.ai_segments.count("codegen")) on.insert("ai_codegen");
  if (ai && o.ai_segments.count("patch")) on.insert("ai_patch");
  if (ai && o.ai_segments.count("plan")) on.insert("ai_planner");
  if (o.admin_route) on.insert("admin_access");
  if (debug) on.insert("debug_panels");
  std::vector<std::string> out;
  for (const auto& c : all_capabilities()) {
    if (on.count(c)) out.push_back(c);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> existing_endpoints(
    const std::vector<RouteInfo>& routes) {
  // Candidates per endpoint, the Studio document's path first, then this host's equivalents.
  static const std::vector<std::pair<std::string, std::vector<std::string>>> kCandidates = {
      {"context_full", {"/ai/context/full"}},
      {"context_summary", {"/studio/context/summary"}},
      {"health", {"/studio/health"}},
      {"migrations_summary", {"/studio/migrations/summary"}},
      {"schema_handshake", {"/studio/schema/handshake"}},
      {"tools", {"/ai/tools", "/api/tools"}},
      {"tools_mcp", {"/ai/tools/mcp"}},
      {"query_execute", {"/ai/query/execute", "/api/query"}},
      {"datachat", {"/api/datachat/chat/", "/api/datachat/chat"}},
      {"codegen_preview", {"/ai/codegen/preview"}},
      {"patch_preview", {"/ai/patch/preview"}},
      {"patch_apply", {"/ai/patch/apply"}},
      {"plan_preview", {"/ai/plan/preview"}},
      {"plan_apply", {"/ai/plan/apply"}},
      {"schema_health", {"/ai/schema/health"}},
  };
  std::set<std::string> paths;
  for (const auto& r : routes) paths.insert(r.path);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, candidates] : kCandidates) {
    for (const auto& path : candidates) {
      if (paths.count(path)) {
        out.emplace_back(name, path);
        break;
      }
    }
  }
  return out;
}

}  // namespace studio
