#include "exact_store.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>

namespace rag {

void keep_best(std::vector<Match>& all, size_t k) {
  auto better = [](const Match& a, const Match& b) {
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  };
  if (all.size() > k) {
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end(), better);
    all.resize(k);
  } else {
    std::sort(all.begin(), all.end(), better);
  }
}

ExactStore::Collection& ExactStore::loaded(const std::string& name) const {
  auto it = collections_.find(name);
  if (it != collections_.end()) return it->second;
  Collection& c = collections_[name];
  if (persistence_) {
    for (const auto& item : persistence_->load(name)) put(c, item);
  }
  return c;
}

const ExactStore::Collection* ExactStore::find_loaded(const std::string& name) const {
  auto it = collections_.find(name);
  return it == collections_.end() ? nullptr : &it->second;
}

void ExactStore::put(Collection& c, const StoreItem& item) {
  if (c.ids.empty() && c.dimensions != item.vector.size()) c.dimensions = item.vector.size();
  if (item.vector.size() != c.dimensions) {
    throw std::invalid_argument("vector of " + std::to_string(item.vector.size()) +
                                " dimensions in a collection of " + std::to_string(c.dimensions));
  }
  auto it = c.row_of.find(item.id);
  size_t row;
  if (it != c.row_of.end()) {
    row = it->second;
  } else {
    row = c.ids.size();
    c.ids.push_back(item.id);
    c.metadata.emplace_back();
    c.matrix.resize(c.matrix.size() + c.dimensions);
    c.row_of[item.id] = row;
  }
  std::copy(item.vector.begin(), item.vector.end(),
            c.matrix.begin() + static_cast<std::ptrdiff_t>(row * c.dimensions));
  c.metadata[row] = flatten_metadata_json(item.metadata_json);
}

void ExactStore::erase_row(Collection& c, int64_t id) {
  auto it = c.row_of.find(id);
  if (it == c.row_of.end()) return;
  size_t row = it->second, last = c.ids.size() - 1;
  if (row != last) {
    c.ids[row] = c.ids[last];
    c.metadata[row] = std::move(c.metadata[last]);
    std::copy_n(c.matrix.begin() + static_cast<std::ptrdiff_t>(last * c.dimensions), c.dimensions,
                c.matrix.begin() + static_cast<std::ptrdiff_t>(row * c.dimensions));
    c.row_of[c.ids[row]] = row;
  }
  c.ids.pop_back();
  c.metadata.pop_back();
  c.matrix.resize(c.ids.size() * c.dimensions);
  c.row_of.erase(it);
}

void ExactStore::upsert(const std::string& collection, const std::vector<StoreItem>& items) {
  std::unique_lock lock(mu_);
  Collection& c = loaded(collection);
  // All or nothing: check every dimension before anything is written.
  size_t dims = c.ids.empty() && !items.empty() ? items[0].vector.size() : c.dimensions;
  for (const auto& item : items) {
    if (item.vector.size() != dims || dims == 0) {
      throw std::invalid_argument("vector of " + std::to_string(item.vector.size()) +
                                  " dimensions in a collection of " + std::to_string(dims));
    }
  }
  if (persistence_) persistence_->save(collection, items);
  for (const auto& item : items) put(c, item);
}

void ExactStore::remove(const std::string& collection, const std::vector<int64_t>& ids) {
  std::unique_lock lock(mu_);
  Collection& c = loaded(collection);
  if (persistence_) persistence_->erase(collection, ids);
  for (int64_t id : ids) erase_row(c, id);
}

std::vector<Match> ExactStore::query(const std::string& collection, const Vector& v, size_t k,
                                     const Filter& filter) const {
  const Collection* c;
  {
    std::shared_lock lock(mu_);
    c = find_loaded(collection);
  }
  if (!c) {
    std::unique_lock lock(mu_);
    loaded(collection);
  }
  std::shared_lock lock(mu_);
  c = find_loaded(collection);
  std::vector<Match> all;
  if (!c || c->ids.empty()) return all;
  if (v.size() != c->dimensions) {
    throw std::invalid_argument("query vector of " + std::to_string(v.size()) +
                                " dimensions against a collection of " +
                                std::to_string(c->dimensions));
  }
  all.reserve(c->ids.size());
  const float* row = c->matrix.data();
  for (size_t r = 0; r < c->ids.size(); ++r, row += c->dimensions) {
    if (!filter.empty() && !matches(filter, c->metadata[r])) continue;
    float dot = 0;
    for (size_t d = 0; d < c->dimensions; ++d) dot += row[d] * v[d];
    all.push_back({c->ids[r], dot});
  }
  keep_best(all, k);
  return all;
}

size_t ExactStore::count(const std::string& collection) const {
  std::unique_lock lock(mu_);
  return loaded(collection).ids.size();
}

void ExactStore::drop(const std::string& collection) {
  std::unique_lock lock(mu_);
  if (persistence_) persistence_->drop(collection);
  collections_.erase(collection);
  collections_[collection];  // known and empty: no reload from persistence
}

}  // namespace rag
