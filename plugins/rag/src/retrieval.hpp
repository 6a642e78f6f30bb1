// One endpoint's searchable index: its chunks in memory, a BM25 keyword index over them, and its
// collection in a vector store; searches by keyword, by vector or both fused (reciprocal rank
// fusion, k = 60). Thread-safe: searches run concurrently, changes take an exclusive lock.
#pragma once

#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "bm25.hpp"
#include "embedders.hpp"
#include "metadata.hpp"
#include "vector_store.hpp"

namespace rag {

enum class SearchMode { kKeyword, kVector, kHybrid };

// "bm25"/"keyword", "vector" (also "hnsw", "exact": vector search on the endpoint's store),
// "hybrid". False for anything else.
bool parse_search_mode(std::string_view text, SearchMode& mode);
const char* search_mode_name(SearchMode mode);

struct Chunk {
  int64_t label = 0;     // id in the vector store, unique per collection
  std::string chunk_id;  // "<document_id>#<ordinal>"
  std::string document_id;
  std::string title;
  std::string content;
  std::string metadata_json = "{}";
  FlatMetadata flat;  // metadata_json flattened (filled by the index)
};

// The text embedded and keyword-indexed for a chunk: its document's title, then its content.
std::string indexed_text(const Chunk& c);

struct SearchHit {
  std::string chunk_id;
  std::string document_id;
  std::string content;
  std::string metadata_json;
  double score = 0;
};

class EndpointIndex {
 public:
  EndpointIndex(std::string collection, std::shared_ptr<const Embedder> embedder,
                std::shared_ptr<VectorStore> store)
      : collection_(std::move(collection)),
        embedder_(std::move(embedder)),
        store_(std::move(store)) {}

  // Chunks already in the store (read back from storage at start): memory and BM25 only.
  void load(std::vector<Chunk> chunks);
  // New chunks with their vectors (same order): store first, then memory and BM25.
  void add(std::vector<Chunk> chunks, const std::vector<Vector>& vectors);
  void remove(const std::vector<int64_t>& labels);
  // Re-sends every chunk's vector to the store (after the store lost or never had them).
  void reindex_vectors(size_t batch = 256);

  std::vector<SearchHit> search(std::string_view query, SearchMode mode, size_t k,
                                const Filter& filter) const;
  size_t chunk_count() const;
  const std::string& collection() const { return collection_; }
  VectorStore& store() const { return *store_; }

 private:
  std::vector<Match> keyword(std::string_view query, size_t k, const Filter& filter) const;
  std::vector<Match> vector(std::string_view query, size_t k, const Filter& filter) const;

  std::string collection_;
  std::shared_ptr<const Embedder> embedder_;
  std::shared_ptr<VectorStore> store_;
  mutable std::shared_mutex mu_;
  std::unordered_map<int64_t, Chunk> chunks_;
  Bm25Index bm25_;
};

}  // namespace rag
