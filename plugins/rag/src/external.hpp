// An endpoint served by an external retrieval service instead of the local index (the original's
// "external provider"): POST <base_url>/query {query, top_k, filters, namespace, trace_id} ->
// {"results": [{id, content|text, score, metadata}]}, GET <base_url>/health -> {"status": "ok"}.
#pragma once

#include <string>
#include <vector>

#include "retrieval.hpp"

namespace rag {

struct ExternalProvider {
  std::string base_url;  // empty: the endpoint uses its own index
  std::string namespace_name;
  std::string api_key;  // sent as a bearer token when set
  double timeout_seconds = 10;
  bool enabled() const { return !base_url.empty(); }
};

// Throws std::runtime_error ("HTTP <code>: <first 200 characters>", or the transport error).
std::vector<SearchHit> external_query(const ExternalProvider& p, const std::string& query,
                                      size_t top_k, const std::string& filters_json,
                                      const std::string& trace_id);

// True when /health answers 2xx with {"status": "ok"}; otherwise `error` says why.
bool external_health(const ExternalProvider& p, std::string& error);

}  // namespace rag
