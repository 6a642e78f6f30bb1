// cron.hpp — five-field cron expressions (Vixie cron syntax plus @macros) and when one next fires
// in a time zone. Pure time math: the scheduler that enqueues tasks builds on next_after().
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "scheduler/timezone.hpp"

namespace plughost {

// A parsed cron expression: "minute hour day-of-month month day-of-week".
//
// Syntax, per field: `*`; a value; a range `a-b`; steps `*/n`, `a-b/n` and `a/n` (from a to the
// field's last value; Saturday for day-of-week); comma-separated lists of these. Months accept
// JAN-DEC and days SUN-SAT in any case; day-of-week 7 is Sunday, like 0. Macros: @yearly and
// @annually, @monthly, @weekly (Sunday), @daily and @midnight, @hourly. Ranges must ascend (no
// FRI-MON wrap-around). Seconds fields, @reboot and Quartz extensions (L, W, #, ?) are rejected.
//
// Day matching follows Vixie cron: if either day field starts with `*` (`*/n` included), a day
// must match both; otherwise a day matching either one matches. So `0 0 13 * FRI` fires on every
// 13th and on every Friday, while `0 0 */2 * MON` fires only on Mondays with odd dates.
//
// Time zones and DST: the expression is matched against the wall clock of the zone given to
// next_after, and each matching wall-clock minute fires at most once.
//  - A wall time skipped by a spring-forward gap fires at the first instant after the gap: a
//    02:30 daily job runs at 03:00 local that day (as cronie and systemd do). Several skipped
//    times (`*/15 2 * * *`) fire once, together, at that instant.
//  - A wall time that repeats in a fall-back overlap fires only at its first occurrence; so
//    `0 * * * *` does not fire again during the repeated hour.
//
// Immutable once parsed; safe to share between threads.
class CronExpression {
 public:
  // Accepts surrounding whitespace and fields separated by spaces or tabs. On failure returns
  // nullopt and sets `error` to a message naming the field and the bad token, e.g.
  // "minute field: value 61 out of range 0-59" or "expected 5 fields, got 4".
  static std::optional<CronExpression> parse(const std::string& text, std::string& error);

  // The first instant strictly after `unix_seconds` at which the expression fires in `tz`: second
  // 0 of a matching wall-clock minute, or the end of a gap (see above). nullopt if nothing fires
  // within 8 years of wall-clock time (`0 0 30 2 *` never does); 8 years is the longest wait
  // between two Feb 29ths (2096 to 2104). Cost grows with days searched, not minutes.
  std::optional<int64_t> next_after(int64_t unix_seconds, const TimeZone& tz) const;

  // Whether the wall-clock minute `local` matches; seconds are ignored and the weekday is
  // derived from the date.
  bool matches(const CivilTime& local) const;

  // The text given to parse, unchanged.
  std::string text() const { return text_; }

 private:
  CronExpression() = default;
  bool day_matches(int year, int month, int day) const;
  std::optional<CivilTime> next_matching_minute(CivilTime c, int last_year) const;

  std::string text_;
  // Bit n is set when value n matches. Day-of-week uses bits 0-6 (7 is folded into 0).
  uint64_t minutes_ = 0;
  uint64_t hours_ = 0;
  uint64_t days_of_month_ = 0;
  uint64_t months_ = 0;
  uint64_t days_of_week_ = 0;
  bool day_of_month_star_ = false;  // the field starts with '*': see the day-matching rule
  bool day_of_week_star_ = false;
};

}  // namespace plughost
