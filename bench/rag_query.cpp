// Query latency of the rag plugin's retrieval core at a given corpus size: synthetic chunks of
// ~80 words drawn from a Zipf-distributed vocabulary, embedded with the offline hashed embedder
// (512 dimensions), indexed in BM25, the exact store and the HNSW store (plugin defaults M=16,
// ef_construction=200, ef_search=128). Prints build times, per-mode p50/p95/mean query latency
// (embedding included) and HNSW recall@10 against the exact scan. Not part of ctest.
//
// Usage: rag_query [CHUNKS...]   (default: 10000 100000); RAG_BENCH_EF_SEARCH overrides 128.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "exact_store.hpp"
#include "hnsw_store.hpp"
#include "retrieval.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Pronounceable pseudo-words, so character n-grams behave like a real language's.
std::vector<std::string> vocabulary(size_t n, std::mt19937& rng) {
  const char* syllables[] = {"ka", "lo",  "mi",  "ten", "ra", "sul", "po", "ver", "an", "di",
                             "es", "qui", "mor", "ba",  "ne", "tor", "li", "gas", "fe", "un"};
  std::set<std::string> seen;
  std::vector<std::string> out;
  std::uniform_int_distribution<int> len(2, 4), syl(0, 19);
  while (out.size() < n) {
    std::string w;
    for (int i = len(rng); i > 0; --i) w += syllables[syl(rng)];
    if (seen.insert(w).second) out.push_back(w);
  }
  return out;
}

struct Zipf {
  explicit Zipf(size_t n) {
    double sum = 0;
    for (size_t i = 1; i <= n; ++i) cdf.push_back(sum += 1.0 / static_cast<double>(i));
    for (double& c : cdf) c /= sum;
  }
  size_t operator()(std::mt19937& rng) const {
    double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return static_cast<size_t>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
  }
  std::vector<double> cdf;
};

struct Stats {
  double p50, p95, mean;
};
Stats stats(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  double sum = 0;
  for (double m : ms) sum += m;
  return {ms[ms.size() / 2], ms[ms.size() * 95 / 100], sum / static_cast<double>(ms.size())};
}

void run(size_t chunks, size_t ef_search) {
  std::mt19937 rng(42);
  auto vocab = vocabulary(20000, rng);
  Zipf zipf(vocab.size());
  auto embedder = std::make_shared<rag::HashedEmbedder>(512);
  auto exact_store = std::make_shared<rag::ExactStore>();
  auto hnsw_store = std::make_shared<rag::HnswStore>(rag::HnswSettings{"", 16, 200, ef_search});
  rag::EndpointIndex exact("bench", embedder, exact_store);
  rag::EndpointIndex hnsw("bench", embedder, hnsw_store);

  double embed_s = 0, exact_s = 0, hnsw_s = 0;
  const size_t batch = 1000;
  for (size_t from = 0; from < chunks; from += batch) {
    std::vector<rag::Chunk> part;
    std::vector<std::string> texts;
    for (size_t i = from; i < std::min(chunks, from + batch); ++i) {
      rag::Chunk c;
      c.label = static_cast<int64_t>(i + 1);
      c.document_id = "doc-" + std::to_string(i / 4);
      c.chunk_id = c.document_id + "#" + std::to_string(i % 4);
      for (int w = 0; w < 80; ++w) c.content += vocab[zipf(rng)] + (w % 12 == 11 ? ". " : " ");
      c.metadata_json = std::string("{\"category\":\"c") + std::to_string(i % 10) + "\"}";
      texts.push_back(rag::indexed_text(c));
      part.push_back(std::move(c));
    }
    auto t = Clock::now();
    auto vectors = embedder->embed(texts);
    embed_s += seconds_since(t);
    t = Clock::now();
    exact.add(part, vectors);
    exact_s += seconds_since(t);
    t = Clock::now();
    hnsw.add(std::move(part), vectors);
    hnsw_s += seconds_since(t);
  }
  std::printf(
      "\n%zu chunks (hnsw ef_search %zu): embed %.1f s, exact+bm25 index %.1f s, hnsw+bm25 index "
      "%.1f s\n",
      chunks, ef_search, embed_s, exact_s, hnsw_s);

  std::vector<std::string> queries;
  std::uniform_int_distribution<size_t> mid(20, 3000);  // content words, not the commonest
  for (int q = 0; q < 300; ++q) {
    std::string text;
    for (int w = 0; w < 4; ++w) text += vocab[mid(rng)] + " ";
    queries.push_back(text);
  }
  struct Case {
    const char* name;
    const rag::EndpointIndex* index;
    rag::SearchMode mode;
    bool filtered;
  };
  Case cases[] = {{"bm25", &exact, rag::SearchMode::kKeyword, false},
                  {"vector exact", &exact, rag::SearchMode::kVector, false},
                  {"vector hnsw", &hnsw, rag::SearchMode::kVector, false},
                  {"hybrid (hnsw)", &hnsw, rag::SearchMode::kHybrid, false},
                  {"hybrid (exact)", &exact, rag::SearchMode::kHybrid, false},
                  {"hybrid hnsw, filter 1/10", &hnsw, rag::SearchMode::kHybrid, true}};
  rag::Filter filter;
  filter.terms = {{"category", {"c3"}}};
  std::printf("  %-26s %9s %9s %9s   (ms, top_k 10, %zu queries)\n", "mode", "p50", "p95", "mean",
              queries.size());
  for (const auto& c : cases) {
    std::vector<double> ms;
    for (const auto& q : queries) {
      auto t = Clock::now();
      auto hits = c.index->search(q, c.mode, 10, c.filtered ? filter : rag::Filter{});
      ms.push_back(seconds_since(t) * 1000);
      if (hits.empty() && c.mode != rag::SearchMode::kKeyword) std::abort();
    }
    Stats s = stats(ms);
    std::printf("  %-26s %9.3f %9.3f %9.3f\n", c.name, s.p50, s.p95, s.mean);
  }
  double recall = 0;
  for (const auto& q : queries) {
    auto truth = exact.search(q, rag::SearchMode::kVector, 10, {});
    auto approx = hnsw.search(q, rag::SearchMode::kVector, 10, {});
    std::set<std::string> want;
    for (const auto& h : truth) want.insert(h.chunk_id);
    size_t found = 0;
    for (const auto& h : approx) found += want.count(h.chunk_id);
    recall += static_cast<double>(found) / static_cast<double>(truth.size());
  }
  std::printf("  hnsw recall@10 vs exact: %.3f\n", recall / static_cast<double>(queries.size()));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::strtoul(argv[i], nullptr, 10));
  if (sizes.empty()) sizes = {10000, 100000};
  const char* ef = std::getenv("RAG_BENCH_EF_SEARCH");
  for (size_t n : sizes) run(n, ef ? std::strtoul(ef, nullptr, 10) : 128);
  return 0;
}
