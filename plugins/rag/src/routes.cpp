#include "routes.hpp"

#include <sodium.h>

#include <algorithm>

namespace rag {

using plughost::sdk::HttpError;

namespace {

std::string slug_param(const Request& rq) {
  return std::string(rq.param("slug").value_or(""));
}

HttpError as_http(const QueryError& e) {
  std::vector<plughost::sdk::ErrorDetail> details;
  if (!e.field.empty()) details.push_back({e.field, e.what()});
  return HttpError(e.status, e.code, e.what(), details);
}

bool contains(const std::vector<std::string>& list, const std::string& v) {
  return !v.empty() && std::find(list.begin(), list.end(), v) != list.end();
}

std::string member(const rapidjson::Value& o, const char* key) {
  return o.IsObject() && o.HasMember(key) && o[key].IsString() ? o[key].GetString() : "";
}

// Identity of the caller's principal (id, name), and its roles and groups.
void check_policy(const EndpointSettings& e, const Request& rq) {
  rapidjson::Document p = rq.principal();
  if (!policy_allows(e.policy, p)) throw HttpError(403, "FORBIDDEN", "Access denied");
}

}  // namespace

bool policy_allows(const AccessPolicy& policy, const rapidjson::Value& principal) {
  bool auth_enabled = !(principal.IsObject() && principal.HasMember("auth_enabled") &&
                        principal["auth_enabled"].IsBool() && !principal["auth_enabled"].GetBool());
  if (!auth_enabled) return true;  // the operator turned identity off: everyone is admin
  std::string kind = member(principal, "kind");
  bool anonymous = kind.empty() || kind == "anonymous";
  std::string id = member(principal, "id"), name = member(principal, "name");
  if (contains(policy.denied_users, id) || contains(policy.denied_users, name)) return false;
  if (policy.allow_all) return true;
  if (anonymous && policy.require_authenticated) return false;
  if (policy.allowed_users.empty() && policy.allowed_groups.empty()) return true;
  if (contains(policy.allowed_users, id) || contains(policy.allowed_users, name)) return true;
  for (const char* key : {"roles", "groups"}) {
    if (!principal.HasMember(key) || !principal[key].IsArray()) continue;
    for (const auto& g : principal[key].GetArray()) {
      if (g.IsString() && contains(policy.allowed_groups, g.GetString())) return true;
    }
  }
  return false;
}

void query_endpoint(Engine& engine, const Request& rq, Response& rs) {
  std::string tenant(rq.tenant()), slug = slug_param(rq);
  try {
    const EndpointSettings& e = engine.endpoint(tenant, slug);
    check_policy(e, rq);
    rapidjson::Document body;
    std::string error;
    if (!plughost::sdk::parse_json(rq.body(), body, error)) {
      throw HttpError(400, "VALIDATION_ERROR", "Invalid request body: " + error);
    }
    rs.json_text(engine.query(tenant, slug, body, std::string(rq.trace_id())));
  } catch (const QueryError& e) {
    throw as_http(e);
  }
}

void endpoint_health(Engine& engine, const Request& rq, Response& rs) {
  std::string tenant(rq.tenant()), slug = slug_param(rq);
  try {
    check_policy(engine.endpoint(tenant, slug), rq);
    rs.json_text(engine.health(tenant, slug));
  } catch (const QueryError& e) {
    throw as_http(e);
  }
}

void list_endpoints(Engine& engine, const Request& rq, Response& rs) {
  rs.json_text(engine.list(std::string(rq.tenant())));
}

void start_sync(Engine& engine, const plughost::sdk::Services& s, const Request& rq, Response& rs) {
  std::string tenant(rq.tenant()), slug = slug_param(rq);
  try {
    engine.endpoint(tenant, slug);
  } catch (const QueryError& e) {
    throw as_http(e);
  }
  rapidjson::Document payload(rapidjson::kObjectType);
  auto& a = payload.GetAllocator();
  payload.AddMember("tenant", rapidjson::Value(tenant.c_str(), a), a);
  payload.AddMember("endpoint", rapidjson::Value(slug.c_str(), a), a);
  plughost::sdk::TaskRequest r;
  r.kind = std::string("rag/") + kSyncTask;
  r.payload_json = plughost::sdk::to_json(payload);
  int64_t id = s.enqueue(r);
  rs.json_text("{\"task_id\":" + std::to_string(id) + ",\"endpoint\":" +
                   plughost::sdk::to_json(payload["endpoint"]) + ",\"status\":\"queued\"}",
               202);
}

std::string run_retriever_connector(Engine& engine, std::string_view operation,
                                    std::string_view input) {
  if (operation != "query") {
    throw plughost::sdk::Error(PH_ERR_UNSUPPORTED, "the rag retriever offers only \"query\"");
  }
  rapidjson::Document in;
  in.Parse(input.data(), input.size());
  if (in.HasParseError() || !in.IsObject() || !in.HasMember("endpoint") ||
      !in["endpoint"].IsString()) {
    throw plughost::sdk::Error(PH_ERR_INVALID_ARGUMENT,
                               "input needs \"endpoint\" (a slug) and \"query\"");
  }
  std::string tenant =
      in.HasMember("tenant") && in["tenant"].IsString() ? in["tenant"].GetString() : "default";
  std::string trace_id =
      in.HasMember("trace_id") && in["trace_id"].IsString() ? in["trace_id"].GetString() : "";
  if (trace_id.empty()) {
    unsigned char raw[8];
    randombytes_buf(raw, sizeof raw);
    char hex[17];
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    trace_id = hex;
  }
  try {
    return engine.query(tenant, in["endpoint"].GetString(), in, trace_id);
  } catch (const QueryError& e) {
    int code = e.status == 404   ? PH_ERR_NOT_FOUND
               : e.status == 400 ? PH_ERR_INVALID_ARGUMENT
               : e.status == 503 ? PH_ERR_WRONG_STATE
                                 : PH_ERR_INTERNAL;
    throw plughost::sdk::Error(code, std::to_string(e.status) + " " + e.code + ": " + e.what());
  }
}

}  // namespace rag
