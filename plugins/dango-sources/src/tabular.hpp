// tabular.hpp — a table of text cells as a source type produces it, and the column types the
// warehouse stores. Shared by the CSV and JSON readers, the connector protocol and the loader.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dango {

// Column types, narrowest first: a column takes the narrowest type every non-empty cell fits.
enum class ColumnType { kInteger, kReal, kDate, kTimestamp, kText };

const char* type_name(ColumnType t);  // "integer", "real", "date", "timestamp", "text"
std::optional<ColumnType> parse_type_name(std::string_view name);

// The narrowest type `cell` fits (never called for empty cells, which are NULL).
ColumnType cell_type(std::string_view cell);
// The type a column of types `a` and `b` needs (integer+real = real, anything else mixed = text).
ColumnType widen(ColumnType a, ColumnType b);

struct Column {
  std::string name;
  ColumnType type = ColumnType::kText;
};

// One table's rows; a missing value is nullopt (SQL NULL). Every row has columns.size() cells.
struct Table {
  std::vector<Column> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  // Per column, whether any cell had a value; filled only when the rows travel separately
  // (the bulk CSV path), so a column without values is not taken for a type change.
  std::vector<bool> column_has_values;
};

// Sets each column's type from its cells.
void infer_column_types(Table& table);

// A problem in an input file, with the 1-based line it was found on (0: the whole file).
struct InputError {
  std::string file;
  size_t line = 0;
  std::string message;
};

}  // namespace dango
