// The plugin's configuration, read once at init: endpoints with their sources, chunking, search
// mode and access policy; named embedders; HNSW parameters and the data directory.
#pragma once

#include <rapidjson/document.h>

#include <map>
#include <string>
#include <vector>

#include "embedders.hpp"
#include "external.hpp"
#include "hnsw_store.hpp"
#include "retrieval.hpp"
#include "sources.hpp"

namespace rag {

struct AccessPolicy {
  bool allow_all = false;
  bool require_authenticated = true;
  std::vector<std::string> allowed_users, denied_users, allowed_groups;
};

struct EndpointSettings {
  // "external" for an external provider, else the vector store's name.
  const std::string& provider() const {
    static const std::string kExternal = "external";
    return external.enabled() ? kExternal : vector_store;
  }
  std::string slug;
  std::string name;
  std::string tenant = "default";
  std::string status = "active";  // active | disabled | maintenance
  std::string embedder = "hashed";
  std::string vector_store = "hnsw";
  SearchMode mode = SearchMode::kHybrid;
  std::string mode_name = "hybrid";
  size_t chunk_size = 1000;
  size_t chunk_overlap = 150;
  size_t default_top_k = 5;
  AccessPolicy policy;
  std::vector<SourceSpec> sources;
  ExternalProvider external;  // when enabled, queries and health go to it
  std::string collection;     // derived: slug, or "<tenant>--<slug>" outside the default tenant
};

struct EmbedderSettings {
  std::string name;
  std::string type;  // hashed | openai
  size_t dimensions = 512;
  OpenAIEmbedderSettings openai;
};

struct Settings {
  std::vector<EndpointSettings> endpoints;
  std::vector<EmbedderSettings> embedders;  // always holds "hashed" (512 dimensions)
  HnswSettings hnsw;
  std::string sync_schedule = "*/30 * * * *";
  bool sync_at_start = true;
};

// Reads the plugin config (already validated against config.schema.json); throws
// std::invalid_argument naming the first problem the schema cannot express (duplicate slugs,
// unknown search modes…).
Settings read_settings(const rapidjson::Value& config);

}  // namespace rag
