// Fuzzes dango-sources' CSV reader (plugins/dango-sources/src/csv_reader.*): encoding, dialect
// inference, RFC 4180 records, header names and typed columns. The first byte picks the options:
//   bits 0-2  delimiter: 0 infer, 1 ',', 2 ';', 3 TAB, 4 '|' (5-7 infer)
//   bits 3-4  quote: 0 infer, 1 '"', 2 '\'' (3 infer)
//   bit 5     header row
//   bit 6     round trip: the rest is cells separated by NUL, written as CSV (every cell quoted,
//             bit 7 = CRLF line ends, the second byte = column count 1-4) and read back; the
//             reader must return exactly those cells.
// Otherwise the rest is a file, checked for invariants rather than only "no crash": errors name a
// line of the input, in order; every row has the header's width and no empty-string cell (empty is
// NULL); column names are unique and non-empty; records = rows + errors (+ header); the error cap
// keeps the first errors; the same input parses the same twice; inferred column types hold for
// every cell and typed cells convert.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "csv_reader.hpp"
#include "tabular.hpp"

namespace {

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "csv_fuzz: invariant broken: %s\n", what);
  __builtin_trap();
}

bool same(const dango::CsvResult& a, const dango::CsvResult& b) {
  if (a.delimiter != b.delimiter || a.quote != b.quote || a.table.rows != b.table.rows ||
      a.table.columns.size() != b.table.columns.size() || a.errors.size() != b.errors.size()) {
    return false;
  }
  for (size_t i = 0; i < a.table.columns.size(); ++i) {
    if (a.table.columns[i].name != b.table.columns[i].name) return false;
  }
  for (size_t i = 0; i < a.errors.size(); ++i) {
    if (a.errors[i].line != b.errors[i].line || a.errors[i].message != b.errors[i].message) {
      return false;
    }
  }
  return true;
}

// A typed cell must convert the way the loader will store it.
void check_typed(std::string_view cell, dango::ColumnType type) {
  std::string text(cell);
  char* end = nullptr;
  errno = 0;
  switch (type) {
    case dango::ColumnType::kInteger:
      std::strtoll(text.c_str(), &end, 10);
      check(errno == 0 && *end == '\0', "integer cell converts to a 64-bit integer");
      break;
    case dango::ColumnType::kReal: {
      double v = std::strtod(text.c_str(), &end);
      check(*end == '\0' && std::isfinite(v), "real cell converts to a finite double");
      break;
    }
    case dango::ColumnType::kDate:
      check(text.size() == 10 && text[4] == '-' && text[7] == '-', "date cell is YYYY-MM-DD");
      break;
    case dango::ColumnType::kTimestamp:
      check(text.size() >= 16 && (text[10] == 'T' || text[10] == ' '), "timestamp cell shape");
      break;
    case dango::ColumnType::kText: break;
  }
}

void round_trip(std::string_view rest, char delimiter, char quote, bool crlf, size_t width) {
  std::vector<std::string> cells;
  size_t at = 0;
  for (;;) {
    size_t nul = rest.find('\0', at);
    cells.emplace_back(rest.substr(at, nul == std::string_view::npos ? nul : nul - at));
    if (nul == std::string_view::npos) break;
    at = nul + 1;
  }
  cells.resize(cells.size() / width * width);
  std::string text;
  std::vector<std::vector<std::optional<std::string>>> expected;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i % width == 0) expected.emplace_back();
    expected.back().push_back(cells[i].empty() ? std::nullopt
                                               : std::optional<std::string>(cells[i]));
    text += quote;
    for (char c : cells[i]) {
      if (c == quote) text += quote;
      text += c;
    }
    text += quote;
    text += i % width == width - 1 ? (crlf ? "\r\n" : "\n") : std::string(1, delimiter);
  }
  dango::CsvOptions options;
  options.delimiter = delimiter;
  options.quote = quote;
  options.header = false;
  dango::CsvResult r = dango::read_csv(text, options, "t.csv");
  check(r.errors.empty(), "a written table reads back without errors");
  check(r.table.rows == expected, "a written table reads back cell for cell");
  check(r.table.columns.size() == (expected.empty() ? 0 : width), "round trip width");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  static const char kDelimiters[] = {0, ',', ';', '\t', '|', 0, 0, 0};
  static const char kQuotes[] = {0, '"', '\'', 0};
  char delimiter = kDelimiters[flags & 7];
  char quote = kQuotes[(flags >> 3) & 3];
  if (flags & 0x40) {
    if (rest.empty()) return 0;
    size_t width = 1 + static_cast<uint8_t>(rest[0]) % 4;
    round_trip(rest.substr(1), delimiter ? delimiter : ',', quote ? quote : '"', flags & 0x80,
               width);
    return 0;
  }
  dango::CsvOptions options;
  if (delimiter) options.delimiter = delimiter;
  if (quote) options.quote = quote;
  options.header = (flags & 0x20) != 0;

  std::string text = dango::to_utf8(rest);
  check(dango::is_utf8(text), "to_utf8 gives UTF-8");
  if (dango::is_utf8(rest) && rest.substr(0, 3) != "\xEF\xBB\xBF") {
    check(text == rest, "UTF-8 without a BOM is kept as is");
  }
  // Lines as the reader counts them: LF, CRLF or a lone CR ends one.
  size_t lines = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))) {
      ++lines;
    }
  }

  dango::CsvResult all =
      dango::read_csv(text, options, "f.csv", std::numeric_limits<size_t>::max());
  dango::CsvResult capped = dango::read_csv(text, options, "f.csv");
  check(capped.table.rows == all.table.rows, "the error cap does not change the rows");
  check(capped.errors.size() == std::min<size_t>(all.errors.size(), 20), "at most 20 errors kept");
  for (size_t i = 0; i < capped.errors.size(); ++i) {
    check(capped.errors[i].line == all.errors[i].line, "the cap keeps the first errors");
  }
  size_t previous = 0;
  for (const auto& e : all.errors) {
    check(e.line >= 1 && e.line <= lines, "an error names a line of the input");
    check(e.line >= previous, "errors in line order");
    check(e.file == "f.csv" && !e.message.empty(), "an error names the file and says why");
    previous = e.line;
  }
  std::set<std::string> names;
  for (const auto& c : all.table.columns) {
    check(!c.name.empty(), "column names are not empty");
    check(names.insert(c.name).second, "column names are unique");
  }
  for (const auto& row : all.table.rows) {
    check(row.size() == all.table.columns.size(), "every row has the header's width");
    for (const auto& cell : row) check(!cell || !cell->empty(), "an empty cell is NULL");
  }
  if (options.delimiter) check(all.delimiter == *options.delimiter, "the given delimiter is used");
  if (options.quote) check(all.quote == *options.quote, "the given quote is used");

  // The stream on its own sees one record per row, error or header.
  dango::CsvStream stream(text, all.delimiter, all.quote);
  std::string error;
  size_t records = 0;
  size_t good = 0;
  size_t last_line = 0;
  while (stream.next(error)) {
    ++records;
    good += error.empty() ? 1 : 0;
    check(stream.line() >= 1 && stream.line() <= lines && stream.line() >= last_line,
          "records start on increasing lines of the input");
    check(error.empty() || stream.fields().empty(), "a malformed record has no fields");
    last_line = stream.line();
  }
  size_t header = options.header && good > 0 ? 1 : 0;
  check(records == all.table.rows.size() + all.errors.size() + header,
        "records = rows + errors + header");

  check(same(all, dango::read_csv(text, options, "f.csv", std::numeric_limits<size_t>::max())),
        "the same input parses the same");

  dango::Table typed = all.table;
  dango::infer_column_types(typed);
  for (size_t c = 0; c < typed.columns.size(); ++c) {
    for (const auto& row : typed.rows) {
      if (!row[c]) continue;
      dango::ColumnType t = dango::cell_type(*row[c]);
      check(dango::widen(typed.columns[c].type, t) == typed.columns[c].type,
            "a column's type holds every cell");
      if (typed.columns[c].type == t) check_typed(*row[c], t);
    }
  }
  return 0;
}
