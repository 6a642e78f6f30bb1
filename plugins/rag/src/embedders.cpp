#include "embedders.hpp"

#include <cmath>
#include <cstdint>
#include <plughost/http_client.hpp>
#include <plughost/json.hpp>
#include <stdexcept>
#include <unordered_map>

#include "text.hpp"

namespace rag {

namespace {

// A batch of 1536-dimension vectors as JSON text is a few MiB.
constexpr size_t kMaxProviderAnswerBytes = size_t{64} << 20;

uint64_t fnv1a(std::string_view s, uint64_t seed) {
  uint64_t h = 1469598103934665603ULL ^ seed;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  // final avalanche so nearby strings spread over buckets
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

void normalize(Vector& v) {
  double sum = 0;
  for (float x : v) sum += static_cast<double>(x) * x;
  if (sum <= 0) return;
  float inv = static_cast<float>(1.0 / std::sqrt(sum));
  for (float& x : v) x *= inv;
}

Vector HashedEmbedder::embed_one(std::string_view text) const {
  std::unordered_map<std::string, int> features;  // feature -> term frequency
  std::vector<std::string> words = keyword_tokens(text);
  for (size_t i = 0; i < words.size(); ++i) {
    ++features["w:" + words[i]];
    if (i + 1 < words.size()) ++features["b:" + words[i] + " " + words[i + 1]];
    std::string padded = "<" + words[i] + ">";
    for (size_t n = 3; n <= 5 && n <= padded.size(); ++n) {
      for (size_t p = 0; p + n <= padded.size(); ++p) ++features["c:" + padded.substr(p, n)];
    }
  }
  Vector v(dimensions_, 0.0f);
  for (const auto& [feature, tf] : features) {
    uint64_t h = fnv1a(feature, 0);
    double base = feature[0] == 'w' ? 1.0 : feature[0] == 'b' ? 0.5 : 0.25;
    double sign = (h >> 63) ? -1.0 : 1.0;
    v[h % dimensions_] += static_cast<float>(sign * base * (1.0 + std::log(tf)));
  }
  normalize(v);
  return v;
}

std::vector<Vector> HashedEmbedder::embed(const std::vector<std::string>& texts) const {
  std::vector<Vector> out;
  out.reserve(texts.size());
  for (const auto& t : texts) out.push_back(embed_one(t));
  return out;
}

std::vector<Vector> OpenAIEmbedder::embed(const std::vector<std::string>& texts) const {
  std::vector<Vector> out;
  out.reserve(texts.size());
  size_t batch = s_.batch == 0 ? 64 : s_.batch;
  for (size_t from = 0; from < texts.size(); from += batch) {
    auto part = embed_batch(texts, from, std::min(batch, texts.size() - from));
    for (auto& v : part) out.push_back(std::move(v));
  }
  return out;
}

std::vector<Vector> OpenAIEmbedder::embed_batch(const std::vector<std::string>& texts, size_t from,
                                                size_t count) const {
  rapidjson::Document req(rapidjson::kObjectType);
  auto& a = req.GetAllocator();
  req.AddMember("model", rapidjson::Value(s_.model.c_str(), a), a);
  rapidjson::Value input(rapidjson::kArrayType);
  for (size_t i = from; i < from + count; ++i) {
    input.PushBack(rapidjson::Value(texts[i].c_str(), a), a);
  }
  req.AddMember("input", input, a);
  if (s_.dimensions > 0) req.AddMember("dimensions", s_.dimensions, a);
  std::string base = s_.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  plughost::http::Request call;
  call.method = "POST";
  call.url = base + "/embeddings";
  call.headers = {{"Content-Type", "application/json"}};
  if (!s_.api_key.empty()) call.headers.emplace_back("Authorization", "Bearer " + s_.api_key);
  call.body = plughost::sdk::to_json(req);
  call.timeout_seconds = s_.timeout_seconds;
  call.max_response_bytes = kMaxProviderAnswerBytes;
  plughost::http::Response r = plughost::http::perform(call);
  if (!r.ok()) throw std::runtime_error(plughost::http::describe_failure(r, "embeddings provider"));
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("data") || !d["data"].IsArray()) {
    throw std::runtime_error("embeddings provider answered without a \"data\" list");
  }
  std::vector<Vector> out(count);
  size_t position = 0;
  for (const auto& item : d["data"].GetArray()) {
    size_t index = position++;
    if (item.IsObject() && item.HasMember("index") && item["index"].IsUint()) {
      index = item["index"].GetUint();
    }
    if (index >= count || !item.IsObject() || !item.HasMember("embedding") ||
        !item["embedding"].IsArray()) {
      throw std::runtime_error("embeddings provider answered a malformed item");
    }
    Vector v;
    for (const auto& x : item["embedding"].GetArray()) {
      if (!x.IsNumber()) throw std::runtime_error("embeddings provider answered a non-number");
      v.push_back(static_cast<float>(x.GetDouble()));
    }
    normalize(v);
    out[index] = std::move(v);
  }
  size_t dims = out.empty() ? 0 : out[0].size();
  for (const auto& v : out) {
    if (v.empty() || v.size() != dims) {
      throw std::runtime_error("embeddings provider answered " + std::to_string(d["data"].Size()) +
                               " vectors of mixed or missing dimensions for " +
                               std::to_string(count) + " texts");
    }
  }
  return out;
}

std::string run_embedder_connector(const Embedder& e, std::string_view operation,
                                   std::string_view input) {
  if (operation != "embed") throw std::invalid_argument("embedders offer only \"embed\"");
  rapidjson::Document in;
  in.Parse(input.data(), input.size());
  if (in.HasParseError() || !in.IsObject() || !in.HasMember("texts") || !in["texts"].IsArray()) {
    throw std::invalid_argument("input must be {\"texts\": [strings]}");
  }
  std::vector<std::string> texts;
  for (const auto& t : in["texts"].GetArray()) {
    if (!t.IsString()) throw std::invalid_argument("\"texts\" must hold strings only");
    texts.emplace_back(t.GetString(), t.GetStringLength());
  }
  std::vector<Vector> vectors = e.embed(texts);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("vectors");
  w.StartArray();
  for (const auto& v : vectors) {
    w.StartArray();
    for (float x : v) w.Double(x);
    w.EndArray();
  }
  w.EndArray();
  w.Key("dimensions");
  w.Uint64(vectors.empty() ? 0 : vectors[0].size());
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace rag
