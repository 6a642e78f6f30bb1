// The rag engine: the configured endpoints with their indexes, embedders and vector stores;
// ingestion (incremental by content hash) and the query/health answers shared by the HTTP routes
// and the "retriever" connector. Thread-safe; one per plugin instance.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <plughost/plugin.hpp>
#include <string>

#include "exact_store.hpp"
#include "hnsw_store.hpp"
#include "retrieval.hpp"
#include "settings.hpp"

namespace rag {

// A request error with its HTTP status and envelope code (the retriever connector turns it into
// PH_ERR_INVALID_ARGUMENT / PH_ERR_NOT_FOUND).
struct QueryError : std::runtime_error {
  QueryError(int status, std::string code, const std::string& message, std::string field = {})
      : std::runtime_error(message),
        status(status),
        code(std::move(code)),
        field(std::move(field)) {}
  int status;
  std::string code;
  std::string field;
};

struct SyncSummary {
  size_t added = 0, updated = 0, removed = 0, unchanged = 0, chunks = 0;
  std::vector<std::string> errors;  // per failed source: "<name>: <why>"
};

class Engine {
 public:
  Engine(plughost::sdk::Services services, Settings settings);

  const Settings& settings() const { return settings_; }
  // The endpoint `slug` of `tenant`; throws QueryError 404 when there is none.
  const EndpointSettings& endpoint(const std::string& tenant, const std::string& slug) const;

  // Brings the endpoint's index in line with its sources; safe to call concurrently (one sync
  // per endpoint at a time). `progress` (0..100) may be null.
  SyncSummary sync(const std::string& tenant, const std::string& slug,
                   const std::function<void(int)>& progress = nullptr);

  // `body`: {"query", "top_k"?, "filters"?, "mode"?}. Answers the query response JSON text.
  // Throws QueryError for bad input, an unknown endpoint or one that is not active.
  std::string query(const std::string& tenant, const std::string& slug,
                    const rapidjson::Value& body, const std::string& trace_id);
  std::string health(const std::string& tenant, const std::string& slug);
  std::string list(const std::string& tenant);

  std::shared_ptr<HnswStore> hnsw() const { return hnsw_; }
  std::shared_ptr<ExactStore> exact() const { return exact_; }
  std::shared_ptr<const Embedder> builtin_embedder(const std::string& name) const;

 private:
  struct Live {
    std::once_flag loaded;
    std::unique_ptr<EndpointIndex> index;
    std::mutex sync_mu;
    bool needs_reindex = false;
  };
  Live& live(const EndpointSettings& e);  // loads the index from storage on first use
  std::shared_ptr<const Embedder> embedder_for(const std::string& name) const;
  std::shared_ptr<VectorStore> store_for(const std::string& name) const;
  void ingest_document(const EndpointSettings& e, Live& l, const SourceDocument& doc,
                       const std::string& source, const std::string& hash);

  plughost::sdk::Services services_;
  Settings settings_;
  std::shared_ptr<HnswStore> hnsw_;
  std::shared_ptr<ExactStore> exact_;
  std::map<std::string, std::shared_ptr<const Embedder>> embedders_;
  std::map<std::string, std::unique_ptr<Live>> live_;  // by collection; filled in the constructor
};

}  // namespace rag
