#include "cursor_state.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <plughost/json.hpp>
#include <stdexcept>

namespace dango {

namespace {

std::string string_member(const rapidjson::Value& o, const char* key, const char* fallback) {
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsString() ? it->value.GetString() : fallback;
}

}  // namespace

std::map<std::string, Cursor> state_cursors(const std::string& state_json) {
  std::map<std::string, Cursor> out;
  rapidjson::Document d;
  std::string error;
  if (state_json.empty() || !plughost::sdk::parse_json(state_json, d, error) || !d.IsObject()) {
    return out;
  }
  auto it = d.FindMember("cursors");
  if (it == d.MemberEnd() || !it->value.IsObject()) return out;
  for (const auto& m : it->value.GetObject()) {
    if (!m.value.IsObject()) continue;
    Cursor c;
    c.value = string_member(m.value, "value", "");
    c.type = parse_type_name(string_member(m.value, "type", "text")).value_or(ColumnType::kText);
    out[m.name.GetString()] = c;
  }
  return out;
}

std::string cursors_state(const std::map<std::string, Cursor>& cursors) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("cursors");
  w.StartObject();
  for (const auto& [name, c] : cursors) {
    if (c.value.empty()) continue;
    w.Key(name.c_str());
    w.StartObject();
    w.Key("value");
    w.String(c.value.c_str());
    w.Key("type");
    w.String(type_name(c.type));
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return buf.GetString();
}

bool cursor_after(const std::string& a, const std::string& b, ColumnType t) {
  try {
    if (t == ColumnType::kInteger) return std::stoll(a) > std::stoll(b);
    if (t == ColumnType::kReal) return std::stod(a) > std::stod(b);
  } catch (const std::exception&) {
    // Not a number after all: compare as text.
  }
  return a > b;
}

}  // namespace dango
