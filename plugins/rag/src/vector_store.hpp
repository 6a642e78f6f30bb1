// Vector stores keep one collection of (id, unit vector, metadata) per endpoint and answer
// nearest-neighbour queries by cosine similarity, honouring metadata filters. Two ship with the
// plugin (`hnsw`, `exact`); third parties add theirs as connectors of kind "vector_store" (the
// JSON operations of run_store_connector(), documented in docs/sdk-guide.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "embedders.hpp"
#include "metadata.hpp"

namespace rag {

struct StoreItem {
  int64_t id = 0;
  Vector vector;
  std::string metadata_json = "{}";  // a JSON object
};

struct Match {
  int64_t id = 0;
  double score = 0;  // higher is better; cosine similarity for vector stores
};

// All members thread-safe. Collection names are [a-z0-9_-]+ (they name files); an unknown
// collection is empty. Errors throw std::runtime_error (std::invalid_argument for bad input).
class VectorStore {
 public:
  virtual ~VectorStore() = default;
  // Inserts or replaces items; all vectors of a collection share one dimension.
  virtual void upsert(const std::string& collection, const std::vector<StoreItem>& items) = 0;
  virtual void remove(const std::string& collection, const std::vector<int64_t>& ids) = 0;
  // The best `k` items matching `filter`, best first.
  virtual std::vector<Match> query(const std::string& collection, const Vector& v, size_t k,
                                   const Filter& filter) const = 0;
  virtual size_t count(const std::string& collection) const = 0;
  virtual void drop(const std::string& collection) = 0;
  // Makes what was written so far durable (a no-op for stores that write through).
  virtual void flush(const std::string& collection) = 0;
};

bool valid_collection_name(std::string_view name);

// The "vector_store" connector contract over any VectorStore:
//   upsert {"collection", "items": [{"id": int, "vector": [..], "metadata": {..}}]} -> {"upserted":
//   n} delete {"collection", "ids": [int]}                                          -> {"deleted":
//   n} query  {"collection", "vector": [..], "top_k": k, "filters"?: {..}}          -> {"matches":
//   [{"id", "score"}]} count  {"collection"} -> {"count": n};  drop {"collection"} -> {};  flush
//   {"collection"} -> {}
std::string run_store_connector(VectorStore& store, std::string_view operation,
                                std::string_view input);

// Serialisation of the same contract, for the engine talking to a third-party store.
std::string upsert_request(const std::string& collection, const std::vector<StoreItem>& items);
std::string query_request(const std::string& collection, const Vector& v, size_t k,
                          const std::string& filters_json);
std::vector<Match> parse_matches(const std::string& output);

}  // namespace rag
