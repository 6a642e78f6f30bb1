// The RAG API's HTTP handlers and the "retriever" connector, over the engine. Access policy per
// endpoint is applied here (the host already checked the route's permission).
#pragma once

#include <plughost/plugin.hpp>

#include "engine.hpp"

namespace rag {

using plughost::sdk::Request;
using plughost::sdk::Response;

// Task kinds this plugin registers ("rag/<name>").
constexpr const char* kSyncTask = "sync";
constexpr const char* kSyncAllTask = "sync_all";

void query_endpoint(Engine& engine, const Request& rq, Response& rs);
void endpoint_health(Engine& engine, const Request& rq, Response& rs);
void list_endpoints(Engine& engine, const Request& rq, Response& rs);
void start_sync(Engine& engine, const plughost::sdk::Services& s, const Request& rq, Response& rs);

// The policy of an endpoint against the caller (the principal JSON of the request).
bool policy_allows(const AccessPolicy& policy, const rapidjson::Value& principal);

// Connector kind "retriever", operation "query": {"endpoint", "query", "top_k"?, "filters"?,
// "mode"?, "tenant"?, "trace_id"?} -> the HTTP query response body. Policies do not apply (the
// caller is a plugin acting for its own, already checked, caller).
std::string run_retriever_connector(Engine& engine, std::string_view operation,
                                    std::string_view input);

}  // namespace rag
