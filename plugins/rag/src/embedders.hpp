// Embedders turn texts into unit-length vectors (cosine similarity = dot product). Two ship with
// the plugin: `hashed` (offline, no model download) and an OpenAI-compatible embeddings client;
// any plugin may add more as connectors of kind "embedder" (operation "embed", see README).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rag {

using Vector = std::vector<float>;

// Thread-safe: embed() may run on many threads at once. Throws std::runtime_error on failure.
class Embedder {
 public:
  virtual ~Embedder() = default;
  virtual std::vector<Vector> embed(const std::vector<std::string>& texts) const = 0;
};

// Feature hashing of stop-word-free words (weight 1), word bigrams (0.5) and character 3- to
// 5-grams of each word (0.25 each), with sublinear term frequency (1 + ln tf), signed buckets and
// L2 normalisation. Deterministic, no IDF (keyword weighting is BM25's job in hybrid search).
class HashedEmbedder : public Embedder {
 public:
  explicit HashedEmbedder(size_t dimensions = 512) : dimensions_(dimensions) {}
  std::vector<Vector> embed(const std::vector<std::string>& texts) const override;
  Vector embed_one(std::string_view text) const;
  size_t dimensions() const { return dimensions_; }

 private:
  size_t dimensions_;
};

// POST <base_url>/embeddings {"model", "input": [...]} with `Authorization: Bearer <api_key>`
// (omitted when empty); answers "data[i].embedding" in input order (by "index"). Sends at most
// `batch` texts per call. Vectors are L2-normalised on arrival.
struct OpenAIEmbedderSettings {
  std::string base_url;
  std::string api_key;
  std::string model = "text-embedding-3-small";
  int dimensions = 0;  // > 0: sent as "dimensions"
  size_t batch = 64;
  double timeout_seconds = 30;
};
class OpenAIEmbedder : public Embedder {
 public:
  explicit OpenAIEmbedder(OpenAIEmbedderSettings s) : s_(std::move(s)) {}
  std::vector<Vector> embed(const std::vector<std::string>& texts) const override;

 private:
  std::vector<Vector> embed_batch(const std::vector<std::string>& texts, size_t from,
                                  size_t count) const;
  OpenAIEmbedderSettings s_;
};

// Scales `v` to unit length (a zero vector stays zero).
void normalize(Vector& v);

// The "embedder" connector contract over any Embedder: operation "embed",
// {"texts": [..], "model"?: ..} -> {"vectors": [[..], ..], "dimensions": n}. Throws
// std::invalid_argument for bad input and std::runtime_error when embedding fails.
std::string run_embedder_connector(const Embedder& e, std::string_view operation,
                                   std::string_view input);

}  // namespace rag
