// warehouse_read.hpp — what the catalog, governance, models and monitoring ask of the warehouse:
// a table's columns, the tables of a layer, rows of a query as text, and statements run in one
// write transaction. Thread-safe like Warehouse: each call takes its own pooled session.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "warehouse.hpp"

namespace dango {

struct ColumnInfo {
  std::string name;
  std::string type;  // as declared ("INTEGER", "TEXT", "double precision"…)
  bool nullable = true;
};

using Cell = std::optional<std::string>;  // nullopt: SQL NULL

struct QueryRows {
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;
};

// Columns of `table` in `layer` (raw_<source>, staging, marts); empty when the table is absent.
std::vector<ColumnInfo> table_columns(Warehouse& w, const std::string& layer,
                                      const std::string& table);
// "table", "view" or "" (absent) for `table` in `layer`.
std::string object_kind(Warehouse& w, const std::string& layer, const std::string& table);
// Names of the tables and views of `layer`, sorted.
std::vector<std::string> layer_tables(Warehouse& w, const std::string& layer);
// At most `max_rows` rows of `sql`, every value as text. Throws on a database error.
QueryRows select_rows(Warehouse& w, const std::string& sql, size_t max_rows);
// The first value of the first row as an integer (0 when there is none or it is NULL).
int64_t select_count(Warehouse& w, const std::string& sql);
// Runs `statements` in order in one transaction (BEGIN IMMEDIATE on SQLite); all or nothing.
void execute_statements(Warehouse& w, const std::vector<std::string>& statements);

}  // namespace dango
