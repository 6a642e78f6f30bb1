#include "retrieval.hpp"

#include <algorithm>
#include <mutex>

#include "exact_store.hpp"

namespace rag {

namespace {
constexpr double kRrfK = 60;
}

bool parse_search_mode(std::string_view text, SearchMode& mode) {
  if (text == "bm25" || text == "keyword") {
    mode = SearchMode::kKeyword;
  } else if (text == "vector" || text == "hnsw" || text == "exact") {
    mode = SearchMode::kVector;
  } else if (text == "hybrid") {
    mode = SearchMode::kHybrid;
  } else {
    return false;
  }
  return true;
}

const char* search_mode_name(SearchMode mode) {
  switch (mode) {
    case SearchMode::kKeyword: return "bm25";
    case SearchMode::kVector: return "vector";
    case SearchMode::kHybrid: return "hybrid";
  }
  return "hybrid";
}

std::string indexed_text(const Chunk& c) {
  return c.title.empty() ? c.content : c.title + "\n" + c.content;
}

void EndpointIndex::load(std::vector<Chunk> chunks) {
  std::unique_lock lock(mu_);
  for (auto& c : chunks) {
    c.flat = flatten_metadata_json(c.metadata_json);
    bm25_.add(c.label, indexed_text(c));
    int64_t label = c.label;
    chunks_[label] = std::move(c);
  }
}

void EndpointIndex::add(std::vector<Chunk> chunks, const std::vector<Vector>& vectors) {
  std::vector<StoreItem> items;
  items.reserve(chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    items.push_back({chunks[i].label, vectors.at(i), chunks[i].metadata_json});
  }
  store_->upsert(collection_, items);
  load(std::move(chunks));
}

void EndpointIndex::remove(const std::vector<int64_t>& labels) {
  store_->remove(collection_, labels);
  std::unique_lock lock(mu_);
  for (int64_t label : labels) {
    bm25_.remove(label);
    chunks_.erase(label);
  }
}

void EndpointIndex::reindex_vectors(size_t batch) {
  std::vector<const Chunk*> all;
  std::shared_lock lock(mu_);
  for (const auto& [label, c] : chunks_) all.push_back(&c);
  std::sort(all.begin(), all.end(),
            [](const Chunk* a, const Chunk* b) { return a->label < b->label; });
  store_->drop(collection_);
  for (size_t from = 0; from < all.size(); from += batch) {
    std::vector<std::string> texts;
    std::vector<StoreItem> items;
    size_t to = std::min(all.size(), from + batch);
    for (size_t i = from; i < to; ++i) texts.push_back(indexed_text(*all[i]));
    std::vector<Vector> vectors = embedder_->embed(texts);
    for (size_t i = from; i < to; ++i) {
      items.push_back({all[i]->label, std::move(vectors[i - from]), all[i]->metadata_json});
    }
    store_->upsert(collection_, items);
  }
  store_->flush(collection_);
}

std::vector<Match> EndpointIndex::keyword(std::string_view query, size_t k,
                                          const Filter& filter) const {
  if (filter.empty()) return bm25_.search(query, k);
  return bm25_.search(query, k, [&](int64_t label) {
    auto it = chunks_.find(label);
    return it != chunks_.end() && matches(filter, it->second.flat);
  });
}

std::vector<Match> EndpointIndex::vector(std::string_view query, size_t k,
                                         const Filter& filter) const {
  std::vector<Vector> v = embedder_->embed({std::string(query)});
  if (v.empty() || v[0].empty()) return {};
  return store_->query(collection_, v[0], k, filter);
}

std::vector<SearchHit> EndpointIndex::search(std::string_view query, SearchMode mode, size_t k,
                                             const Filter& filter) const {
  std::vector<Match> ranked;
  if (mode == SearchMode::kVector) {
    ranked = vector(query, k, filter);
  } else {
    size_t depth = mode == SearchMode::kHybrid ? std::max<size_t>(50, 4 * k) : k;
    std::vector<Match> by_vector;
    if (mode == SearchMode::kHybrid) by_vector = vector(query, depth, filter);
    {
      std::shared_lock lock(mu_);
      ranked = keyword(query, depth, filter);
    }
    if (mode == SearchMode::kHybrid) {
      std::unordered_map<int64_t, double> fused;
      for (size_t r = 0; r < ranked.size(); ++r) fused[ranked[r].id] += 1.0 / (kRrfK + r + 1);
      for (size_t r = 0; r < by_vector.size(); ++r) fused[by_vector[r].id] += 1.0 / (kRrfK + r + 1);
      ranked.clear();
      for (const auto& [id, score] : fused) ranked.push_back({id, score});
      keep_best(ranked, k);
    }
  }
  std::vector<SearchHit> out;
  std::shared_lock lock(mu_);
  for (const auto& m : ranked) {
    auto it = chunks_.find(m.id);
    if (it == chunks_.end()) continue;  // the store holds an id this host has not loaded
    const Chunk& c = it->second;
    out.push_back({c.chunk_id, c.document_id, c.content, c.metadata_json, m.score});
    if (out.size() == k) break;
  }
  return out;
}

size_t EndpointIndex::chunk_count() const {
  std::shared_lock lock(mu_);
  return chunks_.size();
}

}  // namespace rag
