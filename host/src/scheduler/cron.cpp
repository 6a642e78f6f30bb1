// cron.cpp — parses cron expressions into per-field bit sets, and finds the next match by skipping
// whole months, days and hours of wall-clock time instead of stepping minute by minute.
#include "scheduler/cron.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace plughost {
namespace {

constexpr int kSearchYears = 8;

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

struct FieldSpec {
  const char* name;
  int min;
  int max;
  int last;                  // where `*` and `a/n` end; below max only for day-of-week
  const char* const* names;  // names[i] means first_named + i; nullptr: numbers only
  int name_count;
  int first_named;
};

constexpr FieldSpec kFields[5] = {
    {"minute", 0, 59, 59, nullptr, 0, 0},       {"hour", 0, 23, 23, nullptr, 0, 0},
    {"day-of-month", 1, 31, 31, nullptr, 0, 0}, {"month", 1, 12, 12, kMonthNames, 12, 1},
    {"day-of-week", 0, 7, 6, kDayNames, 7, 0},
};

struct Macro {
  const char* name;
  const char* expansion;
};

constexpr Macro kMacros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

char to_upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (to_upper(a[i]) != to_upper(b[i])) return false;
  }
  return true;
}

std::vector<std::string_view> split_whitespace(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    const size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

std::string quoted(std::string_view token) {
  return "\"" + std::string(token) + "\"";
}

// A number or (where the field has names) a name, checked against the field's range.
bool parse_value(std::string_view token, const FieldSpec& spec, int& value, std::string& error) {
  if (!token.empty() && std::all_of(token.begin(), token.end(), is_digit)) {
    const bool fits = token.size() <= 9;  // longer cannot be in range, and must not overflow
    value = fits ? std::stoi(std::string(token)) : spec.max + 1;
    if (value < spec.min || value > spec.max) {
      error = "value " + std::string(token) + " out of range " + std::to_string(spec.min) + "-" +
              std::to_string(spec.max);
      return false;
    }
    return true;
  }
  for (int i = 0; i < spec.name_count; ++i) {
    if (equals_ignoring_case(token, spec.names[i])) {
      value = spec.first_named + i;
      return true;
    }
  }
  error = "invalid value " + quoted(token);
  return false;
}

bool parse_step(std::string_view token, const FieldSpec& spec, int& step, std::string& error) {
  if (token.empty() || !std::all_of(token.begin(), token.end(), is_digit)) {
    error = "invalid step " + quoted(token);
    return false;
  }
  step = token.size() <= 9 ? std::stoi(std::string(token)) : spec.max + 1;
  if (step < 1 || step > spec.max) {
    error = "step " + std::string(token) + " out of range 1-" + std::to_string(spec.max);
    return false;
  }
  return true;
}

// "a-b" into [lo, hi].
bool parse_range(std::string_view token, const FieldSpec& spec, int& lo, int& hi,
                 std::string& error) {
  const size_t dash = token.find('-');
  const std::string_view first = token.substr(0, dash);
  const std::string_view second = token.substr(dash + 1);
  if (first.empty() || second.empty() || second.find('-') != std::string_view::npos) {
    error = "invalid range " + quoted(token);
    return false;
  }
  if (!parse_value(first, spec, lo, error) || !parse_value(second, spec, hi, error)) return false;
  if (lo > hi) {
    error = "range " + std::string(token) + " ends before it starts";
    return false;
  }
  return true;
}

// One list item: `*`, `a`, `a-b`, each optionally followed by `/n`.
bool parse_item(std::string_view item, const FieldSpec& spec, uint64_t& bits, std::string& error) {
  if (item.empty()) {
    error = "empty list item";
    return false;
  }
  const size_t slash = item.find('/');
  const bool has_step = slash != std::string_view::npos;
  const std::string_view base = item.substr(0, slash);
  int step = 1;
  if (has_step && !parse_step(item.substr(slash + 1), spec, step, error)) return false;
  int lo = spec.min;
  int hi = spec.last;
  if (base.find('-') != std::string_view::npos) {
    if (!parse_range(base, spec, lo, hi, error)) return false;
  } else if (base != "*") {
    if (!parse_value(base, spec, lo, error)) return false;
    hi = has_step ? spec.last : lo;
  }
  for (int v = lo; v <= hi; v += step) bits |= uint64_t{1} << v;
  return true;
}

bool parse_field(std::string_view field, const FieldSpec& spec, uint64_t& bits,
                 std::string& error) {
  size_t start = 0;
  while (true) {
    const size_t comma = field.find(',', start);
    std::string detail;
    if (!parse_item(field.substr(start, comma - start), spec, bits, detail)) {
      error = std::string(spec.name) + " field: " + detail;
      return false;
    }
    if (comma == std::string_view::npos) return true;
    start = comma + 1;
  }
}

// Replaces a lone @macro by its five fields; anything else passes through.
bool expand_macro(std::vector<std::string_view>& fields, std::string& error) {
  if (fields.empty() || fields[0][0] != '@') return true;
  if (fields.size() > 1) {
    error = "unexpected text after " + quoted(fields[0]);
    return false;
  }
  for (const Macro& macro : kMacros) {
    if (equals_ignoring_case(fields[0], macro.name)) {
      fields = split_whitespace(macro.expansion);
      return true;
    }
  }
  error = "unknown macro " + quoted(fields[0]);
  return false;
}

bool has_bit(uint64_t bits, int n) {
  return n >= 0 && n < 64 && ((bits >> n) & 1) != 0;
}

// The smallest set bit at or above `from`, or -1.
int next_bit(uint64_t bits, int from) {
  if (from >= 64) return -1;
  const uint64_t candidates = bits & (~uint64_t{0} << from);
  return candidates == 0 ? -1 : __builtin_ctzll(candidates);
}

// Steps a wall-clock minute forward; each resets the smaller fields.
void advance_to_next_month(CivilTime& c, uint64_t months) {
  const int month = next_bit(months, c.month + 1);
  if (month < 0) {
    ++c.year;
    c.month = next_bit(months, 1);
  } else {
    c.month = month;
  }
  c.day = 1;
  c.hour = 0;
  c.minute = 0;
}

void advance_to_next_day(CivilTime& c) {
  c.hour = 0;
  c.minute = 0;
  if (++c.day <= days_in_month(c.year, c.month)) return;
  c.day = 1;
  if (++c.month <= 12) return;
  c.month = 1;
  ++c.year;
}

void advance_to_next_hour(CivilTime& c) {
  c.minute = 0;
  if (++c.hour == 24) advance_to_next_day(c);
}

void advance_to_next_minute(CivilTime& c) {
  if (++c.minute == 60) advance_to_next_hour(c);
}

}  // namespace

std::optional<CronExpression> CronExpression::parse(const std::string& text, std::string& error) {
  std::vector<std::string_view> fields = split_whitespace(text);
  if (!expand_macro(fields, error)) return std::nullopt;
  if (fields.size() != 5) {
    error = "expected 5 fields, got " + std::to_string(fields.size());
    return std::nullopt;
  }
  CronExpression cron;
  uint64_t* const bits[5] = {&cron.minutes_, &cron.hours_, &cron.days_of_month_, &cron.months_,
                             &cron.days_of_week_};
  for (int i = 0; i < 5; ++i) {
    if (!parse_field(fields[i], kFields[i], *bits[i], error)) return std::nullopt;
  }
  if (has_bit(cron.days_of_week_, 7)) cron.days_of_week_ = (cron.days_of_week_ & 0x7f) | 1;
  cron.day_of_month_star_ = fields[2][0] == '*';
  cron.day_of_week_star_ = fields[4][0] == '*';
  cron.text_ = text;
  return cron;
}

bool CronExpression::day_matches(int year, int month, int day) const {
  const bool by_date = has_bit(days_of_month_, day);
  const bool by_weekday =
      has_bit(days_of_week_, weekday_from_days(days_from_civil(year, month, day)));
  if (day_of_month_star_ || day_of_week_star_) return by_date && by_weekday;
  return by_date || by_weekday;
}

bool CronExpression::matches(const CivilTime& local) const {
  return has_bit(months_, local.month) && day_matches(local.year, local.month, local.day) &&
         has_bit(hours_, local.hour) && has_bit(minutes_, local.minute);
}

// `c` must be a valid wall-clock minute. Each pass either returns or moves `c` past a whole
// non-matching month, day or hour, or on to the next matching hour or minute.
std::optional<CivilTime> CronExpression::next_matching_minute(CivilTime c, int last_year) const {
  while (c.year <= last_year) {
    if (!has_bit(months_, c.month)) {
      advance_to_next_month(c, months_);
    } else if (!day_matches(c.year, c.month, c.day)) {
      advance_to_next_day(c);
    } else if (const int hour = next_bit(hours_, c.hour); hour != c.hour) {
      if (hour < 0) {
        advance_to_next_day(c);
      } else {
        c.hour = hour;
        c.minute = 0;
      }
    } else if (const int minute = next_bit(minutes_, c.minute); minute < 0) {
      advance_to_next_hour(c);
    } else {
      c.minute = minute;
      return c;
    }
  }
  return std::nullopt;
}

std::optional<int64_t> CronExpression::next_after(int64_t unix_seconds, const TimeZone& tz) const {
  constexpr int64_t kMargin = int64_t{kSearchYears + 2} * 366 * 86400;
  if (unix_seconds <= -kMaxCivilSeconds + kMargin || unix_seconds >= kMaxCivilSeconds - kMargin) {
    return std::nullopt;
  }
  CivilTime wall = tz.to_local(unix_seconds);
  wall.second = 0;
  const int last_year = wall.year + kSearchYears;
  // Wall times map to instants in order, except that the repeat of an overlap maps back to its
  // first occurrence; such candidates are not after `unix_seconds` and are skipped.
  std::optional<CivilTime> match = next_matching_minute(wall, last_year);
  while (match) {
    const int64_t instant = tz.resolve_local(*match);
    if (instant > unix_seconds) return instant;
    advance_to_next_minute(*match);
    match = next_matching_minute(*match, last_year);
  }
  return std::nullopt;
}

}  // namespace plughost
