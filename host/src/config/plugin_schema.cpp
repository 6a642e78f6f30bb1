// Validation of a plugin's `config:` block against the JSON Schema embedded in the plugin.
// RapidJSON 1.1's validator is draft-04 and stops at the first failure, so unknown keys,
// missing keys and type errors are found here for every property; the validator covers the rest.
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <set>
#include <sstream>

#include "config/config.hpp"

namespace plughost {
namespace {

using rapidjson::Value;

struct SchemaWalk {
  const Config& config;
  const PluginConfig& plugin;
  std::vector<Diagnostic>& diagnostics;
  std::set<std::string> reported;    // JSON pointers already diagnosed
  std::vector<std::string> unknown;  // pointers of keys the schema does not allow

  Mark mark_of(std::string pointer) const {
    // The nearest enclosing value that came from the YAML file (defaults have no mark).
    while (true) {
      auto it = plugin.pointer_marks.find(pointer);
      if (it != plugin.pointer_marks.end()) return it->second;
      if (pointer.empty()) return plugin.mark;
      pointer = pointer.substr(0, pointer.rfind('/'));
    }
  }

  static std::string dotted(const std::string& pointer) {
    std::string out;
    for (char c : pointer) out += c == '/' ? '.' : c;
    return out;
  }

  void report(const std::string& pointer, const std::string& message, bool at_key = false) {
    Mark m = mark_of(pointer);
    if (at_key) {
      auto it = plugin.key_marks.find(pointer);
      if (it != plugin.key_marks.end()) m = it->second;
    }
    reported.insert(pointer);
    diagnostics.push_back({config.file, m.line, m.column,
                           "plugins." + plugin.name + ".config" + dotted(pointer), message});
  }
};

const char* json_type_name(const Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "boolean";
  if (v.IsObject()) return "object";
  if (v.IsArray()) return "array";
  if (v.IsString()) return "string";
  return (v.IsInt64() || v.IsUint64()) ? "integer" : "number";
}

bool matches_type(const Value& v, const std::string& type) {
  if (type == "null") return v.IsNull();
  if (type == "boolean") return v.IsBool();
  if (type == "object") return v.IsObject();
  if (type == "array") return v.IsArray();
  if (type == "string") return v.IsString();
  if (type == "integer") return v.IsInt64() || v.IsUint64();
  if (type == "number") return v.IsNumber();
  return true;
}

// True when `schema` has no "type" or `v` matches one of its types; otherwise reports.
bool check_type(SchemaWalk& walk, const Value& schema, const Value& v, const std::string& ptr) {
  if (!schema.IsObject() || !schema.HasMember("type")) return true;
  const Value& t = schema["type"];
  std::vector<std::string> types;
  if (t.IsString()) types.push_back(t.GetString());
  if (t.IsArray()) {
    for (const auto& x : t.GetArray()) {
      if (x.IsString()) types.push_back(x.GetString());
    }
  }
  for (const auto& type : types) {
    if (matches_type(v, type)) return true;
  }
  std::string expected;
  for (const auto& type : types) expected += (expected.empty() ? "" : " or ") + type;
  walk.report(ptr, "expected " + expected + ", got " + json_type_name(v));
  return false;
}

std::string did_you_mean(const std::string& key, const Value& properties) {
  std::string best;
  size_t best_distance = 3;
  for (auto it = properties.MemberBegin(); it != properties.MemberEnd(); ++it) {
    size_t d = edit_distance(key, it->name.GetString());
    if (d < best_distance) {
      best_distance = d;
      best = it->name.GetString();
    }
  }
  return best.empty() ? "" : " (did you mean \"" + best + "\"?)";
}

// Fills in `default`s of missing properties, creating nested objects whose properties have
// defaults of their own. Returns true when it added anything.
bool apply_defaults(const Value& schema, Value& obj, rapidjson::Document::AllocatorType& alloc) {
  if (!schema.IsObject() || !schema.HasMember("properties") || !obj.IsObject()) return false;
  bool added = false;
  const Value& props = schema["properties"];
  for (auto it = props.MemberBegin(); it != props.MemberEnd(); ++it) {
    const Value& sub = it->value;
    if (!sub.IsObject()) continue;
    auto existing = obj.FindMember(it->name);
    if (existing != obj.MemberEnd()) {
      apply_defaults(sub, existing->value, alloc);
      continue;
    }
    if (sub.HasMember("default")) {
      obj.AddMember(Value(it->name, alloc), Value(sub["default"], alloc), alloc);
      added = true;
    } else if (sub.HasMember("properties")) {
      Value child(rapidjson::kObjectType);
      if (apply_defaults(sub, child, alloc)) {
        obj.AddMember(Value(it->name, alloc), child, alloc);
        added = true;
      }
    }
  }
  return added;
}

void walk_value(SchemaWalk& walk, const Value& schema, const Value& v, const std::string& ptr) {
  if (!schema.IsObject()) return;
  if (!check_type(walk, schema, v, ptr)) return;
  if (v.IsObject()) {
    const Value* props = schema.HasMember("properties") && schema["properties"].IsObject()
                             ? &schema["properties"]
                             : nullptr;
    bool closed = schema.HasMember("additionalProperties") &&
                  schema["additionalProperties"].IsBool() &&
                  !schema["additionalProperties"].GetBool();
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      std::string key = it->name.GetString();
      std::string child = ptr + "/" + key;
      if (props && props->HasMember(it->name)) {
        walk_value(walk, (*props)[it->name], it->value, child);
      } else if (closed) {
        Value empty(rapidjson::kObjectType);
        walk.report(child,
                    "unknown key \"" + key + "\"" + did_you_mean(key, props ? *props : empty),
                    /*at_key=*/true);
        walk.unknown.push_back(child);
      }
    }
    if (schema.HasMember("required") && schema["required"].IsArray()) {
      for (const auto& r : schema["required"].GetArray()) {
        if (r.IsString() && !v.HasMember(r)) {
          walk.report(ptr, "missing required key \"" + std::string(r.GetString()) + "\"");
        }
      }
    }
  }
  if (v.IsArray() && schema.HasMember("items") && schema["items"].IsObject()) {
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      walk_value(walk, schema["items"], v[i], ptr + "/" + std::to_string(i));
    }
  }
}

std::string number_text(const Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return buf.GetString();
}

// A readable message for the keyword RapidJSON's validator stopped at.
std::string explain(const std::string& keyword, const Value* rule, const Value* value) {
  std::string got = value ? number_text(*value) : "value";
  std::string limit = rule ? number_text(*rule) : "?";
  if (keyword == "minimum") return "value " + got + " is below minimum " + limit;
  if (keyword == "maximum") return "value " + got + " is above maximum " + limit;
  if (keyword == "minLength") return "string is shorter than " + limit + " characters";
  if (keyword == "maxLength") return "string is longer than " + limit + " characters";
  if (keyword == "pattern") return "string does not match pattern " + limit;
  if (keyword == "enum") return "value " + got + " is not one of " + limit;
  if (keyword == "minItems") return "list has fewer than " + limit + " items";
  if (keyword == "maxItems") return "list has more than " + limit + " items";
  if (keyword == "uniqueItems") return "list items must be unique";
  return "fails schema keyword \"" + keyword + "\"";
}

std::string pointer_string(const rapidjson::Pointer& p) {
  rapidjson::StringBuffer buf;
  p.Stringify(buf);
  return buf.GetString();
}

}  // namespace

PluginConfigCheck check_plugin_config(const Config& config, const PluginConfig& plugin,
                                      const std::string& schema_json) {
  PluginConfigCheck out;
  out.config_json = plugin.config_json;
  SchemaWalk walk{config, plugin, out.diagnostics, {}, {}};
  if (schema_json.empty()) return out;

  rapidjson::Document schema;
  if (schema.Parse(schema_json.c_str()).HasParseError() || !schema.IsObject()) {
    walk.report("", "the plugin's config schema is not valid JSON; report this to its author");
    return out;
  }
  rapidjson::Document doc;
  if (doc.Parse(plugin.config_json.c_str()).HasParseError()) doc.SetObject();

  walk_value(walk, schema, doc, "");
  // Validate what remains without the keys already reported as unknown, so one run shows the
  // other problems too.
  for (auto it = walk.unknown.rbegin(); it != walk.unknown.rend(); ++it) {
    rapidjson::Pointer(it->c_str()).Erase(doc);
  }
  bool had_errors = !out.diagnostics.empty();

  apply_defaults(schema, doc, doc.GetAllocator());
  rapidjson::SchemaDocument compiled(schema);
  rapidjson::SchemaValidator validator(compiled);
  if (!doc.Accept(validator)) {
    std::string ptr = pointer_string(validator.GetInvalidDocumentPointer());
    std::string keyword = validator.GetInvalidSchemaKeyword();
    const Value* rule_holder = validator.GetInvalidSchemaPointer().Get(schema);
    const Value* rule =
        rule_holder && rule_holder->IsObject() && rule_holder->HasMember(keyword.c_str())
            ? &(*rule_holder)[keyword.c_str()]
            : nullptr;
    const Value* value = validator.GetInvalidDocumentPointer().Get(doc);
    if (!walk.reported.count(ptr)) walk.report(ptr, explain(keyword, rule, value));
    return out;
  }
  if (had_errors) return out;
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  doc.Accept(w);
  out.config_json.assign(buf.GetString(), buf.GetSize());
  return out;
}

}  // namespace plughost
