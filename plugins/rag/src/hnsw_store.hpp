// The HNSW vector store: hnswlib's approximate index (inner product on unit vectors), one per
// collection, persisted by flush() to <data_dir>/<collection>.hnsw plus a metadata sidecar
// (<collection>.meta, one "id\tmetadata-json" line each, first line the dimension) and reloaded
// lazily. Filtered queries scan the allowed items exactly when few pass the filter, else widen
// the HNSW search until enough pass.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <unordered_map>

#include "vector_store.hpp"

namespace hnswlib {
class InnerProductSpace;
template <typename T>
class HierarchicalNSW;
}  // namespace hnswlib

namespace rag {

struct HnswSettings {
  std::string data_dir;  // empty: memory only
  size_t m = 16;
  size_t ef_construction = 200;
  size_t ef_search = 128;
};

class HnswStore : public VectorStore {
 public:
  explicit HnswStore(HnswSettings s);
  ~HnswStore() override;
  void upsert(const std::string& collection, const std::vector<StoreItem>& items) override;
  void remove(const std::string& collection, const std::vector<int64_t>& ids) override;
  std::vector<Match> query(const std::string& collection, const Vector& v, size_t k,
                           const Filter& filter) const override;
  size_t count(const std::string& collection) const override;
  void drop(const std::string& collection) override;
  void flush(const std::string& collection) override;

 private:
  struct Collection;
  Collection& loaded(const std::string& name) const;  // needs the unique lock
  Collection* find_loaded(const std::string& name) const;
  void ensure_loaded(const std::string& name) const;
  std::string path(const std::string& name, const char* ext) const;

  HnswSettings s_;
  mutable std::shared_mutex mu_;
  mutable std::map<std::string, std::unique_ptr<Collection>> collections_;
};

}  // namespace rag
