// upload.hpp — POST /api/sources/{name}/upload-csv: a multipart/form-data file written into the
// source's upload folder (temp file, fsync, no-clobber rename), optionally followed by a sync.
#pragma once

#include <optional>
#include <plughost/plugin.hpp>
#include <string>
#include <string_view>

#include "routes.hpp"

namespace dango {

// Form field `file` (required, with a filename) and `trigger_sync` (form field or query
// parameter: true/false/1/0/yes/no/on/off). Answers `{success, message, source_name, filename,
// file_path, size_bytes, format, sync_triggered, run_id}` and publishes `csv_uploaded`. Errors:
// 400 DANGO-F001 not multipart / malformed / no file part, DANGO-F002 bad filename or extension
// for the source type, 409 DANGO-F003 a file of that name exists, 413 DANGO-F004 over
// upload.max_bytes, 415 DANGO-F005 Parquet or binary content; a sync asked while one runs: 409
// DANGO-SYNC-004 before anything is written.
void upload_file(Context&, const sdk::Request&, sdk::Response&);

// The upload's file name when it is safe to create in a folder: a plain name (no '/', '\\', NUL
// or control character, not "." or "..", not hidden, at most 255 bytes, valid UTF-8); nullopt
// otherwise.
std::optional<std::string> safe_upload_name(std::string_view filename);

// What the bytes look like: "parquet", "binary", "json" (starts with '[' or '{' after a BOM and
// blanks) or "text".
std::string sniff_content(std::string_view data);

}  // namespace dango
