#include "settings.hpp"

#include <set>
#include <stdexcept>

namespace rag {

namespace {

std::string str(const rapidjson::Value& v, const char* key, const std::string& fallback) {
  return v.IsObject() && v.HasMember(key) && v[key].IsString() ? v[key].GetString() : fallback;
}

double num(const rapidjson::Value& v, const char* key, double fallback) {
  return v.IsObject() && v.HasMember(key) && v[key].IsNumber() ? v[key].GetDouble() : fallback;
}

bool flag(const rapidjson::Value& v, const char* key, bool fallback) {
  return v.IsObject() && v.HasMember(key) && v[key].IsBool() ? v[key].GetBool() : fallback;
}

std::vector<std::string> list(const rapidjson::Value& v, const char* key) {
  std::vector<std::string> out;
  if (v.IsObject() && v.HasMember(key) && v[key].IsArray()) {
    for (const auto& s : v[key].GetArray()) {
      if (s.IsString()) out.emplace_back(s.GetString());
    }
  }
  return out;
}

bool valid_slug(const std::string& s) {
  return valid_collection_name(s) && s.size() <= 100;
}

// Collections name files, so they are [a-z0-9_-]: the tenant's lower-case letters and digits
// stay, every other byte becomes "_<hex>" (distinct tenants never share a collection).
std::string tenant_collection(const std::string& tenant, const std::string& slug) {
  if (tenant == "default") return slug;
  static const char* hex = "0123456789abcdef";
  std::string t;
  for (unsigned char c : tenant) {
    if (std::islower(c) || std::isdigit(c)) {
      t.push_back(static_cast<char>(c));
    } else {
      t += {'_', hex[c >> 4], hex[c & 15]};
    }
  }
  return t + "--" + slug;
}

EndpointSettings read_endpoint(const rapidjson::Value& v, const std::string& base_dir) {
  EndpointSettings e;
  e.slug = str(v, "slug", "");
  if (!valid_slug(e.slug) || e.slug.find("--") != std::string::npos) {
    throw std::invalid_argument("endpoint slug \"" + e.slug +
                                "\" must be [a-z0-9_-] without \"--\" (it separates the tenant)");
  }
  e.name = str(v, "name", e.slug);
  e.tenant = str(v, "tenant", "default");
  e.status = str(v, "status", "active");
  e.embedder = str(v, "embedder", "hashed");
  e.vector_store = str(v, "vector_store", "hnsw");
  e.mode_name = str(v, "search_mode", "hybrid");
  if (!parse_search_mode(e.mode_name, e.mode)) {
    throw std::invalid_argument("endpoint " + e.slug + ": unknown search_mode " + e.mode_name);
  }
  if (v.HasMember("chunking")) {
    e.chunk_size = static_cast<size_t>(num(v["chunking"], "size", 1000));
    e.chunk_overlap = static_cast<size_t>(num(v["chunking"], "overlap", 150));
    if (e.chunk_overlap >= e.chunk_size) {
      throw std::invalid_argument("endpoint " + e.slug + ": chunking.overlap must be below size");
    }
  }
  e.default_top_k = static_cast<size_t>(num(v, "top_k", 5));
  if (v.HasMember("policy")) {
    const auto& p = v["policy"];
    e.policy.allow_all = flag(p, "allow_all", false);
    e.policy.require_authenticated = flag(p, "require_authenticated", true);
    e.policy.allowed_users = list(p, "allowed_users");
    e.policy.denied_users = list(p, "denied_users");
    e.policy.allowed_groups = list(p, "allowed_groups");
  }
  if (v.HasMember("sources") && v["sources"].IsArray()) {
    size_t i = 0;
    std::set<std::string> names;
    for (const auto& s : v["sources"].GetArray()) {
      e.sources.push_back(parse_source(s, i++, base_dir));
      if (!names.insert(e.sources.back().name).second) {
        throw std::invalid_argument("endpoint " + e.slug + ": two sources named " +
                                    e.sources.back().name);
      }
    }
  }
  if (v.HasMember("external") && v["external"].IsObject()) {
    const auto& x = v["external"];
    e.external.base_url = str(x, "base_url", "");
    e.external.namespace_name = str(x, "namespace", e.slug);
    e.external.api_key = str(x, "api_key", "");
    e.external.timeout_seconds = num(x, "timeout_seconds", 10);
    if (!e.external.enabled()) {
      throw std::invalid_argument("endpoint " + e.slug + ": external.base_url is required");
    }
  }
  e.collection = tenant_collection(e.tenant, e.slug);
  return e;
}

}  // namespace

Settings read_settings(const rapidjson::Value& config) {
  Settings s;
  std::string base_dir = str(config, "base_dir", "");
  s.hnsw.data_dir = str(config, "data_dir", "var/rag");
  if (config.IsObject() && config.HasMember("hnsw")) {
    const auto& h = config["hnsw"];
    s.hnsw.m = static_cast<size_t>(num(h, "m", 16));
    s.hnsw.ef_construction = static_cast<size_t>(num(h, "ef_construction", 200));
    s.hnsw.ef_search = static_cast<size_t>(num(h, "ef_search", 128));
  }
  s.sync_schedule = str(config, "sync_schedule", s.sync_schedule);
  s.sync_at_start = flag(config, "sync_at_start", true);

  s.embedders.push_back({"hashed", "hashed", 512, {}});
  if (config.IsObject() && config.HasMember("embedders") && config["embedders"].IsObject()) {
    for (const auto& m : config["embedders"].GetObject()) {
      EmbedderSettings e;
      e.name = m.name.GetString();
      if (e.name == "hashed") {
        throw std::invalid_argument("the embedder name \"hashed\" is built in");
      }
      e.type = str(m.value, "type", "");
      if (e.type == "hashed") {
        e.dimensions = static_cast<size_t>(num(m.value, "dimensions", 512));
      } else if (e.type == "openai") {
        e.openai.base_url = str(m.value, "base_url", "https://api.openai.com/v1");
        e.openai.api_key = str(m.value, "api_key", "");
        e.openai.model = str(m.value, "model", e.openai.model);
        e.openai.dimensions = static_cast<int>(num(m.value, "dimensions", 0));
        e.openai.batch = static_cast<size_t>(num(m.value, "batch", 64));
        e.openai.timeout_seconds = num(m.value, "timeout_seconds", 30);
      } else {
        throw std::invalid_argument("embedder " + e.name + ": type must be hashed or openai");
      }
      s.embedders.push_back(std::move(e));
    }
  }

  std::set<std::string> seen;
  if (config.IsObject() && config.HasMember("endpoints") && config["endpoints"].IsArray()) {
    for (const auto& v : config["endpoints"].GetArray()) {
      EndpointSettings e = read_endpoint(v, base_dir);
      if (!seen.insert(e.tenant + "/" + e.slug).second) {
        throw std::invalid_argument("two endpoints with slug " + e.slug + " in tenant " + e.tenant);
      }
      s.endpoints.push_back(std::move(e));
    }
  }
  return s;
}

}  // namespace rag
