#include "checksums.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "sha256.hpp"

namespace studio {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using Allocator = rapidjson::Document::AllocatorType;

void write_sorted(const rapidjson::Value& v, Writer& w) {
  if (v.IsObject()) {
    std::vector<const rapidjson::Value::Member*> members;
    for (const auto& m : v.GetObject()) members.push_back(&m);
    std::sort(members.begin(), members.end(), [](const auto* a, const auto* b) {
      return std::string_view(a->name.GetString(), a->name.GetStringLength()) <
             std::string_view(b->name.GetString(), b->name.GetStringLength());
    });
    w.StartObject();
    for (const auto* m : members) {
      w.Key(m->name.GetString(), m->name.GetStringLength());
      write_sorted(m->value, w);
    }
    w.EndObject();
  } else if (v.IsArray()) {
    w.StartArray();
    for (const auto& item : v.GetArray()) write_sorted(item, w);
    w.EndArray();
  } else {
    v.Accept(w);
  }
}

rapidjson::Value str(const std::string& s, Allocator& a) {
  return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a);
}

std::vector<const MigrationRow*> sorted_rows(const std::vector<MigrationRow>& rows) {
  std::vector<const MigrationRow*> out;
  for (const auto& r : rows) out.push_back(&r);
  std::sort(out.begin(), out.end(), [](const MigrationRow* a, const MigrationRow* b) {
    return std::tie(a->plugin, a->name) < std::tie(b->plugin, b->name);
  });
  return out;
}

rapidjson::Value table_json(const Table& t, Allocator& a) {
  rapidjson::Value columns(rapidjson::kArrayType);
  for (const auto& c : t.columns) {
    rapidjson::Value col(rapidjson::kObjectType);
    col.AddMember("name", str(c.name, a), a);
    col.AddMember("type", str(c.type, a), a);
    col.AddMember("not_null", c.not_null, a);
    col.AddMember("primary_key", c.primary_key, a);
    columns.PushBack(col, a);
  }
  rapidjson::Value keys(rapidjson::kArrayType);
  for (const auto& k : t.foreign_keys) {
    rapidjson::Value key(rapidjson::kObjectType);
    key.AddMember("column", str(k.column, a), a);
    key.AddMember("references", str(k.references, a), a);
    keys.PushBack(key, a);
  }
  rapidjson::Value table(rapidjson::kObjectType);
  table.AddMember("name", str(t.name, a), a);
  table.AddMember("columns", columns, a);
  table.AddMember("foreign_keys", keys, a);
  return table;
}

std::string schema_checksum(const HostSnapshot& s) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  rapidjson::Value migrations(rapidjson::kArrayType);
  for (const MigrationRow* m : sorted_rows(s.migrations)) {
    rapidjson::Value row(rapidjson::kObjectType);
    row.AddMember("plugin", str(m->plugin, a), a);
    row.AddMember("name", str(m->name, a), a);
    row.AddMember("checksum", str(m->checksum, a), a);
    migrations.PushBack(row, a);
  }
  rapidjson::Value tables(rapidjson::kArrayType);
  for (const auto& t : s.catalog.tables) tables.PushBack(table_json(t, a), a);
  if (migrations.Empty() && tables.Empty()) return kEmptyChecksum;
  d.AddMember("migrations", migrations, a);
  d.AddMember("tables", tables, a);
  return short_checksum(canonical_json(d));
}

std::string routes_checksum(const std::vector<RouteInfo>& routes) {
  std::map<std::string, std::set<std::string>> by_path;
  for (const auto& r : routes) by_path[r.path].insert(r.method);
  rapidjson::Document d(rapidjson::kArrayType);
  auto& a = d.GetAllocator();
  for (const auto& [path, methods] : by_path) {
    rapidjson::Value list(rapidjson::kArrayType);
    for (const auto& m : methods) list.PushBack(str(m, a), a);
    rapidjson::Value route(rapidjson::kObjectType);
    route.AddMember("path", str(path, a), a);
    route.AddMember("methods", list, a);
    d.PushBack(route, a);
  }
  return short_checksum(canonical_json(d));
}

}  // namespace

std::string canonical_json(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  write_sorted(value, w);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string short_checksum(std::string_view text) {
  return sha256_hex(text).substr(0, 16);
}

std::string migrations_checksum(const std::vector<MigrationRow>& migrations) {
  if (migrations.empty()) return kEmptyChecksum;
  rapidjson::Document d(rapidjson::kArrayType);
  auto& a = d.GetAllocator();
  for (const MigrationRow* m : sorted_rows(migrations)) {
    rapidjson::Value row(rapidjson::kObjectType);
    row.AddMember("plugin", str(m->plugin, a), a);
    row.AddMember("name", str(m->name, a), a);
    row.AddMember("checksum", str(m->checksum, a), a);
    row.AddMember("applied", m->applied, a);
    if (m->applied_at) {
      row.AddMember("applied_at", str(*m->applied_at, a), a);
    } else {
      row.AddMember("applied_at", rapidjson::Value(), a);
    }
    d.PushBack(row, a);
  }
  return short_checksum(canonical_json(d));
}

Checksums compute_checksums(const HostSnapshot& s) {
  return {schema_checksum(s), migrations_checksum(s.migrations),
          short_checksum(canonical_json(s.settings)), routes_checksum(s.routes)};
}

}  // namespace studio
