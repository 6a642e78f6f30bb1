// csv_reader.hpp — reads one CSV file into a typed Table: encoding (UTF-8, BOM stripped, else
// Latin-1), delimiter and quote inference, header, RFC 4180 quoting, malformed lines reported with
// their line numbers.
#pragma once

#include <array>
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

// Streams the records of a CSV text one at a time, RFC 4180 with a configurable delimiter and
// quote, CRLF or LF line ends, blank lines skipped. Unquoted fields are views into `text` (no
// copy); quoted ones are unescaped into a buffer of the stream. Memory: one record at a time.
class CsvStream {
 public:
  CsvStream(std::string_view text, char delimiter, char quote);
  // False at the end of input. On a malformed record `error` is set, fields() is empty and the
  // stream resumes on the next line.
  bool next(std::string& error);
  size_t line() const { return record_line_; }  // 1-based line where the last record started
  // The last record's fields; valid until the next call to next().
  const std::vector<std::string_view>& fields() const { return fields_; }

 private:
  struct Span {  // a quoted field: fields_[field] is scratch_[begin, begin + size)
    size_t field;
    size_t begin;
    size_t size;
  };
  void advance_line_end();
  void skip_rest_of_line();

  std::string_view text_;
  char delimiter_;
  char quote_;
  size_t at_ = 0;
  size_t line_ = 1;
  size_t record_line_ = 0;
  std::array<bool, 256> ends_field_{};  // delimiter, quote, CR, LF: where an unquoted field stops
  std::string scratch_;
  std::vector<Span> spans_;
  std::vector<std::string_view> fields_;
};

// The delimiter and quote of `text`: the options' or inferred from its first 20 lines.
void csv_dialect(std::string_view text, const CsvOptions& options, char& delimiter, char& quote);
// Column names from the first record: its trimmed, de-duplicated fields when `header`, else
// column_1, column_2, … (types left as text).
std::vector<Column> csv_columns(const std::vector<std::string_view>& first_record, bool header);

// Parses `text` (a whole file). At most `max_errors` errors are collected.
CsvResult read_csv(std::string_view text, const CsvOptions& options, const std::string& file_name,
                   size_t max_errors = 20);

// True when `text` is valid UTF-8 throughout.
bool is_utf8(std::string_view text);
// `text` as UTF-8: a UTF-8 BOM is dropped; bytes that are not valid UTF-8 are read as Latin-1.
std::string to_utf8(std::string_view text);

}  // namespace dango
