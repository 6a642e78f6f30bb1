// query.hpp — POST /api/query: one read-only SQL query against the warehouse, refused or stopped
// by the database itself (plughost/read_only_query.hpp), with Dango's caps and answers.
#pragma once

#include <plughost/plugin.hpp>
#include <string>
#include <string_view>

#include "routes.hpp"

namespace dango {

// Longest SQL text accepted, in characters (NOTES: > 102,400 chars is 422).
constexpr size_t kMaxQueryChars = 102400;

// `{sql}` → `{columns, rows, row_count, truncated, warning, execution_time_ms}`. Errors: 400
// DANGO-Q001 empty, DANGO-Q002 not a single SELECT / WITH…SELECT (or refused by the database),
// 404 DANGO-Q003 no warehouse, 408 DANGO-Q004 timed out, 400 DANGO-Q005 failed, 422 too long or
// no JSON body with a string `sql`.
void run_query(Context&, const sdk::Request&, sdk::Response&);

// `text` with every invalid UTF-8 sequence replaced by U+FFFD (a value read from the warehouse
// may hold any bytes; JSON must not).
std::string valid_utf8(std::string_view text);

}  // namespace dango
