// bulk_load.hpp — the built-in csv type's fast path: a first pass checks and types every changed
// file (malformed lines with their line numbers, nothing written), then Warehouse::load_csv streams
// the files straight into the warehouse with prepared inserts in one transaction. Rows are never
// held in memory as a whole nor turned into the JSON of the `source` protocol (which stays for
// third-party types and for invoking `csv` as a connector).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "csv_reader.hpp"
#include "source_types.hpp"

namespace dango {

struct CsvFilePlan {
  std::string path;        // the file to stream
  std::string name;        // its name in the folder (_dango_filename)
  std::string mtime_text;  // ISO-8601 UTC (_dango_file_mtime)
  char delimiter = ',';
  char quote = '"';
  bool header = true;
  std::vector<std::string> columns;  // the file's column names, in file order
  size_t rows = 0;                   // data records counted by the first pass
  size_t size = 0;                   // bytes and mtime seen by the first pass: the second pass
  int64_t mtime_ns = 0;              // fails when they changed
  bool utf8 = true;                  // false: read as Latin-1
};

struct CsvLoadPlan {
  // Notes, errors, the new state and, when anything changes, the one table `<source>` with its
  // merged, typed columns (the _dango_* ones included), replace flag and delete_values; no rows.
  SourceBatch batch;
  std::vector<CsvFilePlan> files;  // in name order; every one has rows
  std::string loaded_at;
  size_t rows() const;
};

// The first pass over the source's folder: same file rules as read_csv_source (new and updated
// files by mtime, deleted files' rows go, files without rows skipped with a note, full refresh
// reloads all). Memory: one record at a time (files are mapped; a file that is not UTF-8 is
// converted from Latin-1 in memory). Throws std::runtime_error when a file cannot be read.
CsvLoadPlan plan_csv_load(const ReadRequest& rq);

}  // namespace dango
