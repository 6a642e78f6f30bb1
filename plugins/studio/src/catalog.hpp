// catalog.hpp — the database's real tables (columns, foreign keys) read from its catalog:
// SQLite's sqlite_master + pragma_table_info/pragma_foreign_key_list, PostgreSQL's
// information_schema. These are Studio's "models".
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace studio {

struct Column {
  std::string name;
  std::string type;
  bool not_null = false;
  bool primary_key = false;
};

struct ForeignKey {
  std::string column;
  std::string references;  // the referenced table
};

struct Table {
  std::string name;
  std::vector<Column> columns;  // in declaration order
  std::vector<ForeignKey> foreign_keys;
  bool referenced = false;  // another table has a foreign key to this one
};

struct Catalog {
  std::vector<Table> tables;  // sorted by name
};

// Runs one SELECT and returns every row as text (NULL as ""). The SQL casts what it selects to
// text, so the reader never depends on how a dialect types catalog columns.
using Rows = std::vector<std::vector<std::string>>;
using QueryFn = std::function<Rows(const std::string& sql)>;

// `dialect` is "sqlite" or "postgresql"; throws std::runtime_error for any other.
Catalog read_catalog(const std::string& dialect, const QueryFn& query);

// "fixture_notes" -> "FixtureNotes": the model name Studio shows for a table.
std::string model_name(const std::string& table);

}  // namespace studio
