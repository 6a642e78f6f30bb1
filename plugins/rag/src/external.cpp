#include "external.hpp"

#include <plughost/http_client.hpp>
#include <plughost/json.hpp>
#include <stdexcept>

namespace rag {

namespace {

plughost::http::Request call(const ExternalProvider& p, const char* method, const char* path) {
  std::string b = p.base_url;
  while (!b.empty() && b.back() == '/') b.pop_back();
  plughost::http::Request req;
  req.method = method;
  req.url = b + path;
  req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  if (!p.api_key.empty()) req.headers.emplace_back("Authorization", "Bearer " + p.api_key);
  req.timeout_seconds = p.timeout_seconds;
  req.max_response_bytes = size_t{16} << 20;
  return req;
}

std::string text_member(const rapidjson::Value& o, const char* key) {
  return o.HasMember(key) && o[key].IsString() ? o[key].GetString() : "";
}

}  // namespace

std::vector<SearchHit> external_query(const ExternalProvider& p, const std::string& query,
                                      size_t top_k, const std::string& filters_json,
                                      const std::string& trace_id) {
  rapidjson::Document req(rapidjson::kObjectType);
  auto& a = req.GetAllocator();
  rapidjson::Document filters;
  filters.Parse(filters_json.c_str());
  if (filters.HasParseError()) filters.SetObject();
  req.AddMember("query", rapidjson::Value(query.c_str(), a), a);
  req.AddMember("top_k", static_cast<uint64_t>(top_k), a);
  req.AddMember("filters", rapidjson::Value(filters, a), a);
  req.AddMember("namespace", rapidjson::Value(p.namespace_name.c_str(), a), a);
  req.AddMember("trace_id", rapidjson::Value(trace_id.c_str(), a), a);
  plughost::http::Request q = call(p, "POST", "/query");
  q.body = plughost::sdk::to_json(req);
  plughost::http::Response r = plughost::http::perform(q);
  if (!r.ok()) throw std::runtime_error(plughost::http::describe_failure(r, "external provider"));
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("results") || !d["results"].IsArray()) {
    throw std::runtime_error("external provider answered without a \"results\" list");
  }
  std::vector<SearchHit> out;
  for (const auto& item : d["results"].GetArray()) {
    if (!item.IsObject()) continue;
    SearchHit h;
    h.chunk_id = item.HasMember("id") && item["id"].IsNumber() ? plughost::sdk::to_json(item["id"])
                                                               : text_member(item, "id");
    h.content =
        item.HasMember("content") ? text_member(item, "content") : text_member(item, "text");
    h.score = item.HasMember("score") && item["score"].IsNumber() ? item["score"].GetDouble() : 0;
    h.metadata_json = item.HasMember("metadata") && item["metadata"].IsObject()
                          ? plughost::sdk::to_json(item["metadata"])
                          : "{}";
    h.document_id = item.HasMember("source_id") ? text_member(item, "source_id") : h.chunk_id;
    out.push_back(std::move(h));
    if (out.size() == top_k) break;
  }
  return out;
}

bool external_health(const ExternalProvider& p, std::string& error) {
  plughost::http::Response r = plughost::http::perform(call(p, "GET", "/health"));
  if (r.status == 0) {
    error = "external provider unreachable: " + r.error;
    return false;
  }
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  if (r.status >= 200 && r.status < 300 && !d.HasParseError() && d.IsObject() &&
      text_member(d, "status") == "ok") {
    return true;
  }
  error = "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 200);
  return false;
}

}  // namespace rag
