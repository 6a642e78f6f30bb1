// The rag plugin: the automate API's RAG endpoints (query, health) over configured document
// sources, with ingestion as host tasks and connectors for retrievers, embedders and vector
// stores. Every route, task and connector it offers is listed here.
#include <sodium.h>

#include <plughost/plugin.hpp>
#include <stdexcept>

#include "engine.hpp"
#include "routes.hpp"
#include "storage.hpp"

namespace rag {

using plughost::sdk::RouteSpec;

class RagPlugin : public plughost::sdk::Plugin {
  void init() override {
    if (sodium_init() < 0) throw plughost::sdk::Error(PH_ERR_INTERNAL, "libsodium failed to start");
    try {
      engine_ = std::make_unique<Engine>(services(), read_settings(config()));
    } catch (const std::invalid_argument& e) {
      throw plughost::sdk::Error(PH_ERR_INVALID_ARGUMENT, std::string("rag config: ") + e.what());
    }
    migration("0001_initial", kSchemaV1);

    task(kSyncTask, "Ingests one endpoint's changed documents", [this](auto& t) { run_sync(t); });
    task(kSyncAllTask, "Queues a sync of every endpoint", [this](auto&) { queue_syncs(); });

    serve("GET", "/api/rag/endpoints/", "List RAG endpoints", "rag.query", "", list_endpoints);
    serve("POST", "/api/rag/endpoints/:slug/query/", "Query a RAG endpoint", "rag.query", "rag",
          query_endpoint);
    serve("GET", "/api/rag/endpoints/:slug/health/", "Health of a RAG endpoint", "rag.query", "",
          endpoint_health);
    route(RouteSpec{"POST",
                    "/api/rag/endpoints/:slug/sync/",
                    "Queue an ingestion of an endpoint",
                    "rag.manage",
                    {},
                    {},
                    {},
                    0},
          [this](const Request& rq, Response& rs) { start_sync(*engine_, services(), rq, rs); });

    connector({"retriever",
               "rag",
               "Queries a RAG endpoint (input: endpoint, query, top_k, filters, tenant)",
               {}},
              [this](std::string_view op, std::string_view in) {
                return run_retriever_connector(*engine_, op, in);
              });
    for (const auto& e : engine_->settings().embedders) {
      auto embedder = engine_->builtin_embedder(e.name);
      connector({"embedder",
                 e.name,
                 e.type == "hashed" ? "Offline hashed word and n-gram vectors"
                                    : "OpenAI-compatible embeddings API",
                 {}},
                [embedder](std::string_view op, std::string_view in) {
                  return guarded([&] { return run_embedder_connector(*embedder, op, in); });
                });
    }
    store_connector("hnsw", "In-process HNSW index persisted under data_dir", engine_->hnsw());
    store_connector("exact", "Exact cosine search over vectors kept in host storage",
                    engine_->exact());

    if (!engine_->settings().sync_schedule.empty()) {
      schedule("rag-sync", engine_->settings().sync_schedule, std::string("rag/") + kSyncAllTask);
    }
    if (engine_->settings().sync_at_start) {
      try {
        queue_syncs();
      } catch (const plughost::sdk::Error& e) {
        // `plughost check` and other verbs load plugins without a task queue.
        info(std::string("rag: no ingestion queued at start: ") + e.what());
      }
    }
  }

  void run_sync(plughost::sdk::TaskContext& t) {
    auto p = t.payload();
    std::string tenant =
        p.HasMember("tenant") && p["tenant"].IsString() ? p["tenant"].GetString() : "default";
    std::string slug =
        p.HasMember("endpoint") && p["endpoint"].IsString() ? p["endpoint"].GetString() : "";
    SyncSummary s = engine_->sync(tenant, slug, [&](int pct) { t.progress(pct); });
    std::string line = "rag: synced " + slug + ": " + std::to_string(s.added) + " added, " +
                       std::to_string(s.updated) + " updated, " + std::to_string(s.removed) +
                       " removed, " + std::to_string(s.unchanged) + " unchanged, " +
                       std::to_string(s.chunks) + " chunks";
    for (const auto& err : s.errors) line += "; error: " + err;
    t.log(line);
    (s.errors.empty() ? info(line) : warn(line));
    t.result("{\"added\":" + std::to_string(s.added) + ",\"updated\":" + std::to_string(s.updated) +
             ",\"removed\":" + std::to_string(s.removed) + ",\"unchanged\":" +
             std::to_string(s.unchanged) + ",\"errors\":" + std::to_string(s.errors.size()) + "}");
  }

  void queue_syncs() {
    for (const auto& e : engine_->settings().endpoints) {
      if (e.sources.empty()) continue;
      plughost::sdk::TaskRequest r;
      r.kind = std::string("rag/") + kSyncTask;
      r.payload_json =
          "{\"tenant\":" + json_string(e.tenant) + ",\"endpoint\":" + json_string(e.slug) + "}";
      enqueue(r);
    }
  }

  static std::string json_string(const std::string& s) {
    return plughost::sdk::to_json(rapidjson::Value(rapidjson::StringRef(s.c_str(), s.size())));
  }

  // Connector failures: bad input is the caller's error, anything else the provider's.
  template <typename F>
  static std::string guarded(F&& f) {
    try {
      return f();
    } catch (const std::invalid_argument& e) {
      throw plughost::sdk::Error(PH_ERR_INVALID_ARGUMENT, e.what());
    }
  }

  void store_connector(const char* name, const char* description,
                       std::shared_ptr<VectorStore> store) {
    connector({"vector_store", name, description, {}},
              [store](std::string_view op, std::string_view in) {
                return guarded([&] { return run_store_connector(*store, op, in); });
              });
  }

  using Handler = void (*)(Engine&, const Request&, Response&);
  void serve(const char* method, const char* path, const char* summary, const char* permission,
             const char* rate_class, Handler handler) {
    route(RouteSpec{method, path, summary, permission, rate_class, {}, {}, 0},
          [this, handler](const Request& rq, Response& rs) { handler(*engine_, rq, rs); });
  }

  std::unique_ptr<Engine> engine_;
};

}  // namespace rag

PLUGHOST_PLUGIN(rag::RagPlugin, "rag", "0.1.0",
                "RAG API: retrieval endpoints over ingested documents (BM25, vectors, hybrid)",
                "beta")
