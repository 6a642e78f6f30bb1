#include "vector_store.hpp"

#include <plughost/json.hpp>
#include <stdexcept>

namespace rag {

using plughost::sdk::to_json;

bool valid_collection_name(std::string_view name) {
  if (name.empty() || name.size() > 200) return false;
  for (unsigned char c : name) {
    if (!(std::islower(c) || std::isdigit(c) || c == '-' || c == '_')) return false;
  }
  return true;
}

namespace {

std::string collection_of(const rapidjson::Document& in) {
  if (!in.HasMember("collection") || !in["collection"].IsString() ||
      !valid_collection_name(in["collection"].GetString())) {
    throw std::invalid_argument("\"collection\" must be a name of [a-z0-9_-]");
  }
  return in["collection"].GetString();
}

Vector vector_of(const rapidjson::Value& v) {
  if (!v.IsArray() || v.Empty()) {
    throw std::invalid_argument("\"vector\" must be a list of numbers");
  }
  Vector out;
  out.reserve(v.Size());
  for (const auto& x : v.GetArray()) {
    if (!x.IsNumber()) throw std::invalid_argument("\"vector\" must be a list of numbers");
    out.push_back(static_cast<float>(x.GetDouble()));
  }
  return out;
}

void write_vector(rapidjson::Writer<rapidjson::StringBuffer>& w, const Vector& v) {
  w.StartArray();
  for (float x : v) w.Double(x);
  w.EndArray();
}

}  // namespace

std::string run_store_connector(VectorStore& store, std::string_view operation,
                                std::string_view input) {
  rapidjson::Document in;
  in.Parse(input.data(), input.size());
  if (in.HasParseError() || !in.IsObject()) throw std::invalid_argument("input must be an object");
  std::string collection = collection_of(in);
  if (operation == "upsert") {
    if (!in.HasMember("items") || !in["items"].IsArray()) {
      throw std::invalid_argument("\"items\" must be a list");
    }
    std::vector<StoreItem> items;
    for (const auto& it : in["items"].GetArray()) {
      if (!it.IsObject() || !it.HasMember("id") || !it["id"].IsInt64() || !it.HasMember("vector")) {
        throw std::invalid_argument("each item needs an integer \"id\" and a \"vector\"");
      }
      StoreItem item;
      item.id = it["id"].GetInt64();
      item.vector = vector_of(it["vector"]);
      if (it.HasMember("metadata") && it["metadata"].IsObject()) {
        item.metadata_json = to_json(it["metadata"]);
      }
      normalize(item.vector);
      items.push_back(std::move(item));
    }
    store.upsert(collection, items);
    return "{\"upserted\":" + std::to_string(items.size()) + "}";
  }
  if (operation == "delete") {
    if (!in.HasMember("ids") || !in["ids"].IsArray()) {
      throw std::invalid_argument("\"ids\" must be a list");
    }
    std::vector<int64_t> ids;
    for (const auto& id : in["ids"].GetArray()) {
      if (!id.IsInt64()) throw std::invalid_argument("\"ids\" must hold integers");
      ids.push_back(id.GetInt64());
    }
    store.remove(collection, ids);
    return "{\"deleted\":" + std::to_string(ids.size()) + "}";
  }
  if (operation == "query") {
    if (!in.HasMember("vector")) throw std::invalid_argument("\"vector\" is required");
    Vector v = vector_of(in["vector"]);
    normalize(v);
    size_t k = 5;
    if (in.HasMember("top_k")) {
      if (!in["top_k"].IsUint() || in["top_k"].GetUint() == 0) {
        throw std::invalid_argument("\"top_k\" must be a positive integer");
      }
      k = in["top_k"].GetUint();
    }
    Filter filter;
    std::string error;
    if (in.HasMember("filters") && !parse_filter(in["filters"], filter, error)) {
      throw std::invalid_argument(error);
    }
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("matches");
    w.StartArray();
    for (const auto& m : store.query(collection, v, k, filter)) {
      w.StartObject();
      w.Key("id");
      w.Int64(m.id);
      w.Key("score");
      w.Double(m.score);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return buf.GetString();
  }
  if (operation == "count") return "{\"count\":" + std::to_string(store.count(collection)) + "}";
  if (operation == "drop") {
    store.drop(collection);
    return "{}";
  }
  if (operation == "flush") {
    store.flush(collection);
    return "{}";
  }
  throw std::invalid_argument("unknown vector_store operation \"" + std::string(operation) + "\"");
}

std::string upsert_request(const std::string& collection, const std::vector<StoreItem>& items) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("collection");
  w.String(collection.c_str());
  w.Key("items");
  w.StartArray();
  for (const auto& it : items) {
    w.StartObject();
    w.Key("id");
    w.Int64(it.id);
    w.Key("vector");
    write_vector(w, it.vector);
    w.Key("metadata");
    w.RawValue(it.metadata_json.c_str(), it.metadata_json.size(), rapidjson::kObjectType);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

std::string query_request(const std::string& collection, const Vector& v, size_t k,
                          const std::string& filters_json) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("collection");
  w.String(collection.c_str());
  w.Key("vector");
  write_vector(w, v);
  w.Key("top_k");
  w.Uint64(k);
  w.Key("filters");
  w.RawValue(filters_json.c_str(), filters_json.size(), rapidjson::kObjectType);
  w.EndObject();
  return buf.GetString();
}

std::vector<Match> parse_matches(const std::string& output) {
  rapidjson::Document d;
  d.Parse(output.c_str());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("matches") || !d["matches"].IsArray()) {
    throw std::runtime_error("vector store answered without a \"matches\" list");
  }
  std::vector<Match> out;
  for (const auto& m : d["matches"].GetArray()) {
    if (!m.IsObject() || !m.HasMember("id") || !m["id"].IsInt64() || !m.HasMember("score") ||
        !m["score"].IsNumber()) {
      throw std::runtime_error("vector store answered a malformed match");
    }
    out.push_back({m["id"].GetInt64(), m["score"].GetDouble()});
  }
  return out;
}

}  // namespace rag
