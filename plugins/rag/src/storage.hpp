// What the plugin keeps in host storage (SQLite or PostgreSQL, same SQL): documents with their
// content hash and metadata, chunks, the exact store's vectors, and one sync record per endpoint
// collection. Every function takes the host services handle; none keeps state.
#pragma once

#include <optional>
#include <plughost/plugin.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "exact_store.hpp"
#include "retrieval.hpp"

namespace rag {

extern const char* const kSchemaV1;

struct StoredDocument {
  std::string source;
  std::string content_hash;
};

struct SyncRecord {
  std::optional<std::string> last_sync;  // ISO-8601 UTC
  std::optional<std::string> last_error;
  int64_t document_count = 0;
  int64_t chunk_count = 0;
  std::string embedder;
};

using plughost::sdk::Services;

std::unordered_map<std::string, StoredDocument> stored_documents(const Services& s,
                                                                 const std::string& collection);
std::vector<Chunk> stored_chunks(const Services& s, const std::string& collection);
std::vector<int64_t> chunk_labels(const Services& s, const std::string& collection,
                                  const std::string& document_id);

struct DocumentRow {
  std::string id, source, title, content_hash, metadata_json;
};
// Replaces the document's row and chunks in one transaction, giving each chunk a fresh label.
void replace_document(const Services& s, const std::string& collection, const DocumentRow& doc,
                      std::vector<Chunk>& chunks);
void delete_document(const Services& s, const std::string& collection, const std::string& id);

std::optional<SyncRecord> sync_record(const Services& s, const std::string& collection);
void save_sync_record(const Services& s, const std::string& collection, const SyncRecord& r);

// ISO-8601 UTC with seconds, "2024-01-20T00:00:00Z".
std::string now_iso();

// The exact store's write-through into rag_vectors (vectors as base64 of little-endian floats).
class SqlVectorPersistence : public StorePersistence {
 public:
  explicit SqlVectorPersistence(Services s) : s_(s) {}
  std::vector<StoreItem> load(const std::string& collection) override;
  void save(const std::string& collection, const std::vector<StoreItem>& items) override;
  void erase(const std::string& collection, const std::vector<int64_t>& ids) override;
  void drop(const std::string& collection) override;

 private:
  Services s_;
};

}  // namespace rag
