// timezone.cpp — TZif parsing (RFC 8536), POSIX TZ footer rules and the calendar arithmetic
// behind TimeZone. Everything here is pure computation on immutable data: no libc time state.
#include "scheduler/timezone.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <system_error>

namespace plughost {

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic

namespace {

constexpr int64_t kSecondsPerDay = 86400;

int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// The inverse of days_from_civil: fills year, month, day and weekday.
void civil_from_days(int64_t days, CivilTime& out) {
  const int64_t shifted = days + 719468;  // days since 0000-03-01
  const int64_t era = floor_div(shifted, 146097);
  const int64_t day_of_era = shifted - era * 146097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t month_from_march = (5 * day_of_year + 2) / 153;
  out.day = static_cast<int>(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  out.month = static_cast<int>(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  out.year = static_cast<int>(year_of_era + era * 400 + (out.month <= 2 ? 1 : 0));
  out.weekday = weekday_from_days(days);
}

}  // namespace

bool is_leap_year(int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int64_t year, int month) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && is_leap_year(year)) return 29;
  return kDays[month - 1];
}

// Howard Hinnant's algorithm: counts in 400-year eras of 146097 days that start on March 1,
// so the leap day ends a year and months March..January follow a 153-days-per-5-months pattern.
int64_t days_from_civil(int64_t year, int month, int day) {
  const int64_t y = month <= 2 ? year - 1 : year;
  const int64_t era = floor_div(y, 400);
  const int64_t year_of_era = y - era * 400;
  const int64_t month_from_march = (month + 9) % 12;
  const int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

int weekday_from_days(int64_t days) {
  return static_cast<int>((days % 7 + 7 + 4) % 7);  // 1970-01-01 was a Thursday
}

CivilTime civil_from_seconds(int64_t seconds) {
  seconds = std::clamp(seconds, -kMaxCivilSeconds, kMaxCivilSeconds);
  const int64_t days = floor_div(seconds, kSecondsPerDay);
  const int64_t second_of_day = seconds - days * kSecondsPerDay;
  CivilTime civil;
  civil_from_days(days, civil);
  civil.hour = static_cast<int>(second_of_day / 3600);
  civil.minute = static_cast<int>(second_of_day / 60 % 60);
  civil.second = static_cast<int>(second_of_day % 60);
  return civil;
}

int64_t seconds_from_civil(const CivilTime& civil) {
  // Months carry into years here; days_from_civil carries days itself.
  const int64_t month_index = int64_t{civil.month} - 1;
  const int64_t year = civil.year + floor_div(month_index, 12);
  const int month = static_cast<int>(month_index - floor_div(month_index, 12) * 12 + 1);
  return days_from_civil(year, month, civil.day) * kSecondsPerDay + int64_t{civil.hour} * 3600 +
         int64_t{civil.minute} * 60 + civil.second;
}

// ---------------------------------------------------------------------------------------------
// POSIX TZ strings (the TZif footer), with RFC 8536's extension of rule times to ±167 hours

namespace {

// The date (and local time of day) on which DST starts or ends in a given year.
struct RuleDate {
  enum class Kind { kJulianNoLeap, kZeroBasedDay, kMonthWeekDay };
  Kind kind = Kind::kMonthWeekDay;
  int day = 0;          // Jn: 1-365; n: 0-365; Mm.w.d: weekday 0-6 (0 = Sunday)
  int month = 0;        // Mm.w.d only: 1-12
  int week = 0;         // Mm.w.d only: 1-5, 5 meaning the last such weekday of the month
  int32_t time = 7200;  // seconds after local midnight; may be negative or exceed a day
};

struct PosixRule {
  int32_t std_offset = 0;  // seconds east of UTC
  bool has_dst = false;
  int32_t dst_offset = 0;
  RuleDate start;  // its time is read on the standard-time clock
  RuleDate end;    // its time is read on the daylight-time clock
};

// A cursor over one TZ string. Each parse_* consumes what it recognises and returns false on
// malformed input; the caller turns that into one error message for the whole string.
class PosixTzParser {
 public:
  explicit PosixTzParser(std::string_view text) : text_(text) {}

  std::optional<PosixRule> parse(std::string& error);

 private:
  bool at_end() const { return pos_ == text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  bool consume(char c);
  bool parse_number(int max, int& value);
  bool parse_duration(int max_hours, int32_t& seconds);
  bool parse_designation();
  bool parse_rule_date(RuleDate& date);
  std::optional<PosixRule> fail(const char* what, std::string& error) const;

  std::string_view text_;
  size_t pos_ = 0;
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool PosixTzParser::consume(char c) {
  if (at_end() || text_[pos_] != c) return false;
  ++pos_;
  return true;
}

bool PosixTzParser::parse_number(int max, int& value) {
  if (!is_digit(peek())) return false;
  value = 0;
  while (is_digit(peek())) {
    value = value * 10 + (text_[pos_++] - '0');
    if (value > max) return false;
  }
  return true;
}

// [+|-]hh[:mm[:ss]], as seconds with the sign applied.
bool PosixTzParser::parse_duration(int max_hours, int32_t& seconds) {
  const bool negative = consume('-');
  if (!negative) consume('+');
  int hours = 0;
  int minutes = 0;
  int secs = 0;
  if (!parse_number(max_hours, hours)) return false;
  if (consume(':')) {
    if (!parse_number(59, minutes)) return false;
    if (consume(':') && !parse_number(59, secs)) return false;
  }
  seconds = hours * 3600 + minutes * 60 + secs;
  if (negative) seconds = -seconds;
  return true;
}

// Either three or more letters, or <...> with letters, digits, '+' and '-' (e.g. "<+0330>").
bool PosixTzParser::parse_designation() {
  const size_t start = pos_;
  if (consume('<')) {
    while (is_alpha(peek()) || is_digit(peek()) || peek() == '+' || peek() == '-') ++pos_;
    return pos_ - start - 1 >= 3 && consume('>');
  }
  while (is_alpha(peek())) ++pos_;
  return pos_ - start >= 3;
}

bool PosixTzParser::parse_rule_date(RuleDate& date) {
  if (consume('J')) {
    date.kind = RuleDate::Kind::kJulianNoLeap;
    if (!parse_number(365, date.day) || date.day < 1) return false;
  } else if (consume('M')) {
    date.kind = RuleDate::Kind::kMonthWeekDay;
    if (!parse_number(12, date.month) || date.month < 1 || !consume('.')) return false;
    if (!parse_number(5, date.week) || date.week < 1 || !consume('.')) return false;
    if (!parse_number(6, date.day)) return false;
  } else {
    date.kind = RuleDate::Kind::kZeroBasedDay;
    if (!parse_number(365, date.day)) return false;
  }
  return !consume('/') || parse_duration(167, date.time);
}

std::optional<PosixRule> PosixTzParser::fail(const char* what, std::string& error) const {
  error = "TZ footer \"" + std::string(text_) + "\": " + what;
  return std::nullopt;
}

std::optional<PosixRule> PosixTzParser::parse(std::string& error) {
  PosixRule rule;
  int32_t posix_offset = 0;  // POSIX offsets count hours west of UTC
  if (!parse_designation()) return fail("bad standard time name", error);
  if (!parse_duration(24, posix_offset)) return fail("bad standard time offset", error);
  rule.std_offset = -posix_offset;
  if (at_end()) return rule;
  if (!parse_designation()) return fail("bad daylight time name", error);
  rule.has_dst = true;
  rule.dst_offset = rule.std_offset + 3600;
  if (!at_end() && peek() != ',') {
    if (!parse_duration(24, posix_offset)) return fail("bad daylight time offset", error);
    rule.dst_offset = -posix_offset;
  }
  // zic always writes the rule; POSIX's implementation-defined default is not guessed here.
  if (at_end()) return fail("daylight time without a transition rule", error);
  if (!consume(',') || !parse_rule_date(rule.start) || !consume(',') ||
      !parse_rule_date(rule.end)) {
    return fail("bad transition rule", error);
  }
  if (!at_end()) return fail("unexpected text after the rule", error);
  return rule;
}

// Wall-clock seconds (since 1970 on the clock in effect before the change) at which `date`
// happens in `year`.
int64_t rule_local_seconds(const RuleDate& date, int64_t year) {
  const int64_t jan1 = days_from_civil(year, 1, 1);
  int64_t days = 0;
  switch (date.kind) {
    case RuleDate::Kind::kJulianNoLeap:  // Feb 29 is never counted: J60 is always March 1
      days = jan1 + date.day - 1 + (is_leap_year(year) && date.day >= 60 ? 1 : 0);
      break;
    case RuleDate::Kind::kZeroBasedDay: days = jan1 + date.day; break;
    case RuleDate::Kind::kMonthWeekDay: {
      const int64_t first = days_from_civil(year, date.month, 1);
      int day = 1 + (date.day - weekday_from_days(first) + 7) % 7 + (date.week - 1) * 7;
      if (day > days_in_month(year, date.month)) day -= 7;  // week 5: the last one
      days = first + day - 1;
      break;
    }
  }
  return days * kSecondsPerDay + date.time;
}

// The offset the rule gives at instant t. Considers the neighbouring years too, because rule
// times beyond ±24h can push a transition across a year boundary. On a tie the DST start wins,
// which keeps "DST all year" rules (e.g. "EST5EDT,0/0,J365/25") from flickering at New Year.
int32_t posix_rule_offset(const PosixRule& rule, int64_t t) {
  if (!rule.has_dst) return rule.std_offset;
  const int64_t year = civil_from_seconds(t + rule.std_offset).year;
  int64_t latest = std::numeric_limits<int64_t>::min();
  bool in_dst = false;
  auto consider = [&](int64_t instant, bool starts_dst) {
    if (instant <= t && (instant > latest || (instant == latest && starts_dst))) {
      latest = instant;
      in_dst = starts_dst;
    }
  };
  for (int64_t y = year - 1; y <= year + 1; ++y) {
    consider(rule_local_seconds(rule.end, y) - rule.dst_offset, false);
    consider(rule_local_seconds(rule.start, y) - rule.std_offset, true);
  }
  return in_dst ? rule.dst_offset : rule.std_offset;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The parsed zone

struct TimeZone::Data {
  std::string name;
  std::vector<int64_t> transitions;       // strictly ascending
  std::vector<int32_t> offsets;           // offsets[i] is in effect from transitions[i]
  int32_t initial_offset = 0;             // before the first transition (local time type 0)
  std::optional<PosixRule> footer;        // from the last transition on, when present
  std::vector<int32_t> distinct_offsets;  // ascending; every offset the zone can report
};

// ---------------------------------------------------------------------------------------------
// TZif

namespace {

constexpr size_t kMaxTzifBytes = size_t{1} << 20;  // real files are a few KiB
constexpr size_t kTzifHeaderBytes = 44;
constexpr int32_t kMinUtcOffset = -89999;  // RFC 8536: -24:59:59 .. +25:59:59
constexpr int32_t kMaxUtcOffset = 93599;

struct TzifHeader {
  char version = 0;
  uint32_t isutcnt = 0;
  uint32_t isstdcnt = 0;
  uint32_t leapcnt = 0;
  uint32_t timecnt = 0;
  uint32_t typecnt = 0;
  uint32_t charcnt = 0;
};

struct TzifBody {
  std::vector<int64_t> transitions;
  std::vector<uint8_t> transition_types;
  std::vector<int32_t> type_offsets;
};

// Big-endian reads over untrusted bytes. Callers check remaining() for a whole structure before
// reading it, so the individual reads need no checks of their own.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}
  size_t remaining() const { return bytes_.size() - pos_; }
  uint8_t u8() { return static_cast<uint8_t>(bytes_[pos_++]); }
  uint32_t u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | u8();
    return v;
  }
  int64_t i64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | u8();
    return static_cast<int64_t>(v);
  }
  std::string_view take(size_t n) {  // clamps to what is left
    const std::string_view out = bytes_.substr(pos_, n);
    pos_ += out.size();
    return out;
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

bool read_tzif_header(ByteReader& reader, TzifHeader& header, std::string& error) {
  if (reader.take(4) != "TZif") {
    error = "not a TZif file";
    return false;
  }
  if (reader.remaining() < kTzifHeaderBytes - 4) {
    error = "truncated TZif header";
    return false;
  }
  header.version = static_cast<char>(reader.u8());
  if (header.version != 0 && (header.version < '2' || header.version > '4')) {
    error = "unsupported TZif version";
    return false;
  }
  reader.take(15);
  header.isutcnt = reader.u32();
  header.isstdcnt = reader.u32();
  header.leapcnt = reader.u32();
  header.timecnt = reader.u32();
  header.typecnt = reader.u32();
  header.charcnt = reader.u32();
  return true;
}

uint64_t tzif_body_bytes(const TzifHeader& h, uint64_t time_size) {
  return uint64_t{h.timecnt} * (time_size + 1) + uint64_t{h.typecnt} * 6 + h.charcnt +
         uint64_t{h.leapcnt} * (time_size + 4) + h.isstdcnt + h.isutcnt;
}

bool check_tzif_counts(const TzifHeader& h, std::string& error) {
  if (h.typecnt == 0) {
    error = "TZif data has no local time types";
  } else if ((h.isstdcnt != 0 && h.isstdcnt != h.typecnt) ||
             (h.isutcnt != 0 && h.isutcnt != h.typecnt)) {
    error = "TZif indicator counts do not match the type count";
  } else if (h.leapcnt != 0) {
    error = "TZif leap-second data (\"right/\" zones) is not supported";
  } else {
    return true;
  }
  return false;
}

bool read_tzif_types(ByteReader& reader, const TzifHeader& h, TzifBody& body, std::string& error) {
  for (uint32_t i = 0; i < h.typecnt; ++i) {
    const auto offset = static_cast<int32_t>(reader.u32());
    const uint8_t is_dst = reader.u8();
    reader.u8();  // abbreviation index: abbreviations are not used
    if (offset < kMinUtcOffset || offset > kMaxUtcOffset || is_dst > 1) {
      error = "TZif local time type " + std::to_string(i) + " is invalid";
      return false;
    }
    body.type_offsets.push_back(offset);
  }
  return true;
}

bool read_tzif_body(ByteReader& reader, const TzifHeader& h, int time_size, TzifBody& body,
                    std::string& error) {
  if (!check_tzif_counts(h, error)) return false;
  if (reader.remaining() < tzif_body_bytes(h, time_size)) {
    error = "truncated TZif data";
    return false;
  }
  for (uint32_t i = 0; i < h.timecnt; ++i) {
    const int64_t t = time_size == 8 ? reader.i64() : static_cast<int32_t>(reader.u32());
    if (!body.transitions.empty() && t <= body.transitions.back()) {
      error = "TZif transition times are not ascending";
      return false;
    }
    body.transitions.push_back(t);
  }
  for (uint32_t i = 0; i < h.timecnt; ++i) {
    body.transition_types.push_back(reader.u8());
    if (body.transition_types.back() >= h.typecnt) {
      error = "TZif transition refers to an undefined local time type";
      return false;
    }
  }
  if (!read_tzif_types(reader, h, body, error)) return false;
  reader.take(size_t{h.charcnt} + h.isstdcnt + h.isutcnt);  // leapcnt is 0
  return true;
}

// The footer is the POSIX TZ string between two newlines; it may be empty.
bool read_tzif_footer(ByteReader& reader, std::string_view& tz, std::string& error) {
  const std::string_view rest = reader.take(reader.remaining());
  const size_t end = rest.find('\n', 1);
  if (rest.empty() || rest[0] != '\n' || end == std::string_view::npos) {
    error = "missing or unterminated TZif footer";
    return false;
  }
  tz = rest.substr(1, end - 1);
  return true;
}

// Reads the block a reader of this version should use: the v1 block for version 1 files, else
// the 64-bit block and the footer after skipping the v1 block.
bool read_tzif(std::string_view bytes, TzifBody& body, std::string_view& footer,
               std::string& error) {
  ByteReader reader(bytes);
  TzifHeader header;
  if (!read_tzif_header(reader, header, error)) return false;
  if (header.version == 0) return read_tzif_body(reader, header, 4, body, error);
  if (reader.remaining() < tzif_body_bytes(header, 4)) {
    error = "truncated TZif data";
    return false;
  }
  reader.take(tzif_body_bytes(header, 4));
  if (!read_tzif_header(reader, header, error)) return false;
  if (header.version == 0) {
    error = "TZif second header has version 1";
    return false;
  }
  return read_tzif_body(reader, header, 8, body, error) && read_tzif_footer(reader, footer, error);
}

std::vector<int32_t> collect_distinct_offsets(const TimeZone::Data& data,
                                              const std::vector<int32_t>& type_offsets) {
  std::vector<int32_t> out = type_offsets;
  if (data.footer) {
    out.push_back(data.footer->std_offset);
    if (data.footer->has_dst) out.push_back(data.footer->dst_offset);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// IANA names are relative paths of letters, digits and "._+-"; anything else (absolute paths,
// "..", control characters) would let a caller read files outside the zoneinfo directory.
bool is_valid_zone_name(const std::string& name) {
  if (name.empty() || name.size() > 255 || name[0] == '/') return false;
  if (name.find("..") != std::string::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return is_alpha(c) || is_digit(c) || c == '/' || c == '_' || c == '-' || c == '+' || c == '.';
  });
}

bool read_small_file(const std::string& path, std::string& out, std::string& error) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) {
    error = std::generic_category().message(errno);
    return false;
  }
  out.resize(kMaxTzifBytes + 1);
  const size_t n = std::fread(out.data(), 1, out.size(), file.get());
  if (std::ferror(file.get())) {
    error = std::generic_category().message(errno);
    return false;
  }
  if (n > kMaxTzifBytes) {
    error = "file is too large to be a TZif file";
    return false;
  }
  out.resize(n);
  return true;
}

}  // namespace

std::optional<TimeZone> TimeZone::parse_tzif(const std::string& name, std::string_view bytes,
                                             std::string& error) {
  TzifBody body;
  std::string_view footer;
  std::string detail;
  auto data = std::make_shared<Data>();
  if (!read_tzif(bytes, body, footer, detail)) {
    error = "time zone \"" + name + "\": " + detail;
    return std::nullopt;
  }
  if (!footer.empty()) {
    data->footer = PosixTzParser(footer).parse(detail);
    if (!data->footer) {
      error = "time zone \"" + name + "\": " + detail;
      return std::nullopt;
    }
  }
  data->name = name;
  data->transitions = std::move(body.transitions);
  data->initial_offset = body.type_offsets[0];
  for (uint8_t type : body.transition_types) data->offsets.push_back(body.type_offsets[type]);
  data->distinct_offsets = collect_distinct_offsets(*data, body.type_offsets);
  return TimeZone(std::move(data));
}

std::optional<TimeZone> TimeZone::load(const std::string& name, std::string& error,
                                       const std::string& zoneinfo_dir) {
  if (!is_valid_zone_name(name)) {
    error = "invalid time zone name \"" + name + "\"";
    return std::nullopt;
  }
  const std::string path = zoneinfo_dir + "/" + name;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    error = "unknown time zone \"" + name + "\"";
    return std::nullopt;
  }
  std::string bytes;
  std::string detail;
  if (!read_small_file(path, bytes, detail)) {
    error = "cannot read time zone \"" + name + "\": " + detail;
    return std::nullopt;
  }
  return parse_tzif(name, bytes, error);
}

TimeZone TimeZone::utc() {
  auto data = std::make_shared<Data>();
  data->name = "UTC";
  data->distinct_offsets = {0};
  return TimeZone(std::move(data));
}

std::string TimeZone::name() const {
  return data_->name;
}

int64_t TimeZone::utc_offset(int64_t unix_seconds) const {
  const Data& d = *data_;
  const int64_t t = std::clamp(unix_seconds, -kMaxCivilSeconds, kMaxCivilSeconds);
  if (d.transitions.empty() || t >= d.transitions.back()) {
    if (d.footer) return posix_rule_offset(*d.footer, t);
    return d.transitions.empty() ? d.initial_offset : d.offsets.back();
  }
  if (t < d.transitions.front()) return d.initial_offset;
  const auto next = std::upper_bound(d.transitions.begin(), d.transitions.end(), t);
  return d.offsets[static_cast<size_t>(next - d.transitions.begin()) - 1];
}

CivilTime TimeZone::to_local(int64_t unix_seconds) const {
  const int64_t t = std::clamp(unix_seconds, -kMaxCivilSeconds, kMaxCivilSeconds);
  return civil_from_seconds(t + utc_offset(t));
}

// An instant t shows `local` exactly when utc_offset(t) == wall - t, and utc_offset only ever
// returns one of the zone's offsets, so trying each of them finds every solution.
std::vector<int64_t> TimeZone::from_local(const CivilTime& local) const {
  const int64_t wall = seconds_from_civil(local);
  std::vector<int64_t> instants;
  for (int32_t offset : data_->distinct_offsets) {
    if (utc_offset(wall - offset) == offset) instants.push_back(wall - offset);
  }
  std::sort(instants.begin(), instants.end());
  return instants;
}

int64_t TimeZone::resolve_local(const CivilTime& local) const {
  const std::vector<int64_t> instants = from_local(local);
  if (!instants.empty()) return instants.front();
  // In a gap: find the first instant whose wall clock reads at or past `local`. The clock reads
  // earlier than that at `lo` and at least that at `hi` whatever the offsets in between.
  const int64_t wall = seconds_from_civil(local);
  int64_t lo = wall - data_->distinct_offsets.back() - 1;
  int64_t hi = wall - data_->distinct_offsets.front();
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (mid + utc_offset(mid) >= wall) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return hi;
}

}  // namespace plughost
