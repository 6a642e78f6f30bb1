#include "csv_reader.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <set>

namespace dango {

namespace {

// Length of the valid UTF-8 sequence at s[i], 0 if invalid.
size_t utf8_sequence(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    // 32 then 8 ASCII bytes at a time (the common case of a big file).
    uint64_t w[4];
    if (i + 32 <= s.size() && (std::memcpy(w, s.data() + i, 32),
                               (w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ULL) == 0) {
      i += 32;
      continue;
    }
    if (i + 8 <= s.size() && (std::memcpy(w, s.data() + i, 8), w[0] & 0x8080808080808080ULL) == 0) {
      i += 8;
      continue;
    }
    size_t n = utf8_sequence(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// The first lines of the file (at most `n`), split naively: enough to guess the dialect.
std::vector<std::string_view> sample_lines(std::string_view text, size_t n) {
  std::vector<std::string_view> lines;
  size_t at = 0;
  while (at < text.size() && lines.size() < n) {
    size_t end = text.find('\n', at);
    std::string_view line = text.substr(at, end == std::string_view::npos ? end : end - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) lines.push_back(line);
    if (end == std::string_view::npos) break;
    at = end + 1;
  }
  return lines;
}

// The candidate found the same non-zero number of times on most sample lines, preferring more
// occurrences; ',' when nothing qualifies.
char infer_delimiter(const std::vector<std::string_view>& lines) {
  const std::array<char, 4> candidates = {',', ';', '\t', '|'};
  char best = ',';
  size_t best_score = 0;
  for (char c : candidates) {
    if (lines.empty()) break;
    auto first = static_cast<size_t>(std::count(lines[0].begin(), lines[0].end(), c));
    if (first == 0) continue;
    size_t consistent = 0;
    for (auto line : lines) {
      if (static_cast<size_t>(std::count(line.begin(), line.end(), c)) == first) ++consistent;
    }
    size_t score = consistent * 1000 + first;
    if (score > best_score) {
      best_score = score;
      best = c;
    }
  }
  return best;
}

// The quote character that opens fields (at a line start or after the delimiter) more often.
char infer_quote(const std::vector<std::string_view>& lines, char delimiter) {
  size_t doubles = 0;
  size_t singles = 0;
  for (auto line : lines) {
    for (size_t i = 0; i < line.size(); ++i) {
      if (i != 0 && line[i - 1] != delimiter) continue;
      if (line[i] == '"') ++doubles;
      if (line[i] == '\'') ++singles;
    }
  }
  return singles > doubles ? '\'' : '"';
}

}  // namespace

CsvStream::CsvStream(std::string_view text, char delimiter, char quote)
    : text_(text), delimiter_(delimiter), quote_(quote) {
  for (char c : {delimiter, quote, '\r', '\n'}) ends_field_[static_cast<unsigned char>(c)] = true;
}

bool CsvStream::next(std::string& error) {
  fields_.clear();
  spans_.clear();
  scratch_.clear();
  error.clear();
  while (at_ < text_.size() && (text_[at_] == '\n' || text_[at_] == '\r')) advance_line_end();
  if (at_ >= text_.size()) return false;
  record_line_ = line_;
  for (;;) {
    if (at_ < text_.size() && text_[at_] == quote_) {
      // A quoted field is unescaped into scratch_; its span is resolved once the record is done
      // (scratch_ may move while it grows).
      size_t opened_line = line_;
      size_t begin = scratch_.size();
      ++at_;
      bool closed = false;
      while (at_ < text_.size()) {
        size_t stop = at_;
        while (stop < text_.size() && text_[stop] != quote_ && text_[stop] != '\n') ++stop;
        scratch_.append(text_.data() + at_, stop - at_);
        at_ = stop;
        if (at_ >= text_.size()) break;
        if (text_[at_] == '\n') {
          ++line_;
          scratch_ += '\n';
          ++at_;
          continue;
        }
        if (at_ + 1 < text_.size() && text_[at_ + 1] == quote_) {
          scratch_ += quote_;
          at_ += 2;
          continue;
        }
        ++at_;
        closed = true;
        break;
      }
      if (!closed) {
        error = "unterminated quoted field opened on line " + std::to_string(opened_line);
        fields_.clear();
        return true;
      }
      if (at_ < text_.size() && text_[at_] != delimiter_ && text_[at_] != '\n' &&
          text_[at_] != '\r') {
        error = std::string("unexpected character after closing quote ") + quote_;
        fields_.clear();
        skip_rest_of_line();
        return true;
      }
      spans_.push_back({fields_.size(), begin, scratch_.size() - begin});
      fields_.emplace_back();
    } else {
      // Up to the next delimiter, quote or line end (one table look-up per byte).
      const char* const data = text_.data();
      size_t start = at_;
      while (at_ < text_.size() && !ends_field_[static_cast<unsigned char>(data[at_])]) ++at_;
      if (at_ < text_.size() && data[at_] == quote_ && quote_ != delimiter_) {
        error = std::string("quote ") + quote_ + " inside an unquoted field";
        fields_.clear();
        skip_rest_of_line();
        return true;
      }
      fields_.emplace_back(data + start, at_ - start);
    }
    if (at_ < text_.size() && text_[at_] == delimiter_) {
      ++at_;
      continue;
    }
    if (at_ < text_.size()) advance_line_end();
    break;
  }
  for (const Span& s : spans_)
    fields_[s.field] = std::string_view(scratch_).substr(s.begin, s.size);
  return true;
}

void CsvStream::advance_line_end() {
  if (text_[at_] == '\r' && at_ + 1 < text_.size() && text_[at_ + 1] == '\n') ++at_;
  ++at_;
  ++line_;
}

void CsvStream::skip_rest_of_line() {
  while (at_ < text_.size() && text_[at_] != '\n') ++at_;
  if (at_ < text_.size()) {
    ++at_;
    ++line_;
  }
}

namespace {

// Header names: trimmed, empty ones named column_<n>, duplicates suffixed _2, _3…
std::vector<Column> header_columns(const std::vector<std::string_view>& names) {
  std::vector<Column> columns;
  std::set<std::string> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    std::string name(names[i]);
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    if (name.empty()) name = "column_" + std::to_string(i + 1);
    std::string unique = name;
    for (int n = 2; seen.count(unique); ++n) unique = name + "_" + std::to_string(n);
    seen.insert(unique);
    columns.push_back({unique, ColumnType::kText});
  }
  return columns;
}

}  // namespace

bool is_utf8(std::string_view text) {
  return valid_utf8(text);
}

std::string to_utf8(std::string_view text) {
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  if (valid_utf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out += ch;
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

void csv_dialect(std::string_view text, const CsvOptions& options, char& delimiter, char& quote) {
  auto lines = sample_lines(text, 20);
  delimiter = options.delimiter.value_or(infer_delimiter(lines));
  quote = options.quote.value_or(infer_quote(lines, delimiter));
}

std::vector<Column> csv_columns(const std::vector<std::string_view>& first_record, bool header) {
  if (header) return header_columns(first_record);
  std::vector<std::string> names;
  for (size_t i = 0; i < first_record.size(); ++i) {
    names.push_back("column_" + std::to_string(i + 1));
  }
  return header_columns(std::vector<std::string_view>(names.begin(), names.end()));
}

CsvResult read_csv(std::string_view text, const CsvOptions& options, const std::string& file_name,
                   size_t max_errors) {
  CsvResult result;
  csv_dialect(text, options, result.delimiter, result.quote);
  CsvStream stream(text, result.delimiter, result.quote);
  std::string error;
  bool have_columns = false;
  auto report = [&](size_t line, std::string message) {
    if (result.errors.size() < max_errors) {
      result.errors.push_back({file_name, line, std::move(message)});
    }
  };
  while (stream.next(error)) {
    if (!error.empty()) {
      report(stream.line(), error);
      continue;
    }
    const auto& fields = stream.fields();
    if (!have_columns) {
      have_columns = true;
      result.table.columns = csv_columns(fields, options.header);
      if (options.header) continue;
    }
    if (fields.size() != result.table.columns.size()) {
      report(stream.line(), "expected " + std::to_string(result.table.columns.size()) +
                                " fields, found " + std::to_string(fields.size()));
      continue;
    }
    std::vector<std::optional<std::string>> row;
    row.reserve(fields.size());
    for (auto f : fields) {
      if (f.empty()) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(f));
      }
    }
    result.table.rows.push_back(std::move(row));
  }
  return result;
}

}  // namespace dango
