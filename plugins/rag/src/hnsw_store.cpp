#include "hnsw_store.hpp"

#include <hnswlib/hnswlib.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>

#include "exact_store.hpp"

namespace rag {

namespace fs = std::filesystem;

struct HnswStore::Collection {
  size_t dimensions = 0;
  std::unique_ptr<hnswlib::InnerProductSpace> space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> index;
  std::unordered_map<int64_t, std::pair<std::string, FlatMetadata>> live;  // id -> metadata
  bool dirty = false;
};

HnswStore::HnswStore(HnswSettings s) : s_(std::move(s)) {}
HnswStore::~HnswStore() = default;

std::string HnswStore::path(const std::string& name, const char* ext) const {
  return (fs::path(s_.data_dir) / (name + ext)).string();
}

HnswStore::Collection& HnswStore::loaded(const std::string& name) const {
  auto it = collections_.find(name);
  if (it != collections_.end()) return *it->second;
  if (!valid_collection_name(name)) throw std::invalid_argument("bad collection name " + name);
  auto c = std::make_unique<Collection>();
  if (!s_.data_dir.empty() && fs::exists(path(name, ".hnsw")) && fs::exists(path(name, ".meta"))) {
    std::ifstream meta(path(name, ".meta"));
    std::string line;
    if (std::getline(meta, line)) c->dimensions = std::stoul(line);
    while (std::getline(meta, line)) {
      size_t tab = line.find('\t');
      if (tab == std::string::npos) continue;
      std::string json = line.substr(tab + 1);
      c->live[std::stoll(line.substr(0, tab))] = {json, flatten_metadata_json(json)};
    }
    if (c->dimensions > 0) {
      c->space = std::make_unique<hnswlib::InnerProductSpace>(c->dimensions);
      c->index =
          std::make_unique<hnswlib::HierarchicalNSW<float>>(c->space.get(), path(name, ".hnsw"));
      c->index->setEf(s_.ef_search);
    } else {
      c->live.clear();
    }
  }
  auto& ref = *c;
  collections_[name] = std::move(c);
  return ref;
}

HnswStore::Collection* HnswStore::find_loaded(const std::string& name) const {
  auto it = collections_.find(name);
  return it == collections_.end() ? nullptr : it->second.get();
}

void HnswStore::ensure_loaded(const std::string& name) const {
  {
    std::shared_lock lock(mu_);
    if (find_loaded(name)) return;
  }
  std::unique_lock lock(mu_);
  loaded(name);
}

void HnswStore::upsert(const std::string& collection, const std::vector<StoreItem>& items) {
  if (items.empty()) return;
  std::unique_lock lock(mu_);
  Collection& c = loaded(collection);
  size_t dims = c.index ? c.dimensions : items[0].vector.size();
  for (const auto& item : items) {
    if (item.vector.size() != dims || dims == 0) {
      throw std::invalid_argument("vector of " + std::to_string(item.vector.size()) +
                                  " dimensions in a collection of " + std::to_string(dims));
    }
  }
  if (!c.index) {
    c.dimensions = dims;
    c.space = std::make_unique<hnswlib::InnerProductSpace>(dims);
    c.index = std::make_unique<hnswlib::HierarchicalNSW<float>>(
        c.space.get(), std::max<size_t>(1024, items.size()), s_.m, s_.ef_construction);
    c.index->setEf(s_.ef_search);
  }
  size_t needed = c.index->cur_element_count + items.size();
  if (needed > c.index->max_elements_) {
    c.index->resizeIndex(std::max(needed, c.index->max_elements_ * 2));
  }
  for (const auto& item : items) {
    auto label = static_cast<hnswlib::labeltype>(item.id);
    if (c.index->label_lookup_.count(label) && !c.live.count(item.id)) {
      // A deleted label coming back: hnswlib 0.6 cannot undelete, so the old slot stays dead.
      throw std::invalid_argument("id " + std::to_string(item.id) +
                                  " was deleted from this collection and cannot be reused");
    }
    c.index->addPoint(item.vector.data(), label);
    c.live[item.id] = {item.metadata_json, flatten_metadata_json(item.metadata_json)};
  }
  c.dirty = true;
}

void HnswStore::remove(const std::string& collection, const std::vector<int64_t>& ids) {
  std::unique_lock lock(mu_);
  Collection& c = loaded(collection);
  for (int64_t id : ids) {
    if (!c.live.erase(id)) continue;
    c.index->markDelete(static_cast<hnswlib::labeltype>(id));
    c.dirty = true;
  }
}

std::vector<Match> HnswStore::query(const std::string& collection, const Vector& v, size_t k,
                                    const Filter& filter) const {
  ensure_loaded(collection);
  std::shared_lock lock(mu_);
  const Collection* c = find_loaded(collection);
  std::vector<Match> out;
  if (!c || !c->index || c->live.empty() || k == 0) return out;
  if (v.size() != c->dimensions) {
    throw std::invalid_argument("query vector of " + std::to_string(v.size()) +
                                " dimensions against a collection of " +
                                std::to_string(c->dimensions));
  }
  auto dot = [&](int64_t id) {
    std::vector<float> data = c->index->getDataByLabel<float>(static_cast<hnswlib::labeltype>(id));
    float s = 0;
    for (size_t d = 0; d < c->dimensions; ++d) s += data[d] * v[d];
    return s;
  };
  if (!filter.empty()) {
    std::vector<int64_t> allowed;
    for (const auto& [id, meta] : c->live) {
      if (matches(filter, meta.second)) allowed.push_back(id);
    }
    // Few allowed: exact over them is cheaper and never misses.
    if (allowed.size() <= 2048 || allowed.size() * 20 <= c->live.size()) {
      for (int64_t id : allowed) out.push_back({id, dot(id)});
      keep_best(out, k);
      return out;
    }
  }
  size_t want = std::min(k, c->live.size());
  for (size_t fetch = want;; fetch = std::min(fetch * 4, c->live.size())) {
    auto heap = c->index->searchKnn(v.data(), fetch);
    out.clear();
    while (!heap.empty()) {
      auto [distance, label] = heap.top();
      heap.pop();
      auto it = c->live.find(static_cast<int64_t>(label));
      if (it == c->live.end() || (!filter.empty() && !matches(filter, it->second.second))) continue;
      out.push_back({static_cast<int64_t>(label), 1.0 - distance});
    }
    if (out.size() >= want || fetch >= c->live.size()) break;
  }
  keep_best(out, k);
  return out;
}

size_t HnswStore::count(const std::string& collection) const {
  ensure_loaded(collection);
  std::shared_lock lock(mu_);
  return find_loaded(collection)->live.size();
}

void HnswStore::drop(const std::string& collection) {
  std::unique_lock lock(mu_);
  collections_[collection] = std::make_unique<Collection>();
  if (!s_.data_dir.empty()) {
    std::error_code ec;
    fs::remove(path(collection, ".hnsw"), ec);
    fs::remove(path(collection, ".meta"), ec);
  }
}

void HnswStore::flush(const std::string& collection) {
  std::unique_lock lock(mu_);
  Collection* c = find_loaded(collection);
  if (!c || !c->dirty || s_.data_dir.empty() || !c->index) return;
  fs::create_directories(s_.data_dir);
  std::string index_tmp = path(collection, ".hnsw.tmp"), meta_tmp = path(collection, ".meta.tmp");
  c->index->saveIndex(index_tmp);
  {
    std::ofstream meta(meta_tmp, std::ios::trunc);
    meta << c->dimensions << "\n";
    for (const auto& [id, m] : c->live) meta << id << "\t" << m.first << "\n";
    if (!meta) throw std::runtime_error("cannot write " + meta_tmp);
  }
  fs::rename(index_tmp, path(collection, ".hnsw"));
  fs::rename(meta_tmp, path(collection, ".meta"));
  c->dirty = false;
}

}  // namespace rag
