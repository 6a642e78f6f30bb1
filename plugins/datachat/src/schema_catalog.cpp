#include "schema_catalog.hpp"

#include <algorithm>
#include <cctype>

#include "sql_text.hpp"

namespace datachat {

using plughost::readonly::Dialect;
using plughost::readonly::Limits;
using plughost::readonly::QueryResult;
using plughost::readonly::ReadOnlyDatabase;
using Alloc = rapidjson::Document::AllocatorType;

namespace {

bool contains_any(const std::string& s, std::initializer_list<const char*> words) {
  for (const char* w : words) {
    if (s.find(w) != std::string::npos) return true;
  }
  return false;
}

std::string cell_text(const plughost::readonly::Value& v) {
  using T = plughost::readonly::Value::Type;
  switch (v.type) {
    case T::kText: return v.text;
    case T::kInteger: return std::to_string(v.integer);
    case T::kReal: return std::to_string(v.real);
    default: return "";
  }
}

QueryResult query(const ReadOnlyDatabase& db, const std::string& sql) {
  Limits limits;
  limits.max_rows = 10000;
  limits.timeout_ms = 10000;
  return db.run(sql, limits);
}

bool is_text_type(const std::string& type) {
  return type.empty() || contains_any(type, {"char", "text", "clob", "string"});
}

void read_values(const ReadOnlyDatabase& db, const Table& t, Column& c) {
  if (c.primary_key || c.temporal() || c.numeric() || !is_text_type(c.type)) return;
  std::string col = quote_identifier(c.name);
  auto r =
      query(db, "SELECT DISTINCT " + col + " FROM " + quote_identifier(t.name) + " WHERE " + col +
                    " IS NOT NULL ORDER BY 1 LIMIT " + std::to_string(kMaxCategoricalValues + 1));
  c.all_values = r.rows.size() <= kMaxCategoricalValues;
  size_t keep = c.all_values ? r.rows.size() : 5;
  for (size_t i = 0; i < keep && i < r.rows.size(); ++i)
    c.values.push_back(cell_text(r.rows[i][0]));
}

std::vector<std::string> table_names(const ReadOnlyDatabase& db) {
  std::string sql =
      db.dialect() == Dialect::kSqlite
          ? "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE "
            "'sqlite\\_%' ESCAPE '\\' ORDER BY name"
          : "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type IN ('BASE TABLE', 'VIEW') ORDER BY 1";
  std::vector<std::string> out;
  for (const auto& row : query(db, sql).rows) out.push_back(cell_text(row[0]));
  return out;
}

// Plain PRAGMA statements: the table-valued pragma_*() functions declare a virtual table, which
// the read-only authorizer rightly refuses.
void read_sqlite_table(const ReadOnlyDatabase& db, Table& t) {
  std::string name = quote_literal(t.name);
  for (const auto& row : query(db, "PRAGMA table_info(" + name + ")").rows) {
    Column c;
    c.name = cell_text(row[1]);
    c.type = lower_ascii(cell_text(row[2]));
    c.primary_key = row[5].integer > 0;
    t.columns.push_back(std::move(c));
  }
  for (const auto& row : query(db, "PRAGMA foreign_key_list(" + name + ")").rows) {
    t.foreign_keys.push_back({cell_text(row[3]), cell_text(row[2]), cell_text(row[4])});
  }
}

void read_postgresql_table(const ReadOnlyDatabase& db, Table& t) {
  std::string name = quote_literal(t.name);
  for (const auto& row :
       query(db,
             "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = "
             "current_schema() AND table_name = " +
                 name + " ORDER BY ordinal_position")
           .rows) {
    Column c;
    c.name = cell_text(row[0]);
    c.type = lower_ascii(cell_text(row[1]));
    t.columns.push_back(std::move(c));
  }
  const std::string joins =
      " FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage kcu "
      "ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema ";
  for (const auto& row :
       query(db, "SELECT kcu.column_name" + joins +
                     "WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = "
                     "current_schema() AND tc.table_name = " +
                     name)
           .rows) {
    for (auto& c : t.columns) c.primary_key = c.primary_key || c.name == cell_text(row[0]);
  }
  for (const auto& row :
       query(db, "SELECT kcu.column_name, ccu.table_name, ccu.column_name" + joins +
                     "JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name "
                     "= tc.constraint_name AND ccu.table_schema = tc.table_schema WHERE "
                     "tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema() "
                     "AND tc.table_name = " +
                     name)
           .rows) {
    t.foreign_keys.push_back({cell_text(row[0]), cell_text(row[1]), cell_text(row[2])});
  }
}

std::string primary_key_of(const Schema& s, const std::string& table) {
  if (const Table* t = s.table(table)) {
    for (const auto& c : t->columns) {
      if (c.primary_key) return c.name;
    }
  }
  return "id";
}

std::string member_text(const rapidjson::Value& o, const char* key) {
  if (!o.IsObject()) return "";
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

rapidjson::Value text(const std::string& s, Alloc& a) {
  return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a);
}

}  // namespace

bool Column::numeric() const {
  return contains_any(type, {"int", "real", "floa", "doub", "num", "dec", "money"});
}

bool Column::temporal() const {
  return contains_any(type, {"date", "time"});
}

const Column* Table::column(const std::string& n) const {
  for (const auto& c : columns) {
    if (c.name == n) return &c;
  }
  return nullptr;
}

const Table* Schema::table(const std::string& n) const {
  for (const auto& t : tables) {
    if (t.name == n) return &t;
  }
  return nullptr;
}

Schema read_schema(const ReadOnlyDatabase& db, const std::set<std::string>& only) {
  Schema s;
  s.dialect = db.dialect_name();
  for (const auto& name : table_names(db)) {
    if (!only.empty() && !only.count(lower_ascii(name))) continue;
    Table t;
    t.name = name;
    if (db.dialect() == Dialect::kSqlite) {
      read_sqlite_table(db, t);
    } else {
      read_postgresql_table(db, t);
    }
    auto count = query(db, "SELECT COUNT(*) FROM " + quote_identifier(t.name));
    t.row_count = count.rows.empty() ? 0 : count.rows[0][0].integer;
    for (auto& c : t.columns) read_values(db, t, c);
    s.tables.push_back(std::move(t));
  }
  // A foreign key without a target column refers to the primary key; keys to tables left out
  // are dropped, so a translator never joins outside the allowed set.
  for (auto& t : s.tables) {
    for (auto& fk : t.foreign_keys) {
      if (fk.to.empty()) fk.to = primary_key_of(s, fk.table);
    }
    t.foreign_keys.erase(std::remove_if(t.foreign_keys.begin(), t.foreign_keys.end(),
                                        [&](const ForeignKey& fk) { return !s.table(fk.table); }),
                         t.foreign_keys.end());
  }
  return s;
}

rapidjson::Value schema_to_json(const Schema& s, Alloc& a) {
  rapidjson::Value out(rapidjson::kObjectType);
  out.AddMember("dialect", text(s.dialect, a), a);
  rapidjson::Value tables(rapidjson::kArrayType);
  for (const auto& t : s.tables) {
    rapidjson::Value to(rapidjson::kObjectType);
    to.AddMember("name", text(t.name, a), a);
    to.AddMember("row_count", t.row_count, a);
    rapidjson::Value cols(rapidjson::kArrayType);
    for (const auto& c : t.columns) {
      rapidjson::Value co(rapidjson::kObjectType);
      co.AddMember("name", text(c.name, a), a);
      co.AddMember("type", text(c.type, a), a);
      co.AddMember("primary_key", c.primary_key, a);
      if (!c.values.empty()) {
        rapidjson::Value vals(rapidjson::kArrayType);
        for (const auto& v : c.values) vals.PushBack(text(v, a), a);
        co.AddMember(rapidjson::StringRef(c.all_values ? "values" : "examples"), vals, a);
      }
      cols.PushBack(co, a);
    }
    to.AddMember("columns", cols, a);
    rapidjson::Value fks(rapidjson::kArrayType);
    for (const auto& fk : t.foreign_keys) {
      rapidjson::Value fo(rapidjson::kObjectType);
      fo.AddMember("column", text(fk.column, a), a);
      fo.AddMember("references_table", text(fk.table, a), a);
      fo.AddMember("references_column", text(fk.to, a), a);
      fks.PushBack(fo, a);
    }
    to.AddMember("foreign_keys", fks, a);
    tables.PushBack(to, a);
  }
  out.AddMember("tables", tables, a);
  return out;
}

Schema schema_from_json(const rapidjson::Value& v) {
  Schema s;
  s.dialect = member_text(v, "dialect");
  if (!v.IsObject() || !v.HasMember("tables") || !v["tables"].IsArray()) return s;
  for (const auto& to : v["tables"].GetArray()) {
    Table t;
    t.name = member_text(to, "name");
    if (t.name.empty()) continue;
    if (to.HasMember("row_count") && to["row_count"].IsInt64())
      t.row_count = to["row_count"].GetInt64();
    if (to.HasMember("columns") && to["columns"].IsArray()) {
      for (const auto& co : to["columns"].GetArray()) {
        Column c;
        c.name = member_text(co, "name");
        c.type = lower_ascii(member_text(co, "type"));
        c.primary_key = co.IsObject() && co.HasMember("primary_key") &&
                        co["primary_key"].IsBool() && co["primary_key"].GetBool();
        for (const char* key : {"values", "examples"}) {
          if (!co.IsObject() || !co.HasMember(key) || !co[key].IsArray()) continue;
          c.all_values = std::string(key) == "values";
          for (const auto& x : co[key].GetArray()) {
            if (x.IsString()) c.values.emplace_back(x.GetString());
          }
        }
        if (!c.name.empty()) t.columns.push_back(std::move(c));
      }
    }
    if (to.HasMember("foreign_keys") && to["foreign_keys"].IsArray()) {
      for (const auto& fo : to["foreign_keys"].GetArray()) {
        t.foreign_keys.push_back({member_text(fo, "column"), member_text(fo, "references_table"),
                                  member_text(fo, "references_column")});
      }
    }
    s.tables.push_back(std::move(t));
  }
  return s;
}

std::string schema_to_prompt(const Schema& s) {
  std::string out;
  for (const auto& t : s.tables) {
    out += t.name + "(";
    for (size_t i = 0; i < t.columns.size(); ++i) {
      const auto& c = t.columns[i];
      if (i) out += ", ";
      out += c.name + " " + (c.type.empty() ? "text" : c.type);
      if (c.primary_key) out += " primary key";
      for (const auto& fk : t.foreign_keys) {
        if (fk.column == c.name) out += " references " + fk.table + "." + fk.to;
      }
      if (c.all_values && !c.values.empty() && c.values.size() <= 20) {
        out += " one of [";
        for (size_t j = 0; j < c.values.size(); ++j) out += (j ? ", '" : "'") + c.values[j] + "'";
        out += "]";
      }
    }
    out += ")\n";
  }
  return out;
}

}  // namespace datachat
