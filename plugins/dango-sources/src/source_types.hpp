// source_types.hpp — what a source type reads, and the `source` connector protocol through which
// every type (the built-in csv and json, and any third party's) hands its rows to a sync.
//
// Protocol (docs/sdk-guide.md, "Source types"): a connector of kind `source`, operation `read`.
//   input  {"source": name, "options": {...}, "folder": path, "state": {...} | null,
//           "full_refresh": bool, "loaded_at": ISO-8601,
//           "start_date": "YYYY-MM-DD" | null, "end_date": "YYYY-MM-DD" | null}
//   output {"tables": [{"name", "columns": [{"name", "type"}], "rows": [[…], …],
//                       "mode": "append" | "replace",
//                       "delete_where": {"column", "values": […]}}],
//           "state": {...}, "errors": [{"file", "line", "message"}], "notes": ["…"]}
// `state` is stored with the load, in the same warehouse transaction, and handed back next time.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "csv_reader.hpp"
#include "tabular.hpp"

namespace dango {

struct ReadRequest {
  std::string source;
  std::string options_json = "{}";
  std::string folder;
  std::string state_json;  // empty: first sync
  bool full_refresh = false;
  std::string loaded_at;   // ISO-8601 UTC, the sync's start
  std::string start_date;  // YYYY-MM-DD or empty: the sync request's optional date window
  std::string end_date;    // (inclusive); types with a date column or parameter honour them
};

struct TableLoad {
  std::string name;  // within raw_<source>
  Table table;       // column types set
  bool replace = false;
  std::string delete_column;  // rows whose delete_column is in delete_values go first
  std::vector<std::string> delete_values;
};

struct SourceBatch {
  std::vector<TableLoad> tables;
  std::string state_json = "{}";
  std::vector<InputError> errors;  // any: the sync fails and nothing is loaded
  std::vector<std::string> notes;  // lines for the source's log
};

// Built-in file types: `csv` (*.csv) and `json` (*.json arrays, *.jsonl / *.ndjson lines) read the
// files of the source's folder into table `<source>` with _dango_filename, _dango_file_mtime and
// _dango_loaded_at; new and updated (mtime) files load, deleted files' rows go, empty files are
// skipped. Throws std::runtime_error when the folder cannot be read.
SourceBatch read_csv_source(const ReadRequest& rq);
SourceBatch read_json_source(const ReadRequest& rq);

// Shared by the file types and the bulk CSV path (bulk_load.hpp).
// Regular files (not symlinks) of `folder` whose lower-cased extension is one of `extensions`,
// name → mtime in nanoseconds.
std::map<std::string, int64_t> folder_files(const std::string& folder,
                                            const std::vector<std::string>& extensions);
// The `files` map of a file type's state, and the state holding one.
std::map<std::string, int64_t> state_files(const std::string& state_json);
std::string files_state(const std::map<std::string, int64_t>& files);
// The csv type's options (delimiter, quote, header) from its `options` object.
CsvOptions csv_options(const rapidjson::Value& options);
// A JSON value as a cell (strings as they are, other values as JSON text, null as NULL), and an
// object appended to `table` as a row (new keys become columns; `index`: name → position).
std::optional<std::string> json_cell(const rapidjson::Value& v);
void add_json_record(Table& table, std::map<std::string, size_t>& index,
                     const rapidjson::Value& record);

// The protocol's JSON, both ways.
std::string read_request_json(const ReadRequest& rq);
ReadRequest parse_read_request(std::string_view json);  // throws std::invalid_argument
std::string batch_json(const SourceBatch& batch);
SourceBatch parse_batch(std::string_view json);  // throws std::invalid_argument

}  // namespace dango
