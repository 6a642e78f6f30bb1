#include "cron.hpp"

#include <date/tz.h>

#include <cctype>
#include <chrono>
#include <sstream>
#include <vector>

namespace dango {

namespace {

struct Field {
  const char* name;
  int low, high;
  const char* const* names;  // names[i] is value low + i, or nullptr
};

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

bool parse_value(const Field& f, const std::string& token, int& out, std::string& error) {
  if (!token.empty() && std::isdigit(static_cast<unsigned char>(token[0]))) {
    if (token.size() > 4 || token.find_first_not_of("0123456789") != std::string::npos) {
      error = std::string(f.name) + " field: bad value '" + token + "'";
      return false;
    }
    out = std::stoi(token);
    // Day-of-week 7 is Sunday as well.
    int high = f.names == kDayNames ? 7 : f.high;
    if (out < f.low || out > high) {
      error = std::string(f.name) + " field: value " + token + " out of range " +
              std::to_string(f.low) + "-" + std::to_string(f.high);
      return false;
    }
    return true;
  }
  if (f.names) {
    std::string upper;
    for (char c : token) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (int i = 0; i <= f.high - f.low; ++i) {
      if (upper == f.names[i]) return out = f.low + i, true;
    }
  }
  error = std::string(f.name) + " field: bad value '" + token + "'";
  return false;
}

bool parse_field(const Field& f, const std::string& text, uint64_t& bits, std::string& error) {
  std::stringstream items(text);
  std::string item;
  bits = 0;
  while (std::getline(items, item, ',')) {
    int step = 1;
    auto slash = item.find('/');
    std::string range = item.substr(0, slash);
    if (slash != std::string::npos) {
      std::string s = item.substr(slash + 1);
      if (s.empty() || s.size() > 3 || s.find_first_not_of("0123456789") != std::string::npos ||
          std::stoi(s) == 0) {
        error = std::string(f.name) + " field: bad step '" + item + "'";
        return false;
      }
      step = std::stoi(s);
    }
    int low = f.low, high = f.high;
    if (range != "*") {
      auto dash = range.find('-');
      if (!parse_value(f, range.substr(0, dash), low, error)) return false;
      if (dash != std::string::npos) {
        if (!parse_value(f, range.substr(dash + 1), high, error)) return false;
        if (high < low) {
          error = std::string(f.name) + " field: range '" + range + "' does not ascend";
          return false;
        }
      } else if (slash == std::string::npos) {
        high = low;
      }
    }
    for (int v = low; v <= high; v += step)
      bits |= uint64_t{1} << (f.names == kDayNames ? v % 7 : v);
  }
  if (bits == 0) {
    error = std::string(f.name) + " field: empty";
    return false;
  }
  return true;
}

std::string expand_macro(const std::string& text) {
  if (text == "@yearly" || text == "@annually") return "0 0 1 1 *";
  if (text == "@monthly") return "0 0 1 * *";
  if (text == "@weekly") return "0 0 * * 0";
  if (text == "@daily" || text == "@midnight") return "0 0 * * *";
  if (text == "@hourly") return "0 * * * *";
  return text;
}

bool has(uint64_t bits, unsigned v) {
  return (bits >> v) & 1u;
}

}  // namespace

std::optional<CronSpec> parse_cron(const std::string& text, std::string& error) {
  std::string expanded = expand_macro(text);
  if (!expanded.empty() && expanded[0] == '@') {
    error = "unknown macro '" + text + "'";
    return std::nullopt;
  }
  std::vector<std::string> parts;
  std::stringstream in(expanded);
  for (std::string p; in >> p;) parts.push_back(p);
  if (parts.size() != 5) {
    error = "expected 5 fields, got " + std::to_string(parts.size());
    return std::nullopt;
  }
  static const Field kFields[5] = {{"minute", 0, 59, nullptr},
                                   {"hour", 0, 23, nullptr},
                                   {"day-of-month", 1, 31, nullptr},
                                   {"month", 1, 12, kMonthNames},
                                   {"day-of-week", 0, 6, kDayNames}};
  CronSpec c;
  c.text = text;
  uint64_t* out[5] = {&c.minutes, &c.hours, &c.days_of_month, &c.months, &c.days_of_week};
  for (int i = 0; i < 5; ++i) {
    if (!parse_field(kFields[i], parts[i], *out[i], error)) return std::nullopt;
  }
  c.day_of_month_star = parts[2][0] == '*';
  c.day_of_week_star = parts[4][0] == '*';
  return c;
}

const date::time_zone* find_time_zone(const std::string& name, std::string& error) {
  try {
    return date::locate_zone(name.empty() ? "UTC" : name);
  } catch (const std::exception&) {
    error = "unknown time zone '" + name + "'";
    return nullptr;
  }
}

std::optional<int64_t> next_fire(const CronSpec& cron, const date::time_zone* tz, int64_t after) {
  using namespace std::chrono;
  const date::sys_seconds after_sys{seconds(after)};
  const auto local_after = tz->to_local(after_sys);
  const auto first_minute = date::floor<minutes>(local_after) + minutes(1);
  const date::local_days first_day = date::floor<date::days>(first_minute);
  int start_minute = static_cast<int>((first_minute - first_day).count());
  for (int d = 0; d < 366 * 8 + 2; ++d, start_minute = 0) {
    const date::local_days day = first_day + date::days(d);
    const date::year_month_day ymd(day);
    const unsigned weekday = date::weekday(day).c_encoding();
    if (!has(cron.months, static_cast<unsigned>(ymd.month()))) continue;
    bool dom = has(cron.days_of_month, static_cast<unsigned>(ymd.day()));
    bool dow = has(cron.days_of_week, weekday);
    bool day_ok = cron.day_of_month_star || cron.day_of_week_star ? dom && dow : dom || dow;
    if (!day_ok) continue;
    for (int m = start_minute; m < 1440; ++m) {
      if (!has(cron.hours, static_cast<unsigned>(m / 60))) {
        m = m / 60 * 60 + 59;
        continue;
      }
      if (!has(cron.minutes, static_cast<unsigned>(m % 60))) continue;
      const date::local_seconds wall = day + minutes(m);
      const date::local_info info = tz->get_info(wall);
      int64_t at = 0;
      if (info.result == date::local_info::nonexistent) {
        at = duration_cast<seconds>(info.first.end.time_since_epoch()).count();  // end of gap
      } else {
        at = (wall.time_since_epoch() - info.first.offset).count();  // first occurrence
      }
      if (at > after) return at;
    }
  }
  return std::nullopt;
}

}  // namespace dango
