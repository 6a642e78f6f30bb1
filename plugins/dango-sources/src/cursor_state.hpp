// cursor_state.hpp — the cursors of incremental source types (sql, http_json): the largest cursor
// column value loaded per table, with the column's type, kept in the source's state as
// {"cursors": {"<table>": {"value": "…", "type": "integer"}}}.
#pragma once

#include <map>
#include <string>

#include "tabular.hpp"

namespace dango {

struct Cursor {
  std::string value;  // empty: nothing loaded yet
  ColumnType type = ColumnType::kText;
};

// The cursors of a state (none for an empty or foreign state), and a state holding `cursors`.
std::map<std::string, Cursor> state_cursors(const std::string& state_json);
std::string cursors_state(const std::map<std::string, Cursor>& cursors);

// Whether cursor value `a` is past `b` in a column of type `t`: numerically for integer and real
// columns (as text when a value is not a number), else as text (ISO dates and timestamps order
// as text).
bool cursor_after(const std::string& a, const std::string& b, ColumnType t);

}  // namespace dango
