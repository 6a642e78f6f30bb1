// source_types.hpp — what a source type reads, and the `source` connector protocol through which
// every type (the built-in csv and json, and any third party's) hands its rows to a sync.
//
// Protocol (docs/sdk-guide.md, "Source types"): a connector of kind `source`, operation `read`.
//   input  {"source": name, "options": {...}, "folder": path, "state": {...} | null,
//           "full_refresh": bool, "loaded_at": ISO-8601}
//   output {"tables": [{"name", "columns": [{"name", "type"}], "rows": [[…], …],
//                       "mode": "append" | "replace",
//                       "delete_where": {"column", "values": […]}}],
//           "state": {...}, "errors": [{"file", "line", "message"}], "notes": ["…"]}
// `state` is stored with the load, in the same warehouse transaction, and handed back next time.
#pragma once

#include <string>
#include <vector>

#include "tabular.hpp"

namespace dango {

struct ReadRequest {
  std::string source;
  std::string options_json = "{}";
  std::string folder;
  std::string state_json;  // empty: first sync
  bool full_refresh = false;
  std::string loaded_at;  // ISO-8601 UTC, the sync's start
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

// The protocol's JSON, both ways.
std::string read_request_json(const ReadRequest& rq);
ReadRequest parse_read_request(std::string_view json);  // throws std::invalid_argument
std::string batch_json(const SourceBatch& batch);
SourceBatch parse_batch(std::string_view json);  // throws std::invalid_argument

}  // namespace dango
