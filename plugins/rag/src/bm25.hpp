// BM25 keyword scoring (k1 = 1.2, b = 0.75, Lucene's idf) over an in-memory inverted index of
// keyword_tokens(). Not thread-safe on its own: the endpoint index guards it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "vector_store.hpp"

namespace rag {

class Bm25Index {
 public:
  void add(int64_t id, std::string_view text);  // replaces an earlier text of the same id
  void remove(int64_t id);
  // Best `k` ids with a positive score among those `allow` accepts (null: all), best first.
  std::vector<Match> search(std::string_view query, size_t k,
                            const std::function<bool(int64_t)>& allow = nullptr) const;
  size_t size() const { return lengths_.size(); }

 private:
  struct Posting {
    int64_t id;
    uint32_t tf;
  };
  std::unordered_map<std::string, std::vector<Posting>> postings_;
  std::unordered_map<int64_t, std::vector<std::string>> terms_of_;  // distinct terms per id
  std::unordered_map<int64_t, uint32_t> lengths_;
  uint64_t total_length_ = 0;
};

}  // namespace rag
