// cron.hpp — five-field cron expressions matched against a time zone's wall clock, for the
// plugin's own schedules (the host's scheduler takes schedules only during init, and plugins do
// not link host code). Time zones come from the OS tz database through Howard Hinnant's date.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace date {
class time_zone;
}

namespace dango {

// "minute hour day-of-month month day-of-week": `*`, values, ranges `a-b`, steps `*/n`, `a-b/n`,
// `a/n`, comma lists; JAN-DEC and SUN-SAT names; day-of-week 7 is Sunday. Macros @yearly,
// @annually, @monthly, @weekly, @daily, @midnight, @hourly. Vixie day rule: when either day field
// starts with `*` a day must match both, otherwise either. Immutable; thread-safe.
struct CronSpec {
  std::string text;
  uint64_t minutes = 0, hours = 0, days_of_month = 0, months = 0, days_of_week = 0;
  bool day_of_month_star = false, day_of_week_star = false;
};

// nullopt and `error` ("hour field: value 24 out of range 0-23") when `text` is not valid.
std::optional<CronSpec> parse_cron(const std::string& text, std::string& error);

// The zone of an IANA name ("Europe/Berlin", "UTC"); nullptr and `error` when unknown. Zones live
// as long as the process.
const date::time_zone* find_time_zone(const std::string& name, std::string& error);

// The first instant strictly after `after` (Unix seconds) at which `cron` fires on the wall clock
// of `tz`. A wall time skipped by a spring-forward gap fires at the end of the gap; one repeated
// by a fall-back overlap fires at its first occurrence only. nullopt when nothing fires within
// 8 years (`0 0 30 2 *`).
std::optional<int64_t> next_fire(const CronSpec& cron, const date::time_zone* tz, int64_t after);

}  // namespace dango
