// csv_reader.hpp — reads one CSV file into a typed Table: encoding (UTF-8, BOM stripped, else
// Latin-1), delimiter and quote inference, header, RFC 4180 quoting, malformed lines reported with
// their line numbers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tabular.hpp"

namespace dango {

struct CsvOptions {
  std::optional<char> delimiter;  // nullopt: infer from , ; TAB |
  std::optional<char> quote;      // nullopt: infer " or '
  bool header = true;             // false: columns are named column_1, column_2, …
};

struct CsvResult {
  Table table;                     // column types not yet inferred
  std::vector<InputError> errors;  // non-empty: the file must not be loaded
  char delimiter = ',';
  char quote = '"';
};

// Parses `text` (a whole file). At most `max_errors` errors are collected.
CsvResult read_csv(std::string_view text, const CsvOptions& options, const std::string& file_name,
                   size_t max_errors = 20);

// `text` as UTF-8: a UTF-8 BOM is dropped; bytes that are not valid UTF-8 are read as Latin-1.
std::string to_utf8(std::string_view text);

}  // namespace dango
