// sql_source.hpp — the built-in `sql` source type: tables and queries of any database SOCI opens
// (sqlite://…, postgresql://…), typed from the database's own column types, incremental by a
// cursor column.
//
// Options: `url` (required; its password is masked in every answer), `tables` (names, or objects
// {name, cursor_column, primary_key, date_column}), `queries` ({table name: "SELECT …"}), and the
// defaults for every table and query: `cursor_column`, `primary_key`, `date_column`.
//
// Each table or query becomes table raw_<source>.<name> (a table's name without its schema). With
// a cursor column, a sync after the first reads only rows whose cursor is greater than the largest
// one loaded (kept in the state, with its type) and appends them; rows with a primary key already
// loaded are replaced. Without one (or on a full refresh) the table is reloaded whole. The sync's
// start_date/end_date (inclusive) restrict the rows read to that window of `date_column` (default:
// the cursor column); the window's rows are appended (replacing by primary key) and the cursor only
// moves forward.
#pragma once

#include "source_types.hpp"

namespace dango {

// Throws std::runtime_error (the URL's password never in the message) when the database cannot be
// read, std::invalid_argument for bad options.
SourceBatch read_sql_source(const ReadRequest& rq);

}  // namespace dango
