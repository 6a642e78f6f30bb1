// The exact vector store: every query scans the whole collection (dot products over a packed
// matrix), so results are exact. Kept in memory; durable through a StorePersistence (the plugin
// passes one writing to host storage, table rag_vectors), loaded lazily per collection.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <unordered_map>

#include "vector_store.hpp"

namespace rag {

// Where an exact store writes through to. Calls come under the store's lock.
class StorePersistence {
 public:
  virtual ~StorePersistence() = default;
  virtual std::vector<StoreItem> load(const std::string& collection) = 0;
  virtual void save(const std::string& collection, const std::vector<StoreItem>& items) = 0;
  virtual void erase(const std::string& collection, const std::vector<int64_t>& ids) = 0;
  virtual void drop(const std::string& collection) = 0;
};

class ExactStore : public VectorStore {
 public:
  // `persistence` may be null: memory only (tests, benchmarks).
  explicit ExactStore(std::shared_ptr<StorePersistence> persistence = nullptr)
      : persistence_(std::move(persistence)) {}
  void upsert(const std::string& collection, const std::vector<StoreItem>& items) override;
  void remove(const std::string& collection, const std::vector<int64_t>& ids) override;
  std::vector<Match> query(const std::string& collection, const Vector& v, size_t k,
                           const Filter& filter) const override;
  size_t count(const std::string& collection) const override;
  void drop(const std::string& collection) override;
  void flush(const std::string&) override {}

 private:
  struct Collection {
    size_t dimensions = 0;
    std::vector<int64_t> ids;
    std::vector<float> matrix;  // ids.size() rows of `dimensions`
    std::vector<FlatMetadata> metadata;
    std::unordered_map<int64_t, size_t> row_of;
  };
  Collection& loaded(const std::string& name) const;  // needs the unique lock
  const Collection* find_loaded(const std::string& name) const;
  static void put(Collection& c, const StoreItem& item);
  static void erase_row(Collection& c, int64_t id);

  std::shared_ptr<StorePersistence> persistence_;
  mutable std::shared_mutex mu_;
  mutable std::map<std::string, Collection> collections_;
};

// Keeps the best `k` of `all` (by score, ties by id), best first.
void keep_best(std::vector<Match>& all, size_t k);

}  // namespace rag
