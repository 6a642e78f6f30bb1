#include "bm25.hpp"

#include <cmath>
#include <map>
#include <set>

#include "exact_store.hpp"
#include "text.hpp"

namespace rag {

namespace {
constexpr double kK1 = 1.2;
constexpr double kB = 0.75;
}  // namespace

void Bm25Index::add(int64_t id, std::string_view text) {
  remove(id);
  std::map<std::string, uint32_t> counts;
  uint32_t length = 0;
  for (auto& t : keyword_tokens(text)) {
    ++counts[std::move(t)];
    ++length;
  }
  auto& terms = terms_of_[id];
  for (auto& [term, tf] : counts) {
    postings_[term].push_back({id, tf});
    terms.push_back(term);
  }
  lengths_[id] = length;
  total_length_ += length;
}

void Bm25Index::remove(int64_t id) {
  auto it = terms_of_.find(id);
  if (it == terms_of_.end()) return;
  for (const auto& term : it->second) {
    auto p = postings_.find(term);
    if (p == postings_.end()) continue;
    auto& list = p->second;
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].id == id) {
        list[i] = list.back();
        list.pop_back();
        break;
      }
    }
    if (list.empty()) postings_.erase(p);
  }
  terms_of_.erase(it);
  total_length_ -= lengths_[id];
  lengths_.erase(id);
}

std::vector<Match> Bm25Index::search(std::string_view query, size_t k,
                                     const std::function<bool(int64_t)>& allow) const {
  std::vector<Match> out;
  if (lengths_.empty() || k == 0) return out;
  double n = static_cast<double>(lengths_.size());
  double avg = static_cast<double>(total_length_) / n;
  if (avg <= 0) avg = 1;
  std::set<std::string> terms;
  for (auto& t : keyword_tokens(query)) terms.insert(std::move(t));
  std::unordered_map<int64_t, double> scores;
  for (const auto& term : terms) {
    auto p = postings_.find(term);
    if (p == postings_.end()) continue;
    double df = static_cast<double>(p->second.size());
    double idf = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
    for (const auto& posting : p->second) {
      double tf = posting.tf;
      double len = lengths_.at(posting.id);
      scores[posting.id] += idf * tf * (kK1 + 1) / (tf + kK1 * (1 - kB + kB * len / avg));
    }
  }
  out.reserve(scores.size());
  for (const auto& [id, score] : scores) {
    if (allow && !allow(id)) continue;
    out.push_back({id, score});
  }
  keep_best(out, k);
  return out;
}

}  // namespace rag
