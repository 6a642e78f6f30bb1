// Document metadata as the filters see it, and the filters themselves: equality per key, a list
// value meaning "any of"; a list-valued metadata field matches when any of its items does.
#pragma once

#include <rapidjson/document.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace rag {

// Each field's values as text: strings as they are, numbers and booleans as their JSON text
// (so 5 and "5" compare equal), null as "null"; a list keeps each item.
using FlatMetadata = std::map<std::string, std::vector<std::string>>;

FlatMetadata flatten_metadata(const rapidjson::Value& object);
FlatMetadata flatten_metadata_json(const std::string& json_object);

struct Filter {
  std::vector<std::pair<std::string, std::vector<std::string>>> terms;  // key -> any of
  bool empty() const { return terms.empty(); }
};

// {"key": value | [values]}; a non-object, an empty list or a nested object is an error
// (message in `error`, naming the key).
bool parse_filter(const rapidjson::Value& filters, Filter& out, std::string& error);

bool matches(const Filter& f, const FlatMetadata& m);

}  // namespace rag
