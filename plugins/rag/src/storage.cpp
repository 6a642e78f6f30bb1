#include "storage.hpp"

#include <chrono>
#include <cstring>
#include <ctime>

#include "text.hpp"

namespace rag {

// Text and BIGINT only, so the same statements run on SQLite and PostgreSQL.
const char* const kSchemaV1 = R"sql(
CREATE TABLE rag_documents (
  collection TEXT NOT NULL,
  document_id TEXT NOT NULL,
  source TEXT NOT NULL,
  title TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  metadata TEXT NOT NULL,
  chunk_count BIGINT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (collection, document_id)
);
CREATE TABLE rag_chunks (
  collection TEXT NOT NULL,
  label BIGINT NOT NULL,
  document_id TEXT NOT NULL,
  ordinal BIGINT NOT NULL,
  title TEXT NOT NULL,
  content TEXT NOT NULL,
  metadata TEXT NOT NULL,
  PRIMARY KEY (collection, label)
);
CREATE INDEX rag_chunks_by_document ON rag_chunks (collection, document_id);
CREATE TABLE rag_vectors (
  collection TEXT NOT NULL,
  label BIGINT NOT NULL,
  vector TEXT NOT NULL,
  metadata TEXT NOT NULL,
  PRIMARY KEY (collection, label)
);
CREATE TABLE rag_syncs (
  collection TEXT PRIMARY KEY,
  last_sync TEXT,
  last_error TEXT,
  document_count BIGINT NOT NULL,
  chunk_count BIGINT NOT NULL,
  embedder TEXT NOT NULL
);
CREATE TABLE rag_label_counters (
  collection TEXT PRIMARY KEY,
  next_label BIGINT NOT NULL
);
)sql";

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::unordered_map<std::string, StoredDocument> stored_documents(const Services& s,
                                                                 const std::string& collection) {
  std::unordered_map<std::string, StoredDocument> out;
  auto st =
      s.sql("SELECT document_id, source, content_hash FROM rag_documents WHERE collection = :c");
  st.bind(":c", collection);
  while (st.step()) out[st.text(0)] = {st.text(1), st.text(2)};
  return out;
}

std::vector<Chunk> stored_chunks(const Services& s, const std::string& collection) {
  std::vector<Chunk> out;
  auto st = s.sql(
      "SELECT label, document_id, ordinal, title, content, metadata FROM rag_chunks "
      "WHERE collection = :c ORDER BY label");
  st.bind(":c", collection);
  while (st.step()) {
    Chunk c;
    c.label = st.int64(0);
    c.document_id = st.text(1);
    c.chunk_id = c.document_id + "#" + std::to_string(st.int64(2));
    c.title = st.text(3);
    c.content = st.text(4);
    c.metadata_json = st.text(5);
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<int64_t> chunk_labels(const Services& s, const std::string& collection,
                                  const std::string& document_id) {
  std::vector<int64_t> out;
  auto st = s.sql("SELECT label FROM rag_chunks WHERE collection = :c AND document_id = :d");
  st.bind(":c", collection).bind(":d", document_id);
  while (st.step()) out.push_back(st.int64(0));
  return out;
}

namespace {

void delete_rows(plughost::sdk::Transaction& txn, const std::string& collection,
                 const std::string& id) {
  for (const char* table : {"rag_chunks", "rag_documents"}) {
    txn.sql(std::string("DELETE FROM ") + table + " WHERE collection = :c AND document_id = :d")
        .bind(":c", collection)
        .bind(":d", id)
        .exec();
  }
}

}  // namespace

void replace_document(const Services& s, const std::string& collection, const DocumentRow& doc,
                      std::vector<Chunk>& chunks) {
  auto txn = s.transaction();
  // Labels are never reused (an HNSW index cannot revive a deleted one): one counter per
  // collection, advanced in the transaction that stores the chunks.
  int64_t label = 0;
  {
    auto st = txn.sql("SELECT next_label FROM rag_label_counters WHERE collection = :c");
    st.bind(":c", collection);
    if (st.step()) label = st.int64(0);
  }
  if (label == 0) {
    auto st = txn.sql("SELECT MAX(label) FROM rag_chunks WHERE collection = :c");
    st.bind(":c", collection);
    label = st.step() && !st.is_null(0) ? st.int64(0) + 1 : 1;
  }
  for (auto& c : chunks) c.label = label++;
  txn.sql("DELETE FROM rag_label_counters WHERE collection = :c").bind(":c", collection).exec();
  txn.sql("INSERT INTO rag_label_counters (collection, next_label) VALUES (:c, :n)")
      .bind(":c", collection)
      .bind(":n", label)
      .exec();
  delete_rows(txn, collection, doc.id);
  txn.sql(
         "INSERT INTO rag_documents (collection, document_id, source, title, content_hash, "
         "metadata, "
         "chunk_count, updated_at) VALUES (:c, :d, :s, :t, :h, :m, :n, :u)")
      .bind(":c", collection)
      .bind(":d", doc.id)
      .bind(":s", doc.source)
      .bind(":t", doc.title)
      .bind(":h", doc.content_hash)
      .bind(":m", doc.metadata_json)
      .bind(":n", static_cast<int64_t>(chunks.size()))
      .bind(":u", now_iso())
      .exec();
  int64_t ordinal = 0;
  for (const auto& c : chunks) {
    txn.sql(
           "INSERT INTO rag_chunks (collection, label, document_id, ordinal, title, content, "
           "metadata) VALUES (:c, :l, :d, :o, :t, :x, :m)")
        .bind(":c", collection)
        .bind(":l", c.label)
        .bind(":d", doc.id)
        .bind(":o", ordinal++)
        .bind(":t", c.title)
        .bind(":x", c.content)
        .bind(":m", c.metadata_json)
        .exec();
  }
  txn.commit();
}

void delete_document(const Services& s, const std::string& collection, const std::string& id) {
  auto txn = s.transaction();
  delete_rows(txn, collection, id);
  txn.commit();
}

std::optional<SyncRecord> sync_record(const Services& s, const std::string& collection) {
  auto st = s.sql(
      "SELECT last_sync, last_error, document_count, chunk_count, embedder FROM rag_syncs "
      "WHERE collection = :c");
  st.bind(":c", collection);
  if (!st.step()) return std::nullopt;
  SyncRecord r;
  r.last_sync = st.maybe_text(0);
  r.last_error = st.maybe_text(1);
  r.document_count = st.int64(2);
  r.chunk_count = st.int64(3);
  r.embedder = st.text(4);
  return r;
}

void save_sync_record(const Services& s, const std::string& collection, const SyncRecord& r) {
  auto txn = s.transaction();
  txn.sql("DELETE FROM rag_syncs WHERE collection = :c").bind(":c", collection).exec();
  txn.sql(
         "INSERT INTO rag_syncs (collection, last_sync, last_error, document_count, chunk_count, "
         "embedder) VALUES (:c, :s, :e, :d, :n, :m)")
      .bind(":c", collection)
      .bind(":s", r.last_sync)
      .bind(":e", r.last_error)
      .bind(":d", r.document_count)
      .bind(":n", r.chunk_count)
      .bind(":m", r.embedder)
      .exec();
  txn.commit();
}

std::vector<StoreItem> SqlVectorPersistence::load(const std::string& collection) {
  std::vector<StoreItem> out;
  auto st = s_.sql(
      "SELECT label, vector, metadata FROM rag_vectors WHERE collection = :c ORDER BY label");
  st.bind(":c", collection);
  std::string bytes;
  while (st.step()) {
    StoreItem item;
    item.id = st.int64(0);
    if (!base64_decode(st.text(1), bytes) || bytes.size() % sizeof(float) != 0) continue;
    item.vector.resize(bytes.size() / sizeof(float));
    std::memcpy(item.vector.data(), bytes.data(), bytes.size());
    item.metadata_json = st.text(2);
    out.push_back(std::move(item));
  }
  return out;
}

void SqlVectorPersistence::save(const std::string& collection,
                                const std::vector<StoreItem>& items) {
  auto txn = s_.transaction();
  for (const auto& item : items) {
    txn.sql("DELETE FROM rag_vectors WHERE collection = :c AND label = :l")
        .bind(":c", collection)
        .bind(":l", item.id)
        .exec();
    std::string_view raw(reinterpret_cast<const char*>(item.vector.data()),
                         item.vector.size() * sizeof(float));
    txn.sql("INSERT INTO rag_vectors (collection, label, vector, metadata) VALUES (:c, :l, :v, :m)")
        .bind(":c", collection)
        .bind(":l", item.id)
        .bind(":v", base64_encode(raw))
        .bind(":m", item.metadata_json)
        .exec();
  }
  txn.commit();
}

void SqlVectorPersistence::erase(const std::string& collection, const std::vector<int64_t>& ids) {
  auto txn = s_.transaction();
  for (int64_t id : ids) {
    txn.sql("DELETE FROM rag_vectors WHERE collection = :c AND label = :l")
        .bind(":c", collection)
        .bind(":l", id)
        .exec();
  }
  txn.commit();
}

void SqlVectorPersistence::drop(const std::string& collection) {
  s_.sql("DELETE FROM rag_vectors WHERE collection = :c").bind(":c", collection).exec();
}

}  // namespace rag
