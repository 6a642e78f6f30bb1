#include "catalog.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <stdexcept>

namespace studio {
namespace {

// Every column of every user table, in declaration order.
constexpr const char* kSqliteColumns =
    "SELECT m.name, p.name, CAST(p.type AS TEXT), CAST(p.\"notnull\" AS TEXT),"
    " CAST(p.pk AS TEXT)"
    " FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p"
    " WHERE m.type = 'table' AND substr(m.name, 1, 7) <> 'sqlite_'"
    " ORDER BY m.name, p.cid";
constexpr const char* kSqliteForeignKeys =
    "SELECT m.name, f.\"from\", f.\"table\""
    " FROM sqlite_master AS m JOIN pragma_foreign_key_list(m.name) AS f"
    " WHERE m.type = 'table' AND substr(m.name, 1, 7) <> 'sqlite_'"
    " ORDER BY m.name, f.id, f.seq";

constexpr const char* kPostgresColumns =
    "SELECT c.table_name::text, c.column_name::text, c.data_type::text,"
    " CASE WHEN c.is_nullable = 'NO' THEN '1' ELSE '0' END,"
    " CASE WHEN EXISTS (SELECT 1 FROM information_schema.table_constraints tc"
    "   JOIN information_schema.key_column_usage k ON k.constraint_name = tc.constraint_name"
    "    AND k.table_schema = tc.table_schema AND k.table_name = tc.table_name"
    "   WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = c.table_schema"
    "    AND tc.table_name = c.table_name AND k.column_name = c.column_name)"
    " THEN '1' ELSE '0' END"
    " FROM information_schema.columns c JOIN information_schema.tables t"
    "  ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
    " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
    " ORDER BY c.table_name, c.ordinal_position";
constexpr const char* kPostgresForeignKeys =
    "SELECT tc.table_name::text, k.column_name::text, u.table_name::text"
    " FROM information_schema.table_constraints tc"
    " JOIN information_schema.key_column_usage k ON k.constraint_name = tc.constraint_name"
    "  AND k.table_schema = tc.table_schema"
    " JOIN information_schema.constraint_column_usage u ON u.constraint_name = tc.constraint_name"
    "  AND u.constraint_schema = tc.constraint_schema"
    " WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()"
    " ORDER BY tc.table_name, tc.constraint_name, k.ordinal_position";

const std::string& cell(const std::vector<std::string>& row, size_t i) {
  static const std::string kEmpty;
  return i < row.size() ? row[i] : kEmpty;
}

}  // namespace

Catalog read_catalog(const std::string& dialect, const QueryFn& query) {
  const char* columns_sql = nullptr;
  const char* keys_sql = nullptr;
  if (dialect == "sqlite") {
    columns_sql = kSqliteColumns;
    keys_sql = kSqliteForeignKeys;
  } else if (dialect == "postgresql") {
    columns_sql = kPostgresColumns;
    keys_sql = kPostgresForeignKeys;
  } else {
    throw std::runtime_error("no catalog reader for dialect \"" + dialect + "\"");
  }
  std::map<std::string, Table> tables;
  for (const auto& row : query(columns_sql)) {
    Table& t = tables[cell(row, 0)];
    t.name = cell(row, 0);
    t.columns.push_back({cell(row, 1), cell(row, 2), cell(row, 3) == "1", cell(row, 4) != "0"});
  }
  for (const auto& row : query(keys_sql)) {
    auto from = tables.find(cell(row, 0));
    if (from == tables.end()) continue;
    from->second.foreign_keys.push_back({cell(row, 1), cell(row, 2)});
    auto to = tables.find(cell(row, 2));
    if (to != tables.end()) to->second.referenced = true;
  }
  Catalog catalog;
  for (auto& [name, table] : tables) catalog.tables.push_back(std::move(table));
  return catalog;
}

std::string model_name(const std::string& table) {
  std::string out;
  bool upper = true;
  for (char c : table) {
    if (c == '_' || c == '-' || c == '.' || c == ' ') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out.empty() ? table : out;
}

}  // namespace studio
