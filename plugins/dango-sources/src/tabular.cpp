#include "tabular.hpp"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>

namespace dango {

const char* type_name(ColumnType t) {
  switch (t) {
    case ColumnType::kInteger: return "integer";
    case ColumnType::kReal: return "real";
    case ColumnType::kDate: return "date";
    case ColumnType::kTimestamp: return "timestamp";
    case ColumnType::kText: return "text";
  }
  return "text";
}

std::optional<ColumnType> parse_type_name(std::string_view name) {
  for (ColumnType t : {ColumnType::kInteger, ColumnType::kReal, ColumnType::kDate,
                       ColumnType::kTimestamp, ColumnType::kText}) {
    if (name == type_name(t)) return t;
  }
  return std::nullopt;
}

namespace {

bool digits(std::string_view s, size_t from, size_t n) {
  if (from + n > s.size()) return false;
  for (size_t i = from; i < from + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// Leading zeros ("007", "00.5") make an identifier or a code, not a number.
bool leading_zero(std::string_view s) {
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  return i + 1 < s.size() && s[i] == '0' && std::isdigit(static_cast<unsigned char>(s[i + 1]));
}

bool is_integer(std::string_view s) {
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size() || s.size() - i > 19) return false;
  if (!digits(s, i, s.size() - i) || leading_zero(s)) return false;
  if (s.size() - i < 19) return true;  // fewer than 19 digits always fit in 64 bits
  int64_t value = 0;
  std::string_view magnitude = s.substr(s[0] == '+' ? 1 : 0);
  auto r = std::from_chars(magnitude.data(), magnitude.data() + magnitude.size(), value);
  return r.ec == std::errc();
}

bool is_real(std::string_view s) {
  if (leading_zero(s)) return false;
  // strtod also takes "inf", "nan", hex and spaces; a data file means a decimal number.
  for (char c : s) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' ||
          c == 'e' || c == 'E')) {
      return false;
    }
  }
  if (s[0] == '+' && s.size() > 1 && s[1] == '-') return false;
  std::string_view number = s.substr(s[0] == '+' ? 1 : 0);
  double value = 0;
  auto r = std::from_chars(number.data(), number.data() + number.size(), value);
  return r.ec == std::errc() && r.ptr == number.data() + number.size();
}

bool is_date(std::string_view s) {
  if (s.size() != 10 || !digits(s, 0, 4) || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' ||
      !digits(s, 8, 2)) {
    return false;
  }
  int month = (s[5] - '0') * 10 + (s[6] - '0');
  int day = (s[8] - '0') * 10 + (s[9] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

// YYYY-MM-DD[T ]HH:MM[:SS[.fff…]][Z|±HH:MM]
bool is_timestamp(std::string_view s) {
  if (s.size() < 16 || !is_date(s.substr(0, 10)) || (s[10] != 'T' && s[10] != ' ')) return false;
  if (!digits(s, 11, 2) || s[13] != ':' || !digits(s, 14, 2)) return false;
  size_t i = 16;
  if (i < s.size() && s[i] == ':') {
    if (!digits(s, i + 1, 2)) return false;
    i += 3;
    if (i < s.size() && s[i] == '.') {
      size_t start = ++i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      if (i == start) return false;
    }
  }
  if (i == s.size()) return true;
  if (s[i] == 'Z') return i + 1 == s.size();
  if (s[i] == '+' || s[i] == '-') {
    return s.size() == i + 6 && digits(s, i + 1, 2) && s[i + 3] == ':' && digits(s, i + 4, 2);
  }
  return false;
}

}  // namespace

ColumnType cell_type(std::string_view cell) {
  if (cell.empty()) return ColumnType::kText;
  if (is_integer(cell)) return ColumnType::kInteger;
  if (is_real(cell)) return ColumnType::kReal;
  if (is_date(cell)) return ColumnType::kDate;
  if (is_timestamp(cell)) return ColumnType::kTimestamp;
  return ColumnType::kText;
}

ColumnType widen(ColumnType a, ColumnType b) {
  if (a == b) return a;
  bool numeric_a = a == ColumnType::kInteger || a == ColumnType::kReal;
  bool numeric_b = b == ColumnType::kInteger || b == ColumnType::kReal;
  if (numeric_a && numeric_b) return ColumnType::kReal;
  bool temporal_a = a == ColumnType::kDate || a == ColumnType::kTimestamp;
  bool temporal_b = b == ColumnType::kDate || b == ColumnType::kTimestamp;
  if (temporal_a && temporal_b) return ColumnType::kTimestamp;
  return ColumnType::kText;
}

void infer_column_types(Table& table) {
  for (size_t c = 0; c < table.columns.size(); ++c) {
    std::optional<ColumnType> type;
    for (const auto& row : table.rows) {
      if (!row[c] || row[c]->empty()) continue;
      ColumnType t = cell_type(*row[c]);
      type = type ? widen(*type, t) : t;
      if (*type == ColumnType::kText) break;
    }
    table.columns[c].type = type.value_or(ColumnType::kText);
  }
}

}  // namespace dango
