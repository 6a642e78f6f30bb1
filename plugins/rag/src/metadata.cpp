#include "metadata.hpp"

#include <algorithm>
#include <plughost/json.hpp>

namespace rag {

namespace {

bool scalar_text(const rapidjson::Value& v, std::string& out) {
  if (v.IsString()) {
    out.assign(v.GetString(), v.GetStringLength());
    return true;
  }
  if (v.IsNumber() || v.IsBool() || v.IsNull()) {
    out = plughost::sdk::to_json(v);
    return true;
  }
  return false;
}

}  // namespace

FlatMetadata flatten_metadata(const rapidjson::Value& object) {
  FlatMetadata m;
  if (!object.IsObject()) return m;
  for (const auto& member : object.GetObject()) {
    std::string key(member.name.GetString(), member.name.GetStringLength());
    std::string text;
    auto& values = m[key];
    if (member.value.IsArray()) {
      for (const auto& item : member.value.GetArray()) {
        if (scalar_text(item, text)) values.push_back(text);
      }
    } else if (scalar_text(member.value, text)) {
      values.push_back(text);
    }
  }
  return m;
}

FlatMetadata flatten_metadata_json(const std::string& json_object) {
  rapidjson::Document d;
  d.Parse(json_object.c_str());
  if (d.HasParseError()) return {};
  return flatten_metadata(d);
}

bool parse_filter(const rapidjson::Value& filters, Filter& out, std::string& error) {
  out.terms.clear();
  if (filters.IsNull()) return true;
  if (!filters.IsObject()) {
    error = "filters must be an object of field: value or field: [values]";
    return false;
  }
  for (const auto& member : filters.GetObject()) {
    std::string key(member.name.GetString(), member.name.GetStringLength());
    std::vector<std::string> any;
    std::string text;
    if (member.value.IsArray()) {
      for (const auto& item : member.value.GetArray()) {
        if (!scalar_text(item, text)) {
          error = "filter \"" + key + "\" may list only strings, numbers or booleans";
          return false;
        }
        any.push_back(text);
      }
      if (any.empty()) {
        error = "filter \"" + key + "\" lists no value";
        return false;
      }
    } else if (scalar_text(member.value, text)) {
      any.push_back(text);
    } else {
      error = "filter \"" + key + "\" must be a string, number, boolean or a list of them";
      return false;
    }
    out.terms.emplace_back(std::move(key), std::move(any));
  }
  return true;
}

bool matches(const Filter& f, const FlatMetadata& m) {
  for (const auto& [key, any] : f.terms) {
    auto it = m.find(key);
    if (it == m.end()) return false;
    bool hit = false;
    for (const auto& have : it->second) {
      if (std::find(any.begin(), any.end(), have) != any.end()) {
        hit = true;
        break;
      }
    }
    if (!hit) return false;
  }
  return true;
}

}  // namespace rag
