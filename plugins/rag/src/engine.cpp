#include "engine.hpp"

#include <chrono>
#include <cmath>
#include <set>

#include "external.hpp"
#include "storage.hpp"
#include "text.hpp"

namespace rag {

using plughost::sdk::Services;
using Alloc = rapidjson::Document::AllocatorType;

namespace {

constexpr size_t kMaxQueryChars = 10000;
constexpr size_t kEmbedBatch = 64;

// An embedder another plugin registered (connector kind "embedder", operation "embed").
class ConnectorEmbedder : public Embedder {
 public:
  ConnectorEmbedder(Services s, std::string name) : s_(s), name_(std::move(name)) {}
  std::vector<Vector> embed(const std::vector<std::string>& texts) const override {
    rapidjson::Document in(rapidjson::kObjectType);
    auto& a = in.GetAllocator();
    rapidjson::Value list(rapidjson::kArrayType);
    for (const auto& t : texts) list.PushBack(rapidjson::Value(t.c_str(), a), a);
    in.AddMember("texts", list, a);
    std::string out = s_.invoke_connector("embedder", name_, "embed", plughost::sdk::to_json(in));
    rapidjson::Document d;
    d.Parse(out.c_str());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("vectors") || !d["vectors"].IsArray() ||
        d["vectors"].Size() != texts.size()) {
      throw std::runtime_error("embedder " + name_ + " answered without one vector per text");
    }
    std::vector<Vector> vectors;
    for (const auto& v : d["vectors"].GetArray()) {
      Vector x;
      if (v.IsArray()) {
        for (const auto& f : v.GetArray()) {
          x.push_back(f.IsNumber() ? static_cast<float>(f.GetDouble()) : 0.f);
        }
      }
      normalize(x);
      vectors.push_back(std::move(x));
    }
    return vectors;
  }

 private:
  Services s_;
  std::string name_;
};

// A vector store another plugin registered (connector kind "vector_store").
class ConnectorStore : public VectorStore {
 public:
  ConnectorStore(Services s, std::string name) : s_(s), name_(std::move(name)) {}
  void upsert(const std::string& c, const std::vector<StoreItem>& items) override {
    call("upsert", upsert_request(c, items));
  }
  void remove(const std::string& c, const std::vector<int64_t>& ids) override {
    std::string list;
    for (int64_t id : ids) list += (list.empty() ? "" : ",") + std::to_string(id);
    call("delete", "{\"collection\":\"" + c + "\",\"ids\":[" + list + "]}");
  }
  std::vector<Match> query(const std::string& c, const Vector& v, size_t k,
                           const Filter& filter) const override {
    rapidjson::Document f(rapidjson::kObjectType);
    auto& a = f.GetAllocator();
    for (const auto& [key, any] : filter.terms) {
      rapidjson::Value list(rapidjson::kArrayType);
      for (const auto& value : any) list.PushBack(rapidjson::Value(value.c_str(), a), a);
      f.AddMember(rapidjson::Value(key.c_str(), a), list, a);
    }
    return parse_matches(call("query", query_request(c, v, k, plughost::sdk::to_json(f))));
  }
  size_t count(const std::string& c) const override {
    rapidjson::Document d;
    d.Parse(call("count", "{\"collection\":\"" + c + "\"}").c_str());
    return !d.HasParseError() && d.IsObject() && d.HasMember("count") && d["count"].IsUint64()
               ? d["count"].GetUint64()
               : 0;
  }
  void drop(const std::string& c) override { call("drop", "{\"collection\":\"" + c + "\"}"); }
  void flush(const std::string& c) override { call("flush", "{\"collection\":\"" + c + "\"}"); }

 private:
  std::string call(const char* op, const std::string& input) const {
    return s_.invoke_connector("vector_store", name_, op, input);
  }
  Services s_;
  std::string name_;
};

double round_to(double v, double unit) {
  return std::round(v / unit) * unit;
}

// Compact JSON with at most 6 decimals (scores and latencies, not 0.032521999999999998).
std::string to_short_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.SetMaxDecimalPlaces(6);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

double elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
      .count();
}

rapidjson::Value parsed(const std::string& json, Alloc& a) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  if (d.HasParseError()) return rapidjson::Value(rapidjson::kObjectType);
  return rapidjson::Value(d, a);
}

rapidjson::Value text_value(const std::string& s, Alloc& a) {
  return rapidjson::Value(s.c_str(), a);
}

rapidjson::Value maybe_text(const std::optional<std::string>& s, Alloc& a) {
  return s ? text_value(*s, a) : rapidjson::Value(rapidjson::kNullType);
}

}  // namespace

Engine::Engine(Services services, Settings settings)
    : services_(services),
      settings_(std::move(settings)),
      hnsw_(std::make_shared<HnswStore>(settings_.hnsw)),
      exact_(std::make_shared<ExactStore>(std::make_shared<SqlVectorPersistence>(services))) {
  for (const auto& e : settings_.embedders) {
    if (e.type == "hashed") {
      embedders_[e.name] = std::make_shared<HashedEmbedder>(e.dimensions);
    } else {
      embedders_[e.name] = std::make_shared<OpenAIEmbedder>(e.openai);
    }
  }
  for (const auto& e : settings_.endpoints) live_[e.collection] = std::make_unique<Live>();
}

std::shared_ptr<const Embedder> Engine::builtin_embedder(const std::string& name) const {
  auto it = embedders_.find(name);
  return it == embedders_.end() ? nullptr : it->second;
}

std::shared_ptr<const Embedder> Engine::embedder_for(const std::string& name) const {
  if (auto e = builtin_embedder(name)) return e;
  return std::make_shared<ConnectorEmbedder>(services_, name);
}

std::shared_ptr<VectorStore> Engine::store_for(const std::string& name) const {
  if (name == "hnsw") return hnsw_;
  if (name == "exact") return exact_;
  return std::make_shared<ConnectorStore>(services_, name);
}

const EndpointSettings& Engine::endpoint(const std::string& tenant, const std::string& slug) const {
  for (const auto& e : settings_.endpoints) {
    if (e.slug == slug && e.tenant == tenant) return e;
  }
  throw QueryError(404, "NOT_FOUND", "RAG endpoint '" + slug + "' not found");
}

Engine::Live& Engine::live(const EndpointSettings& e) {
  Live& l = *live_.at(e.collection);
  std::call_once(l.loaded, [&] {
    auto index = std::make_unique<EndpointIndex>(e.collection, embedder_for(e.embedder),
                                                 store_for(e.vector_store));
    std::vector<Chunk> chunks = stored_chunks(services_, e.collection);
    size_t stored = chunks.size();
    index->load(std::move(chunks));
    auto record = sync_record(services_, e.collection);
    // Vectors from another embedder, or a store that lost some (a deleted index file): the next
    // sync embeds every chunk again.
    l.needs_reindex = stored > 0 && ((record && record->embedder != e.embedder) ||
                                     index->store().count(e.collection) != stored);
    l.index = std::move(index);
  });
  return l;
}

void Engine::ingest_document(const EndpointSettings& e, Live& l, const SourceDocument& doc,
                             const std::string& source, const std::string& hash) {
  std::vector<Chunk> chunks;
  std::vector<std::string> texts;
  size_t ordinal = 0;
  for (auto& piece : chunk_text(doc.text, e.chunk_size, e.chunk_overlap)) {
    Chunk c;
    c.chunk_id = doc.id + "#" + std::to_string(ordinal++);
    c.document_id = doc.id;
    c.title = doc.title;
    c.content = std::move(piece);
    c.metadata_json = doc.metadata_json;
    texts.push_back(indexed_text(c));
    chunks.push_back(std::move(c));
  }
  std::vector<Vector> vectors;
  auto embedder = embedder_for(e.embedder);
  for (size_t from = 0; from < texts.size(); from += kEmbedBatch) {
    std::vector<std::string> part(
        texts.begin() + static_cast<std::ptrdiff_t>(from),
        texts.begin() + static_cast<std::ptrdiff_t>(std::min(texts.size(), from + kEmbedBatch)));
    for (auto& v : embedder->embed(part)) vectors.push_back(std::move(v));
  }
  std::vector<int64_t> old = chunk_labels(services_, e.collection, doc.id);
  replace_document(services_, e.collection, {doc.id, source, doc.title, hash, doc.metadata_json},
                   chunks);
  l.index->remove(old);
  l.index->add(std::move(chunks), vectors);
}

SyncSummary Engine::sync(const std::string& tenant, const std::string& slug,
                         const std::function<void(int)>& progress) {
  const EndpointSettings& e = endpoint(tenant, slug);
  Live& l = live(e);
  std::lock_guard<std::mutex> guard(l.sync_mu);
  SyncSummary summary;
  if (l.needs_reindex) {
    l.index->reindex_vectors();
    l.needs_reindex = false;
  }
  auto stored = stored_documents(services_, e.collection);
  std::set<std::string> seen, failed_sources;
  std::vector<std::pair<SourceDocument, std::string>> documents;  // document, source name
  for (const auto& spec : e.sources) {
    SourceLoad load = load_source(spec);
    if (!load.ok) {
      summary.errors.push_back(spec.name + ": " + load.error);
      failed_sources.insert(spec.name);
      services_.warn("rag: endpoint " + e.slug + ", source " + spec.name + ": " + load.error);
    }
    for (auto& d : load.documents) {
      if (!seen.insert(d.id).second) {
        services_.warn("rag: endpoint " + e.slug + ": document id " + d.id +
                       " comes from two sources; the first one wins");
        continue;
      }
      documents.emplace_back(std::move(d), spec.name);
    }
  }
  size_t done = 0, total = documents.size() + 1;
  try {
    for (const auto& [doc, source] : documents) {
      std::string hash = sha256_hex(doc.title + '\0' + doc.text + '\0' + doc.metadata_json + '\0' +
                                    std::to_string(e.chunk_size) + "/" +
                                    std::to_string(e.chunk_overlap) + '\0' + e.embedder);
      auto it = stored.find(doc.id);
      if (it != stored.end() && it->second.content_hash == hash) {
        ++summary.unchanged;
      } else {
        ingest_document(e, l, doc, source, hash);
        ++(it == stored.end() ? summary.added : summary.updated);
      }
      if (progress) progress(static_cast<int>(90 * ++done / total));
    }
    for (const auto& [id, doc] : stored) {
      if (seen.count(id) || failed_sources.count(doc.source)) continue;
      std::vector<int64_t> labels = chunk_labels(services_, e.collection, id);
      delete_document(services_, e.collection, id);
      l.index->remove(labels);
      ++summary.removed;
    }
    l.index->store().flush(e.collection);
  } catch (const std::exception& ex) {
    // Storage and index may now disagree for one document: the next sync re-checks everything.
    l.needs_reindex = true;
    summary.errors.push_back(std::string("ingestion stopped: ") + ex.what());
  }
  SyncRecord record;
  record.last_sync = now_iso();
  if (!summary.errors.empty()) {
    std::string joined;
    for (const auto& err : summary.errors) joined += (joined.empty() ? "" : "; ") + err;
    record.last_error = joined;
  }
  record.document_count = static_cast<int64_t>(stored_documents(services_, e.collection).size());
  summary.chunks = l.index->chunk_count();
  record.chunk_count = static_cast<int64_t>(summary.chunks);
  record.embedder = e.embedder;
  save_sync_record(services_, e.collection, record);
  if (progress) progress(100);
  return summary;
}

std::string Engine::query(const std::string& tenant, const std::string& slug,
                          const rapidjson::Value& body, const std::string& trace_id) {
  auto started = std::chrono::steady_clock::now();
  const EndpointSettings& e = endpoint(tenant, slug);
  if (e.status != "active") throw QueryError(503, "UNAVAILABLE", "Endpoint is " + e.status);
  if (!body.IsObject()) {
    throw QueryError(400, "VALIDATION_ERROR", "The body must be a JSON object", "");
  }
  if (!body.HasMember("query") || !body["query"].IsString() ||
      std::string_view(body["query"].GetString()).find_first_not_of(" \t\r\n") ==
          std::string_view::npos) {
    throw QueryError(400, "VALIDATION_ERROR", "Query is required", "query");
  }
  std::string query(body["query"].GetString(), body["query"].GetStringLength());
  if (query.size() > kMaxQueryChars) {
    throw QueryError(400, "VALIDATION_ERROR", "Query must be at most 10000 characters", "query");
  }
  size_t top_k = e.default_top_k;
  if (body.HasMember("top_k") && !body["top_k"].IsNull()) {
    const auto& k = body["top_k"];
    if (!k.IsInt() || k.GetInt() < 1 || k.GetInt() > 100) {
      throw QueryError(400, "VALIDATION_ERROR", "top_k must be an integer between 1 and 100",
                       "top_k");
    }
    top_k = static_cast<size_t>(k.GetInt());
  }
  Filter filter;
  std::string error;
  if (body.HasMember("filters") && !parse_filter(body["filters"], filter, error)) {
    throw QueryError(400, "VALIDATION_ERROR", error, "filters");
  }
  SearchMode mode = e.mode;
  if (body.HasMember("mode") && !body["mode"].IsNull()) {
    std::string m = body["mode"].IsString() ? body["mode"].GetString() : "";
    if (!parse_search_mode(m, mode)) {
      throw QueryError(400, "VALIDATION_ERROR",
                       "mode must be one of hybrid, bm25, vector, hnsw, exact", "mode");
    }
    if ((m == "hnsw" || m == "exact") && m != e.vector_store) {
      throw QueryError(400, "VALIDATION_ERROR",
                       "This endpoint's vector store is " + e.vector_store + ", not " + m, "mode");
    }
  }
  std::vector<SearchHit> hits;
  try {
    if (e.external.enabled()) {
      std::string filters_json = body.HasMember("filters") && body["filters"].IsObject()
                                     ? plughost::sdk::to_json(body["filters"])
                                     : "{}";
      hits = external_query(e.external, query, top_k, filters_json, trace_id);
    } else {
      hits = live(e).index->search(query, mode, top_k, filter);
    }
  } catch (const std::exception& ex) {
    throw QueryError(502, "UPSTREAM_ERROR", std::string("Retrieval failed: ") + ex.what());
  }
  rapidjson::Document out(rapidjson::kObjectType);
  Alloc& a = out.GetAllocator();
  out.AddMember("query", text_value(query, a), a);
  rapidjson::Value results(rapidjson::kArrayType);
  for (const auto& h : hits) {
    rapidjson::Value r(rapidjson::kObjectType);
    r.AddMember("id", text_value(h.chunk_id, a), a);
    r.AddMember("content", text_value(h.content, a), a);
    r.AddMember("text", text_value(h.content, a), a);
    r.AddMember("score", round_to(h.score, 1e-6), a);
    r.AddMember("metadata", parsed(h.metadata_json, a), a);
    r.AddMember("source_id", text_value(h.document_id, a), a);
    results.PushBack(r, a);
  }
  out.AddMember("total_count", static_cast<uint64_t>(hits.size()), a);
  out.AddMember("results", results, a);
  out.AddMember("mode", rapidjson::StringRef(search_mode_name(mode)), a);
  double latency = round_to(elapsed_ms(started), 0.01);
  out.AddMember("latency_ms", latency, a);
  out.AddMember("trace_id", text_value(trace_id, a), a);
  services_.info("rag: query endpoint=" + e.slug + " tenant=" + tenant +
                 " query_sha256=" + sha256_hex(query) + " mode=" + search_mode_name(mode) +
                 " results=" + std::to_string(hits.size()) +
                 " latency=" + std::to_string(static_cast<int64_t>(latency * 1000)) + "us" +
                 " trace_id=" + trace_id);
  return to_short_json(out);
}

std::string Engine::health(const std::string& tenant, const std::string& slug) {
  const EndpointSettings& e = endpoint(tenant, slug);
  auto record = sync_record(services_, e.collection);
  std::optional<std::string> probe_error;
  size_t chunks = 0;
  auto started = std::chrono::steady_clock::now();
  if (e.external.enabled()) {
    std::string why;
    if (!external_health(e.external, why)) probe_error = why;
    // An external provider is never synced here: its own health is the whole answer.
    record = SyncRecord{};
  } else {
    Live& l = live(e);
    chunks = l.index->chunk_count();
    try {
      l.index->search("health probe", e.mode, 1, Filter{});
    } catch (const std::exception& ex) {
      probe_error = ex.what();
    }
  }
  double latency = round_to(elapsed_ms(started), 0.01);
  std::string status = e.status != "active"                                  ? e.status
                       : probe_error                                         ? "unhealthy"
                       : e.external.enabled()                                ? "healthy"
                       : !record || !record->last_sync || record->last_error ? "degraded"
                                                                             : "healthy";
  rapidjson::Document out(rapidjson::kObjectType);
  Alloc& a = out.GetAllocator();
  out.AddMember("status", text_value(status, a), a);
  out.AddMember("healthy", status == "healthy", a);
  out.AddMember("endpoint", text_value(e.slug, a), a);
  out.AddMember("provider", text_value(e.provider(), a), a);
  out.AddMember("embedder", text_value(e.embedder, a), a);
  out.AddMember("search_mode", text_value(e.mode_name, a), a);
  out.AddMember("document_count", record ? record->document_count : 0, a);
  out.AddMember("chunk_count", static_cast<uint64_t>(chunks), a);
  out.AddMember("last_sync", maybe_text(record ? record->last_sync : std::nullopt, a), a);
  out.AddMember("last_error",
                maybe_text(probe_error ? probe_error
                           : record    ? record->last_error
                                       : std::nullopt,
                           a),
                a);
  out.AddMember("latency_ms", latency, a);
  return to_short_json(out);
}

std::string Engine::list(const std::string& tenant) {
  rapidjson::Document out(rapidjson::kObjectType);
  Alloc& a = out.GetAllocator();
  rapidjson::Value results(rapidjson::kArrayType);
  for (const auto& e : settings_.endpoints) {
    if (e.tenant != tenant) continue;
    auto record = sync_record(services_, e.collection);
    rapidjson::Value r(rapidjson::kObjectType);
    r.AddMember("slug", text_value(e.slug, a), a);
    r.AddMember("name", text_value(e.name, a), a);
    r.AddMember("status", text_value(e.status, a), a);
    r.AddMember("provider", text_value(e.provider(), a), a);
    r.AddMember("embedder", text_value(e.embedder, a), a);
    r.AddMember("search_mode", text_value(e.mode_name, a), a);
    r.AddMember("document_count", record ? record->document_count : 0, a);
    r.AddMember("last_sync", maybe_text(record ? record->last_sync : std::nullopt, a), a);
    results.PushBack(r, a);
  }
  out.AddMember("count", results.Size(), a);
  out.AddMember("results", results, a);
  return plughost::sdk::to_json(out);
}

}  // namespace rag
