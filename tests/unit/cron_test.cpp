#include "scheduler/cron.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>  // mkdtemp

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "scheduler/timezone.hpp"

// Facts about real zones below were checked with `zdump -v -c <years> <zone>` (tzdata 2025b) and
// epoch values with `date -u -d ... +%s`.

namespace plughost {
namespace {

int64_t utc(int year, int month, int day, int hour = 0, int minute = 0, int second = 0) {
  return seconds_from_civil(CivilTime{year, month, day, hour, minute, second, 0});
}

std::string two(int v) {
  return (v < 10 ? "0" : "") + std::to_string(v);
}

std::string format_civil(const CivilTime& c) {
  return std::to_string(c.year) + "-" + two(c.month) + "-" + two(c.day) + " " + two(c.hour) + ":" +
         two(c.minute) + ":" + two(c.second);
}

// "2026-03-29 03:00:00 +02:00": the wall time and offset together pin down the instant.
std::string describe(std::optional<int64_t> t, const TimeZone& tz) {
  if (!t) return "none";
  const int64_t offset = tz.utc_offset(*t);
  const int64_t abs = offset < 0 ? -offset : offset;
  return format_civil(tz.to_local(*t)) + " " + (offset < 0 ? "-" : "+") +
         two(static_cast<int>(abs / 3600)) + ":" + two(static_cast<int>(abs / 60 % 60));
}

TimeZone zone(const std::string& name) {
  std::string error;
  std::optional<TimeZone> tz = TimeZone::load(name, error);
  EXPECT_TRUE(tz.has_value()) << error;
  return tz ? *tz : TimeZone::utc();
}

CronExpression cron(const std::string& text) {
  std::string error;
  std::optional<CronExpression> expr = CronExpression::parse(text, error);
  EXPECT_TRUE(expr.has_value()) << text << ": " << error;
  return expr ? *expr : *CronExpression::parse("* * * * *", error);
}

std::string parse_error(const std::string& text) {
  std::string error;
  EXPECT_FALSE(CronExpression::parse(text, error).has_value()) << text;
  return error;
}

std::string next(const std::string& text, const TimeZone& tz, int64_t after) {
  return describe(cron(text).next_after(after, tz), tz);
}

std::string next_utc(const std::string& text, int64_t after) {
  return next(text, TimeZone::utc(), after);
}

// Which values of one field match, with every other field `*`.
std::vector<int> matching(int field, const std::string& spec) {
  const char* stars[5] = {"*", "*", "*", "*", "*"};
  std::string text;
  for (int i = 0; i < 5; ++i) text += (i ? " " : "") + (i == field ? spec : stars[i]);
  const CronExpression expr = cron(text);
  std::vector<int> out;
  for (int v = 0; v < 60; ++v) {
    // 2026-01-04 is a Sunday, so day-of-week v is January 4 + v.
    CivilTime c{2026, 1, 5, 0, 0, 0, 0};
    if (field == 0) c.minute = v;
    if (field == 1) c.hour = v;
    if (field == 2) c.day = v;
    if (field == 3) c.month = v;
    if (field == 4) c.day = 4 + v;
    const int limit[5] = {60, 24, 32, 13, 7};
    if (v >= limit[field] || (field == 2 && v == 0) || (field == 3 && v == 0)) continue;
    if (expr.matches(c)) out.push_back(v);
  }
  return out;
}

using Ints = std::vector<int>;

// ---------------------------------------------------------------------------------------------
// Parsing

TEST(CronParse, StarMatchesEveryValue) {
  EXPECT_EQ(matching(1, "*").size(), 24u);
  EXPECT_EQ(matching(4, "*").size(), 7u);
  EXPECT_TRUE(cron("* * * * *").matches(CivilTime{2028, 2, 29, 23, 59, 0, 0}));
}

TEST(CronParse, SingleValuesListsAndRanges) {
  EXPECT_EQ(matching(0, "7"), Ints({7}));
  EXPECT_EQ(matching(0, "1,5,10-12"), Ints({1, 5, 10, 11, 12}));
  EXPECT_EQ(matching(1, "9-11,22"), Ints({9, 10, 11, 22}));
  EXPECT_EQ(matching(2, "1,15,31"), Ints({1, 15, 31}));
}

TEST(CronParse, StepForms) {
  EXPECT_EQ(matching(0, "*/15"), Ints({0, 15, 30, 45}));
  EXPECT_EQ(matching(0, "10-30/7"), Ints({10, 17, 24}));
  EXPECT_EQ(matching(0, "50/3"), Ints({50, 53, 56, 59}));  // a/n runs to the field's end
  EXPECT_EQ(matching(1, "20/2"), Ints({20, 22}));
  EXPECT_EQ(matching(2, "*/10"), Ints({1, 11, 21, 31}));
  EXPECT_EQ(matching(3, "*/5"), Ints({1, 6, 11}));
  EXPECT_EQ(matching(0, "*/20,5,7-9/2"), Ints({0, 5, 7, 9, 20, 40}));
}

TEST(CronParse, MonthNamesAreCaseInsensitiveAndWorkInRanges) {
  EXPECT_EQ(matching(3, "jan,Mar-MAY,dec"), Ints({1, 3, 4, 5, 12}));
  EXPECT_EQ(matching(3, "FEB-aug/3"), Ints({2, 5, 8}));
}

TEST(CronParse, DayNamesAreCaseInsensitiveAndSevenIsSunday) {
  EXPECT_EQ(matching(4, "mon-FRI"), Ints({1, 2, 3, 4, 5}));
  EXPECT_EQ(matching(4, "Sun,sat"), Ints({0, 6}));
  EXPECT_EQ(matching(4, "7"), Ints({0}));
  EXPECT_EQ(matching(4, "0"), Ints({0}));
  EXPECT_EQ(matching(4, "5-7"), Ints({0, 5, 6}));
  EXPECT_EQ(matching(4, "*/2"), Ints({0, 2, 4, 6}));
  EXPECT_EQ(matching(4, "1/2"), Ints({1, 3, 5}));  // a/n ends on Saturday
}

TEST(CronParse, AcceptsTabsAndExtraWhitespaceAndKeepsOriginalText) {
  const std::string text = "  0\t12   * *  MON ";
  const CronExpression expr = cron(text);
  EXPECT_EQ(expr.text(), text);
  EXPECT_EQ(next_utc(text, utc(2026, 1, 1)), "2026-01-05 12:00:00 +00:00");
  EXPECT_EQ(cron("@daily").text(), "@daily");
}

TEST(CronParse, MacrosExpandToTheirFiveFieldSchedules) {
  const int64_t after = utc(2026, 1, 1, 10, 0);  // a Thursday
  EXPECT_EQ(next_utc("@hourly", after), "2026-01-01 11:00:00 +00:00");
  EXPECT_EQ(next_utc("@daily", after), "2026-01-02 00:00:00 +00:00");
  EXPECT_EQ(next_utc("@midnight", after), "2026-01-02 00:00:00 +00:00");
  EXPECT_EQ(next_utc("@weekly", after), "2026-01-04 00:00:00 +00:00");
  EXPECT_EQ(next_utc("@monthly", after), "2026-02-01 00:00:00 +00:00");
  EXPECT_EQ(next_utc("@yearly", after), "2027-01-01 00:00:00 +00:00");
  EXPECT_EQ(next_utc("@annually", after), "2027-01-01 00:00:00 +00:00");
  EXPECT_EQ(next_utc(" @Daily\n", after), "2026-01-02 00:00:00 +00:00");
}

struct ParseErrorCase {
  const char* text;
  const char* error;
};

void expect_parse_errors(const std::vector<ParseErrorCase>& cases) {
  for (const ParseErrorCase& c : cases) EXPECT_EQ(parse_error(c.text), c.error) << c.text;
}

TEST(CronParse, WrongFieldCountIsReported) {
  expect_parse_errors({
      {"", "expected 5 fields, got 0"},
      {"   ", "expected 5 fields, got 0"},
      {"* * * *", "expected 5 fields, got 4"},
      {"0 * * * * *", "expected 5 fields, got 6"},
  });
}

TEST(CronParse, OutOfRangeValuesNameFieldValueAndRange) {
  expect_parse_errors({
      {"61 * * * *", "minute field: value 61 out of range 0-59"},
      {"* 24 * * *", "hour field: value 24 out of range 0-23"},
      {"* * 0 * *", "day-of-month field: value 0 out of range 1-31"},
      {"* * 32 * *", "day-of-month field: value 32 out of range 1-31"},
      {"* * * 0 *", "month field: value 0 out of range 1-12"},
      {"* * * 13 *", "month field: value 13 out of range 1-12"},
      {"* * * * 8", "day-of-week field: value 8 out of range 0-7"},
      {"1-70 * * * *", "minute field: value 70 out of range 0-59"},
      {"99999999999 * * * *", "minute field: value 99999999999 out of range 0-59"},
  });
}

TEST(CronParse, InvalidTokensAreQuoted) {
  expect_parse_errors({
      {"x * * * *", "minute field: invalid value \"x\""},
      {"MON * * * *", "minute field: invalid value \"MON\""},
      {"*5 * * * *", "minute field: invalid value \"*5\""},
      {"* * * FOO *", "month field: invalid value \"FOO\""},
      {"* * * * MONDAY", "day-of-week field: invalid value \"MONDAY\""},
      {"* * L * *", "day-of-month field: invalid value \"L\""},
      {"* * ? * *", "day-of-month field: invalid value \"?\""},
      {"* * * * 5#3", "day-of-week field: invalid value \"5#3\""},
      {"1,,2 * * * *", "minute field: empty list item"},
      {"* 1, * * *", "hour field: empty list item"},
  });
}

TEST(CronParse, BadStepsAreRejected) {
  expect_parse_errors({
      {"*/0 * * * *", "minute field: step 0 out of range 1-59"},
      {"*/60 * * * *", "minute field: step 60 out of range 1-59"},
      {"* * * * */8", "day-of-week field: step 8 out of range 1-7"},
      {"* */x * * *", "hour field: invalid step \"x\""},
      {"* 1/ * * *", "hour field: invalid step \"\""},
      {"1/2/3 * * * *", "minute field: invalid step \"2/3\""},
  });
}

TEST(CronParse, BadRangesAreRejected) {
  expect_parse_errors({
      {"30-10 * * * *", "minute field: range 30-10 ends before it starts"},
      {"* * * * FRI-MON", "day-of-week field: range FRI-MON ends before it starts"},
      {"1-2-3 * * * *", "minute field: invalid range \"1-2-3\""},
      {"-5 * * * *", "minute field: invalid range \"-5\""},
      {"5- * * * *", "minute field: invalid range \"5-\""},
  });
}

TEST(CronParse, UnknownOrMisusedMacrosAreRejected) {
  expect_parse_errors({
      {"@reboot", "unknown macro \"@reboot\""},
      {"@", "unknown macro \"@\""},
      {"@daily 0", "unexpected text after \"@daily\""},
  });
}

// ---------------------------------------------------------------------------------------------
// next_after in UTC

TEST(CronNextAfter, EveryMinuteFiresAtTheNextWholeMinuteStrictlyAfter) {
  EXPECT_EQ(next_utc("* * * * *", utc(2026, 1, 1, 12, 0, 30)), "2026-01-01 12:01:00 +00:00");
  EXPECT_EQ(next_utc("* * * * *", utc(2026, 1, 1, 12, 0, 0)), "2026-01-01 12:01:00 +00:00");
  EXPECT_EQ(next_utc("* * * * *", utc(2026, 12, 31, 23, 59, 59)), "2027-01-01 00:00:00 +00:00");
}

TEST(CronNextAfter, FixedDailyTimeFiresTodayOrRollsToTomorrow) {
  EXPECT_EQ(next_utc("30 9 * * *", utc(2026, 1, 1, 9, 29, 59)), "2026-01-01 09:30:00 +00:00");
  EXPECT_EQ(next_utc("30 9 * * *", utc(2026, 1, 1, 9, 30)), "2026-01-02 09:30:00 +00:00");
  EXPECT_EQ(next_utc("0 0 1 1 *", utc(2026, 6, 1)), "2027-01-01 00:00:00 +00:00");
}

TEST(CronNextAfter, StepsListsAndRangesCombineAcrossHours) {
  EXPECT_EQ(next_utc("*/20 9-10 * * *", utc(2026, 1, 1, 9, 55)), "2026-01-01 10:00:00 +00:00");
  EXPECT_EQ(next_utc("*/20 9-10 * * *", utc(2026, 1, 1, 10, 40)), "2026-01-02 09:00:00 +00:00");
  EXPECT_EQ(next_utc("5,35 */6 * * *", utc(2026, 1, 1, 6, 35)), "2026-01-01 12:05:00 +00:00");
  EXPECT_EQ(next_utc("0 12 1-7/3 * *", utc(2026, 1, 4, 12)), "2026-01-07 12:00:00 +00:00");
}

TEST(CronNextAfter, DayThirtyFirstSkipsShortMonths) {
  EXPECT_EQ(next_utc("0 12 31 * *", utc(2026, 4, 1)), "2026-05-31 12:00:00 +00:00");
  EXPECT_EQ(next_utc("0 12 31 * *", utc(2026, 5, 31, 12)), "2026-07-31 12:00:00 +00:00");
}

TEST(CronNextAfter, MonthAndDayNamesSchedule) {
  EXPECT_EQ(next_utc("0 0 1 jan,jul *", utc(2026, 2, 1)), "2026-07-01 00:00:00 +00:00");
  // 2026-01-02 is a Friday.
  EXPECT_EQ(next_utc("0 9 * * mon-fri", utc(2026, 1, 2, 10)), "2026-01-05 09:00:00 +00:00");
  EXPECT_EQ(next_utc("0 9 * * 7", utc(2026, 1, 2)), "2026-01-04 09:00:00 +00:00");
}

TEST(CronNextAfter, RestrictedDayOfMonthAndDayOfWeekMatchEither) {
  // 2026-01-01 is a Thursday; the 13th is a Tuesday.
  const CronExpression expr = cron("0 0 13 * FRI");
  std::vector<std::string> fires;
  int64_t t = utc(2026, 1, 1);
  for (int i = 0; i < 4; ++i) {
    t = expr.next_after(t, TimeZone::utc()).value_or(0);
    fires.push_back(describe(t, TimeZone::utc()));
  }
  EXPECT_EQ(fires,
            (std::vector<std::string>{"2026-01-02 00:00:00 +00:00", "2026-01-09 00:00:00 +00:00",
                                      "2026-01-13 00:00:00 +00:00", "2026-01-16 00:00:00 +00:00"}));
  // Either side can match on its own, even when the date never exists.
  EXPECT_EQ(next_utc("0 0 30 2 MON", utc(2026, 1, 6)), "2026-02-02 00:00:00 +00:00");
}

TEST(CronNextAfter, DayFieldStartingWithStarRequiresBothToMatch) {
  // Vixie cron treats "*/2" like "*": odd-numbered Mondays only.
  EXPECT_EQ(next_utc("0 0 */2 * MON", utc(2026, 1, 1)), "2026-01-05 00:00:00 +00:00");
  EXPECT_EQ(next_utc("0 0 */2 * MON", utc(2026, 1, 5)), "2026-01-19 00:00:00 +00:00");
  EXPECT_EQ(next_utc("0 0 */2 * MON", utc(2026, 1, 19)), "2026-02-09 00:00:00 +00:00");
  EXPECT_EQ(next_utc("0 0 13 * *", utc(2026, 1, 1)), "2026-01-13 00:00:00 +00:00");
  EXPECT_EQ(next_utc("0 0 * * FRI", utc(2026, 1, 2)), "2026-01-09 00:00:00 +00:00");
}

TEST(CronNextAfter, FebruaryTwentyNinthWaitsForLeapYears) {
  EXPECT_EQ(next_utc("0 0 29 2 *", utc(2026, 1, 1)), "2028-02-29 00:00:00 +00:00");
  EXPECT_EQ(next_utc("0 0 29 2 *", utc(2024, 2, 28)), "2024-02-29 00:00:00 +00:00");
  // 2100 is not a leap year, so this is the longest possible wait: eight years.
  EXPECT_EQ(next_utc("0 0 29 2 *", utc(2096, 3, 1)), "2104-02-29 00:00:00 +00:00");
}

TEST(CronNextAfter, ImpossibleDatesGiveUpInsteadOfLooping) {
  EXPECT_EQ(next_utc("0 0 30 2 *", utc(2026, 1, 1)), "none");
  EXPECT_EQ(next_utc("0 0 31 2,4,6,9,11 *", utc(2026, 1, 1)), "none");
  EXPECT_EQ(next_utc("* * 31 4 *", utc(2026, 1, 1)), "none");
}

TEST(CronNextAfter, SuccessiveFiresStrictlyIncrease) {
  const CronExpression expr = cron("*/7 1,13 * * *");
  int64_t t = utc(2026, 12, 30);
  for (int i = 0; i < 100; ++i) {
    const std::optional<int64_t> fire = expr.next_after(t, TimeZone::utc());
    ASSERT_TRUE(fire.has_value());
    ASSERT_GT(*fire, t);
    ASSERT_EQ(*fire % 60, 0);
    t = *fire;
  }
}

TEST(CronNextAfter, ExtremeInstantsReturnNothingInsteadOfOverflowing) {
  const CronExpression expr = cron("* * * * *");
  EXPECT_FALSE(expr.next_after(std::numeric_limits<int64_t>::max(), TimeZone::utc()));
  EXPECT_FALSE(expr.next_after(std::numeric_limits<int64_t>::min(), TimeZone::utc()));
}

// ---------------------------------------------------------------------------------------------
// next_after across DST changes

TEST(CronDst, SpringForwardGapFiresAtFirstInstantAfterGap) {
  const TimeZone berlin = zone("Europe/Berlin");  // 2026-03-29 02:00 CET -> 03:00 CEST
  const CronExpression expr = cron("30 2 * * *");
  const std::optional<int64_t> fire = expr.next_after(utc(2026, 3, 28, 12), berlin);
  EXPECT_EQ(describe(fire, berlin), "2026-03-29 03:00:00 +02:00");
  EXPECT_EQ(fire, utc(2026, 3, 29, 1));
  EXPECT_EQ(describe(expr.next_after(*fire, berlin), berlin), "2026-03-30 02:30:00 +02:00");

  const TimeZone new_york = zone("America/New_York");  // 2026-03-08 02:00 EST -> 03:00 EDT
  EXPECT_EQ(next("30 2 * * *", new_york, utc(2026, 3, 7, 12)), "2026-03-08 03:00:00 -04:00");
}

TEST(CronDst, SeveralSkippedTimesFireOnceTogether) {
  const TimeZone berlin = zone("Europe/Berlin");
  const CronExpression expr = cron("*/15 2 * * *");
  const std::optional<int64_t> fire = expr.next_after(utc(2026, 3, 28, 12), berlin);
  EXPECT_EQ(describe(fire, berlin), "2026-03-29 03:00:00 +02:00");
  EXPECT_EQ(describe(expr.next_after(*fire, berlin), berlin), "2026-03-30 02:00:00 +02:00");
  // A job at the gap's end and one inside it coincide.
  EXPECT_EQ(cron("0 3 * * *").next_after(utc(2026, 3, 28, 12), berlin), fire);
  EXPECT_EQ(next("* * * * *", berlin, utc(2026, 3, 29, 0, 59, 30)), "2026-03-29 03:00:00 +02:00");
}

TEST(CronDst, FallBackOverlapFiresOnlyAtFirstOccurrence) {
  const TimeZone berlin = zone("Europe/Berlin");  // 2026-10-25 03:00 CEST -> 02:00 CET
  const CronExpression expr = cron("30 2 * * *");
  const std::optional<int64_t> fire = expr.next_after(utc(2026, 10, 24, 12), berlin);
  EXPECT_EQ(describe(fire, berlin), "2026-10-25 02:30:00 +02:00");
  EXPECT_EQ(describe(expr.next_after(*fire, berlin), berlin), "2026-10-26 02:30:00 +01:00");

  const TimeZone new_york = zone("America/New_York");  // 2026-11-01 02:00 EDT -> 01:00 EST
  const CronExpression half_past_one = cron("30 1 * * *");
  const std::optional<int64_t> ny_fire = half_past_one.next_after(utc(2026, 10, 31, 12), new_york);
  EXPECT_EQ(describe(ny_fire, new_york), "2026-11-01 01:30:00 -04:00");
  EXPECT_EQ(describe(half_past_one.next_after(*ny_fire, new_york), new_york),
            "2026-11-02 01:30:00 -05:00");
}

TEST(CronDst, RepeatedHourDoesNotFireAgain) {
  const TimeZone new_york = zone("America/New_York");
  // 05:00 UTC is 01:00 EDT; the clock then shows 01:00-01:59 twice.
  EXPECT_EQ(next("0 * * * *", new_york, utc(2026, 11, 1, 5)), "2026-11-01 02:00:00 -05:00");
  EXPECT_EQ(next("*/30 * * * *", new_york, utc(2026, 11, 1, 5)), "2026-11-01 01:30:00 -04:00");
  EXPECT_EQ(next("*/30 * * * *", new_york, utc(2026, 11, 1, 5, 30)), "2026-11-01 02:00:00 -05:00");
  // Starting inside the repeat (01:15 EST): 01:45 already fired at its first occurrence.
  EXPECT_EQ(next("45 1 * * *", new_york, utc(2026, 11, 1, 6, 15)), "2026-11-02 01:45:00 -05:00");
  EXPECT_EQ(next("0 2 * * *", new_york, utc(2026, 11, 1, 6, 15)), "2026-11-01 02:00:00 -05:00");
}

TEST(CronDst, HourlyJobFiresOncePerWallClockHourOnDstDays) {
  const TimeZone berlin = zone("Europe/Berlin");
  const CronExpression hourly = cron("0 * * * *");
  auto count_fires = [&](int64_t from, int64_t to) {
    int n = 0;
    for (std::optional<int64_t> t = hourly.next_after(from - 1, berlin); t && *t < to;
         t = hourly.next_after(*t, berlin)) {
      ++n;
    }
    return n;
  };
  // Local midnight to midnight: 23 real hours in March, 25 in October.
  EXPECT_EQ(count_fires(utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)), 23);
  EXPECT_EQ(count_fires(utc(2026, 10, 24, 22), utc(2026, 10, 25, 23)), 24);
}

TEST(CronDst, SouthernHemisphereAndHalfHourZones) {
  // Sydney springs forward 2026-10-04 02:00 AEST -> 03:00 AEDT.
  EXPECT_EQ(next("30 2 * * *", zone("Australia/Sydney"), utc(2026, 10, 3)),
            "2026-10-04 03:00:00 +11:00");
  EXPECT_EQ(next("30 2 * * *", zone("Australia/Sydney"), utc(2026, 4, 4)),
            "2026-04-05 02:30:00 +11:00");
  // Adelaide (+9:30/+10:30) springs forward the same night.
  EXPECT_EQ(next("15 2 * * *", zone("Australia/Adelaide"), utc(2026, 10, 3)),
            "2026-10-04 03:00:00 +10:30");
  EXPECT_EQ(next("0 9 * * *", zone("Asia/Kolkata"), utc(2026, 1, 15)),
            "2026-01-15 09:00:00 +05:30");
}

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic

TEST(Calendar, CivilConversionsMatchKnownInstants) {
  EXPECT_EQ(utc(1970, 1, 1), 0);
  EXPECT_EQ(utc(2000, 2, 29, 12, 34, 56), 951827696);
  EXPECT_EQ(utc(1969, 12, 31, 23, 59, 59), -1);
  EXPECT_EQ(utc(1900, 3, 1), -2203891200);
  EXPECT_EQ(utc(1600, 1, 1), -11676096000);
  EXPECT_EQ(utc(9999, 12, 31, 23, 59, 59), 253402300799);
  EXPECT_EQ(utc(2026, 3, 8, 7), 1772953200);
  EXPECT_EQ(format_civil(civil_from_seconds(951827696)), "2000-02-29 12:34:56");
  EXPECT_EQ(format_civil(civil_from_seconds(-1)), "1969-12-31 23:59:59");
  EXPECT_EQ(format_civil(civil_from_seconds(-11676096000)), "1600-01-01 00:00:00");
  EXPECT_EQ(civil_from_seconds(951827696).weekday, 2);     // Tuesday
  EXPECT_EQ(civil_from_seconds(-1).weekday, 3);            // Wednesday
  EXPECT_EQ(civil_from_seconds(-11676096000).weekday, 6);  // Saturday
}

TEST(Calendar, LeapYearsAndMonthLengths) {
  EXPECT_TRUE(is_leap_year(2000));
  EXPECT_TRUE(is_leap_year(2028));
  EXPECT_FALSE(is_leap_year(1900));
  EXPECT_FALSE(is_leap_year(2100));
  EXPECT_EQ(days_in_month(2028, 2), 29);
  EXPECT_EQ(days_in_month(2100, 2), 28);
  EXPECT_EQ(days_in_month(2026, 4), 30);
  EXPECT_EQ(days_in_month(2026, 12), 31);
}

TEST(Calendar, OutOfRangeFieldsCarry) {
  EXPECT_EQ(seconds_from_civil(CivilTime{2026, 13, 1, 0, 0, 0, 0}), utc(2027, 1, 1));
  EXPECT_EQ(seconds_from_civil(CivilTime{2026, 0, 1, 0, 0, 0, 0}), utc(2025, 12, 1));
  EXPECT_EQ(seconds_from_civil(CivilTime{2026, 3, 0, 0, 0, 0, 0}), utc(2026, 2, 28));
  EXPECT_EQ(seconds_from_civil(CivilTime{2028, 2, 30, 24, 0, 0, 0}), utc(2028, 3, 2));
}

// ---------------------------------------------------------------------------------------------
// TimeZone against real zones

TEST(TimeZone, BerlinIsOneHourAheadInWinterAndTwoInSummer) {
  const TimeZone berlin = zone("Europe/Berlin");
  EXPECT_EQ(berlin.name(), "Europe/Berlin");
  EXPECT_EQ(berlin.utc_offset(1768435200), 3600);  // 2026-01-15 00:00 UTC
  EXPECT_EQ(berlin.utc_offset(1784073600), 7200);  // 2026-07-15 00:00 UTC
  const CivilTime local = berlin.to_local(1784073600);
  EXPECT_EQ(format_civil(local), "2026-07-15 02:00:00");
  EXPECT_EQ(local.weekday, 3);  // Wednesday
}

TEST(TimeZone, NewYorkTransitionsIn2026) {
  const TimeZone ny = zone("America/New_York");
  EXPECT_EQ(ny.utc_offset(1772953200 - 1), -18000);  // 2026-03-08 07:00:00 UTC
  EXPECT_EQ(ny.utc_offset(1772953200), -14400);
  EXPECT_EQ(ny.utc_offset(1793512800 - 1), -14400);  // 2026-11-01 06:00:00 UTC
  EXPECT_EQ(ny.utc_offset(1793512800), -18000);
  EXPECT_EQ(format_civil(ny.to_local(utc(2026, 1, 1, 3))), "2025-12-31 22:00:00");
  EXPECT_EQ(ny.to_local(utc(2026, 1, 1, 3)).weekday, 3);
}

TEST(TimeZone, FooterRuleCoversInstantsAfterTheLastTransition) {
  const TimeZone berlin = zone("Europe/Berlin");
  EXPECT_EQ(berlin.utc_offset(utc(2100, 3, 28, 1) - 1), 3600);
  EXPECT_EQ(berlin.utc_offset(utc(2100, 3, 28, 1)), 7200);
  EXPECT_EQ(berlin.utc_offset(utc(2100, 10, 31, 1) - 1), 7200);
  EXPECT_EQ(berlin.utc_offset(utc(2100, 10, 31, 1)), 3600);
  EXPECT_EQ(berlin.utc_offset(utc(3000, 7, 1)), 7200);
  const TimeZone ny = zone("America/New_York");
  EXPECT_EQ(ny.utc_offset(utc(2100, 3, 14, 7) - 1), -18000);
  EXPECT_EQ(ny.utc_offset(utc(2100, 3, 14, 7)), -14400);
  EXPECT_EQ(ny.utc_offset(utc(2100, 11, 7, 6) - 1), -14400);
  EXPECT_EQ(ny.utc_offset(utc(2100, 11, 7, 6)), -18000);
}

TEST(TimeZone, FooterRuleTimesMayBeNegativeOrBeyondOneDay) {
  const TimeZone nuuk = zone("America/Nuuk");  // M3.5.0/-1,M10.5.0/0
  EXPECT_EQ(nuuk.utc_offset(utc(2100, 3, 28, 1) - 1), -7200);
  EXPECT_EQ(nuuk.utc_offset(utc(2100, 3, 28, 1)), -3600);
  EXPECT_EQ(nuuk.utc_offset(utc(2100, 10, 31, 1) - 1), -3600);
  EXPECT_EQ(nuuk.utc_offset(utc(2100, 10, 31, 1)), -7200);
  const TimeZone jerusalem = zone("Asia/Jerusalem");  // M3.4.4/26
  EXPECT_EQ(jerusalem.utc_offset(utc(2100, 3, 26) - 1), 7200);
  EXPECT_EQ(jerusalem.utc_offset(utc(2100, 3, 26)), 10800);
  const TimeZone gaza = zone("Asia/Gaza");  // M3.4.4/50,M10.4.4/50
  EXPECT_EQ(gaza.utc_offset(utc(2100, 3, 27) - 1), 7200);
  EXPECT_EQ(gaza.utc_offset(utc(2100, 3, 27)), 10800);
  EXPECT_EQ(gaza.utc_offset(utc(2100, 10, 29, 23) - 1), 10800);
  EXPECT_EQ(gaza.utc_offset(utc(2100, 10, 29, 23)), 7200);
  const TimeZone santiago = zone("America/Santiago");  // M9.1.6/24,M4.1.6/24
  EXPECT_EQ(santiago.utc_offset(utc(2100, 4, 4, 3) - 1), -10800);
  EXPECT_EQ(santiago.utc_offset(utc(2100, 4, 4, 3)), -14400);
  EXPECT_EQ(santiago.utc_offset(utc(2100, 9, 5, 4) - 1), -14400);
  EXPECT_EQ(santiago.utc_offset(utc(2100, 9, 5, 4)), -10800);
}

TEST(TimeZone, NegativeDaylightSavingInDublin) {
  const TimeZone dublin = zone("Europe/Dublin");  // IST-1GMT0,M10.5.0,M3.5.0/1
  EXPECT_EQ(dublin.utc_offset(utc(2100, 1, 15)), 0);
  EXPECT_EQ(dublin.utc_offset(utc(2100, 7, 15)), 3600);
  EXPECT_EQ(dublin.utc_offset(utc(2100, 3, 28, 1) - 1), 0);
  EXPECT_EQ(dublin.utc_offset(utc(2100, 3, 28, 1)), 3600);
  EXPECT_EQ(dublin.utc_offset(utc(2100, 10, 31, 1)), 0);
}

TEST(TimeZone, SouthernHemisphereSydney) {
  const TimeZone sydney = zone("Australia/Sydney");
  EXPECT_EQ(sydney.utc_offset(utc(2026, 1, 15)), 39600);
  EXPECT_EQ(sydney.utc_offset(utc(2026, 4, 4, 16) - 1), 39600);
  EXPECT_EQ(sydney.utc_offset(utc(2026, 4, 4, 16)), 36000);
  EXPECT_EQ(sydney.utc_offset(utc(2026, 10, 3, 16) - 1), 36000);
  EXPECT_EQ(sydney.utc_offset(utc(2026, 10, 3, 16)), 39600);
  EXPECT_EQ(sydney.utc_offset(utc(2100, 7, 1)), 36000);
  EXPECT_EQ(sydney.utc_offset(utc(2100, 12, 1)), 39600);
}

TEST(TimeZone, HalfHourOffsets) {
  const TimeZone kolkata = zone("Asia/Kolkata");
  EXPECT_EQ(kolkata.utc_offset(utc(2026, 1, 15)), 19800);
  EXPECT_EQ(kolkata.utc_offset(utc(2026, 7, 15)), 19800);
  EXPECT_EQ(format_civil(kolkata.to_local(utc(2026, 1, 15))), "2026-01-15 05:30:00");
  const TimeZone adelaide = zone("Australia/Adelaide");
  EXPECT_EQ(adelaide.utc_offset(utc(2026, 4, 4, 16, 30) - 1), 37800);
  EXPECT_EQ(adelaide.utc_offset(utc(2026, 4, 4, 16, 30)), 34200);
  EXPECT_EQ(adelaide.utc_offset(utc(2026, 10, 3, 16, 30)), 37800);
}

TEST(TimeZone, FromLocalReturnsNoneOneOrTwoInstants) {
  const TimeZone berlin = zone("Europe/Berlin");
  EXPECT_EQ(berlin.from_local({2026, 3, 29, 2, 30, 0, 0}), std::vector<int64_t>{});
  EXPECT_EQ(berlin.from_local({2026, 3, 29, 1, 59, 59, 0}),
            std::vector<int64_t>{utc(2026, 3, 29, 0, 59, 59)});
  EXPECT_EQ(berlin.from_local({2026, 3, 29, 3, 0, 0, 0}),
            std::vector<int64_t>{utc(2026, 3, 29, 1)});
  EXPECT_EQ(berlin.from_local({2026, 7, 15, 12, 0, 0, 0}),
            std::vector<int64_t>{utc(2026, 7, 15, 10)});
  EXPECT_EQ(berlin.from_local({2026, 10, 25, 2, 30, 0, 0}),
            (std::vector<int64_t>{utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)}));
  const TimeZone ny = zone("America/New_York");
  EXPECT_EQ(ny.from_local({2026, 3, 8, 2, 0, 0, 0}), std::vector<int64_t>{});
  EXPECT_EQ(ny.from_local({2026, 11, 1, 1, 0, 0, 0}),
            (std::vector<int64_t>{utc(2026, 11, 1, 5), utc(2026, 11, 1, 6)}));
  EXPECT_EQ(ny.from_local({2026, 11, 1, 2, 0, 0, 0}), std::vector<int64_t>{utc(2026, 11, 1, 7)});
  const TimeZone sydney = zone("Australia/Sydney");
  EXPECT_EQ(sydney.from_local({2026, 10, 4, 2, 30, 0, 0}).size(), 0u);
  EXPECT_EQ(sydney.from_local({2026, 4, 5, 2, 30, 0, 0}).size(), 2u);
}

TEST(TimeZone, ResolveLocalPicksFirstOccurrenceOrGapEnd) {
  const TimeZone berlin = zone("Europe/Berlin");
  EXPECT_EQ(berlin.resolve_local({2026, 3, 29, 2, 30, 0, 0}), utc(2026, 3, 29, 1));
  EXPECT_EQ(berlin.resolve_local({2026, 10, 25, 2, 30, 0, 0}), utc(2026, 10, 25, 0, 30));
  EXPECT_EQ(berlin.resolve_local({2026, 7, 15, 12, 0, 0, 0}), utc(2026, 7, 15, 10));
}

TEST(TimeZone, UtcNeedsNoFileAndLoadsFromOne) {
  EXPECT_EQ(TimeZone::utc().utc_offset(utc(2026, 7, 1)), 0);
  EXPECT_EQ(TimeZone::utc().name(), "UTC");
  const TimeZone loaded = zone("UTC");
  EXPECT_EQ(loaded.utc_offset(utc(2026, 7, 1)), 0);
  EXPECT_EQ(loaded.from_local({2026, 7, 1, 0, 0, 0, 0}), std::vector<int64_t>{utc(2026, 7, 1)});
}

TEST(TimeZone, LoadRejectsUnknownZonesAndPathTraversal) {
  std::string error;
  EXPECT_FALSE(TimeZone::load("Mars/Olympus_Mons", error));
  EXPECT_EQ(error, "unknown time zone \"Mars/Olympus_Mons\"");
  EXPECT_FALSE(TimeZone::load("Europe", error));  // a directory
  EXPECT_EQ(error, "unknown time zone \"Europe\"");
  for (const char* name : {"../../etc/passwd", "/etc/localtime", "Europe/../Europe/Berlin", "",
                           "Europe/Ber lin", "..", "Europe\\Berlin"}) {
    EXPECT_FALSE(TimeZone::load(name, error)) << name;
    EXPECT_EQ(error, "invalid time zone name \"" + std::string(name) + "\"");
  }
}

TEST(TimeZone, LeapSecondZonesAreRejected) {
  if (!std::filesystem::exists("/usr/share/zoneinfo/right/UTC")) GTEST_SKIP();
  std::string error;
  EXPECT_FALSE(TimeZone::load("right/UTC", error));
  EXPECT_EQ(error,
            "time zone \"right/UTC\": TZif leap-second data (\"right/\" zones) is not supported");
}

// ---------------------------------------------------------------------------------------------
// TimeZone against generated TZif data

struct TzifSpec {
  char version = '2';
  std::vector<int64_t> transitions;
  std::vector<uint8_t> transition_types;
  std::vector<int32_t> type_offsets = {0};
  std::string footer;
  uint32_t leap_count = 0;
};

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_tzif_block(std::string& out, const TzifSpec& spec, int time_size) {
  out += "TZif";
  out.push_back(spec.version);
  out.append(15, '\0');
  for (uint64_t count :
       {uint64_t{0}, uint64_t{0}, uint64_t{spec.leap_count}, uint64_t{spec.transitions.size()},
        uint64_t{spec.type_offsets.size()}, uint64_t{4}}) {
    put_be(out, count, 4);
  }
  for (int64_t t : spec.transitions) put_be(out, static_cast<uint64_t>(t), time_size);
  for (uint8_t type : spec.transition_types) out.push_back(static_cast<char>(type));
  for (int32_t offset : spec.type_offsets) {
    put_be(out, static_cast<uint32_t>(offset), 4);
    out.push_back(offset != spec.type_offsets[0] ? 1 : 0);
    out.push_back(0);
  }
  out += std::string("XYZ\0", 4);
  out.append(spec.leap_count * (time_size + 4), '\0');
}

std::string make_tzif(const TzifSpec& spec) {
  std::string out;
  put_tzif_block(out, spec, 4);
  if (spec.version == 0) return out;
  put_tzif_block(out, spec, 8);
  return out + "\n" + spec.footer + "\n";
}

std::optional<TimeZone> parse(const TzifSpec& spec, std::string& error) {
  return TimeZone::parse_tzif("Test/Zone", make_tzif(spec), error);
}

TimeZone parse_ok(const TzifSpec& spec) {
  std::string error;
  std::optional<TimeZone> tz = parse(spec, error);
  EXPECT_TRUE(tz.has_value()) << error;
  return tz ? *tz : TimeZone::utc();
}

TEST(TimeZoneTzif, Version1FileUsesThe32BitBlock) {
  TzifSpec spec;
  spec.version = 0;
  spec.type_offsets = {3600, 7200};
  spec.transitions = {utc(2020, 1, 1), utc(2020, 6, 1)};
  spec.transition_types = {1, 0};
  const TimeZone tz = parse_ok(spec);
  EXPECT_EQ(tz.utc_offset(utc(2019, 1, 1)), 3600);  // before the first: type 0
  EXPECT_EQ(tz.utc_offset(utc(2020, 3, 1)), 7200);
  EXPECT_EQ(tz.utc_offset(utc(2030, 3, 1)), 3600);  // no footer: the last type persists
}

TEST(TimeZoneTzif, Version3FileWithEmptyFooterKeepsLastOffset) {
  TzifSpec spec;
  spec.version = '3';
  spec.type_offsets = {0, -7200};
  spec.transitions = {utc(2020, 1, 1)};
  spec.transition_types = {1};
  const TimeZone tz = parse_ok(spec);
  EXPECT_EQ(tz.utc_offset(utc(2019, 1, 1)), 0);
  EXPECT_EQ(tz.utc_offset(utc(2090, 1, 1)), -7200);
}

TEST(TimeZoneTzif, FooterJulianDayFormSkipsFebruaryTwentyNinth) {
  TzifSpec spec;
  spec.type_offsets = {3600};
  spec.footer = "AAA-1BBB,J60/2,300/3";  // DST from March 1 to day 300 (counting from 0)
  const TimeZone tz = parse_ok(spec);
  // 2028 is a leap year: J60 is still March 1, but day 300 is October 27, not 28.
  EXPECT_EQ(tz.utc_offset(utc(2028, 3, 1, 1) - 1), 3600);
  EXPECT_EQ(tz.utc_offset(utc(2028, 3, 1, 1)), 7200);
  EXPECT_EQ(tz.utc_offset(utc(2028, 10, 27, 1) - 1), 7200);
  EXPECT_EQ(tz.utc_offset(utc(2028, 10, 27, 1)), 3600);
  EXPECT_EQ(tz.utc_offset(utc(2027, 10, 28, 1) - 1), 7200);
  EXPECT_EQ(tz.utc_offset(utc(2027, 10, 28, 1)), 3600);
}

TEST(TimeZoneTzif, FooterZeroBasedDayFormCountsFebruaryTwentyNinth) {
  TzifSpec spec;
  spec.type_offsets = {-10800};
  spec.footer = "<-03>3<-02>,59/0,300/-1";
  const TimeZone tz = parse_ok(spec);
  // Day 59 is Feb 29 in 2028 and March 1 in 2027; 00:00 at -03 is 03:00 UTC.
  EXPECT_EQ(tz.utc_offset(utc(2028, 2, 29, 3) - 1), -10800);
  EXPECT_EQ(tz.utc_offset(utc(2028, 2, 29, 3)), -7200);
  EXPECT_EQ(tz.utc_offset(utc(2027, 3, 1, 3)), -7200);
  // Day 300 at -1:00 DST is the evening before: 2027-10-27 23:00 -02 = 2027-10-28 01:00 UTC.
  EXPECT_EQ(tz.utc_offset(utc(2027, 10, 28, 1) - 1), -7200);
  EXPECT_EQ(tz.utc_offset(utc(2027, 10, 28, 1)), -10800);
}

TEST(TimeZoneTzif, FooterDaylightTimeAllYear) {
  TzifSpec spec;
  spec.type_offsets = {-14400};
  spec.footer = "EST5EDT,0/0,J365/25";  // RFC 8536's way of saying "always DST"
  const TimeZone tz = parse_ok(spec);
  for (int64_t t : {utc(2030, 1, 1, 5), utc(2030, 1, 1, 5) - 1, utc(2030, 6, 1),
                    utc(2030, 12, 31, 23, 59), utc(2032, 1, 1, 5)}) {
    EXPECT_EQ(tz.utc_offset(t), -14400) << t;
  }
}

TEST(TimeZoneTzif, FooterWithoutDaylightTimeAndWithMinutes) {
  TzifSpec spec;
  spec.type_offsets = {12600};
  spec.footer = "<+0330>-3:30";
  EXPECT_EQ(parse_ok(spec).utc_offset(utc(2090, 6, 1)), 12600);
  spec.footer = "XST+1:30:15";
  EXPECT_EQ(parse_ok(spec).utc_offset(utc(2090, 6, 1)), -5415);
}

TEST(TimeZoneTzif, MalformedFootersAreErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"CET-1CEST,M3.5.0", "bad transition rule"},
      {"CET-1CEST", "daylight time without a transition rule"},
      {"CET-1CEST,M13.5.0,M10.5.0", "bad transition rule"},
      {"CET-1CEST,M3.5.0,M10.5.0/168", "bad transition rule"},
      {"CET-1CEST,M3.5.0,M10.5.0x", "unexpected text after the rule"},
      {"CE-1", "bad standard time name"},
      {"CET", "bad standard time offset"},
      {"CET25", "bad standard time offset"},
      {"<+01-1", "bad standard time name"},
      {"CET-1CEST-x,M3.5.0,M10.5.0", "bad daylight time offset"},
      {"CET-1CE", "bad daylight time name"},
  };
  for (const auto& [footer, message] : cases) {
    TzifSpec spec;
    spec.footer = footer;
    std::string error;
    EXPECT_FALSE(parse(spec, error)) << footer;
    EXPECT_EQ(error, "time zone \"Test/Zone\": TZ footer \"" + footer + "\": " + message);
  }
}

TEST(TimeZoneTzif, InconsistentDataIsRejected) {
  std::string error;
  TzifSpec unordered;
  unordered.type_offsets = {0, 3600};
  unordered.transitions = {200, 100};
  unordered.transition_types = {1, 0};
  EXPECT_FALSE(parse(unordered, error));
  EXPECT_EQ(error, "time zone \"Test/Zone\": TZif transition times are not ascending");

  TzifSpec bad_type = unordered;
  bad_type.transitions = {100, 200};
  bad_type.transition_types = {1, 2};
  EXPECT_FALSE(parse(bad_type, error));
  EXPECT_EQ(error,
            "time zone \"Test/Zone\": TZif transition refers to an undefined local time type");

  TzifSpec no_types;
  no_types.type_offsets = {};
  EXPECT_FALSE(parse(no_types, error));
  EXPECT_EQ(error, "time zone \"Test/Zone\": TZif data has no local time types");

  TzifSpec huge_offset;
  huge_offset.type_offsets = {100000};
  EXPECT_FALSE(parse(huge_offset, error));
  EXPECT_EQ(error, "time zone \"Test/Zone\": TZif local time type 0 is invalid");

  TzifSpec leap;
  leap.leap_count = 1;
  EXPECT_FALSE(parse(leap, error));
  EXPECT_EQ(error,
            "time zone \"Test/Zone\": TZif leap-second data (\"right/\" zones) is not supported");
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A zoneinfo directory of its own, removed when the test ends.
class ZoneDir {
 public:
  ZoneDir() {
    std::string pattern = ::testing::TempDir() + "cron_test_XXXXXX";
    path_ = ::mkdtemp(pattern.data()) ? pattern : "";
  }
  ~ZoneDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  void write(const std::string& name, const std::string& bytes) {
    const std::filesystem::path file = std::filesystem::path(path_) / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << bytes;
  }

 private:
  std::string path_;
};

TEST(TimeZoneTzif, GarbageAndTruncatedFilesAreErrorsNotCrashes) {
  ZoneDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string berlin = read_bytes("/usr/share/zoneinfo/Europe/Berlin");
  ASSERT_GT(berlin.size(), 200u);
  dir.write("Good/Zone", berlin);
  dir.write("Garbage/Zone", "this is not a time zone file, only some text\n");
  dir.write("Empty/Zone", "");
  dir.write("Short/Header", berlin.substr(0, 20));
  dir.write("Short/Data", berlin.substr(0, 100));
  dir.write("No/Footer", berlin.substr(0, berlin.size() - 1));
  std::string error;
  const std::optional<TimeZone> good = TimeZone::load("Good/Zone", error, dir.path());
  ASSERT_TRUE(good) << error;
  EXPECT_EQ(good->utc_offset(1784073600), 7200);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Garbage/Zone", "not a TZif file"},
      {"Empty/Zone", "not a TZif file"},
      {"Short/Header", "truncated TZif header"},
      {"Short/Data", "truncated TZif data"},
      {"No/Footer", "missing or unterminated TZif footer"},
  };
  for (const auto& [name, message] : cases) {
    EXPECT_FALSE(TimeZone::load(name, error, dir.path())) << name;
    EXPECT_EQ(error, "time zone \"" + name + "\": " + message);
  }
}

TEST(TimeZoneTzif, EveryPrefixOfARealFileIsRejected) {
  const std::string berlin = read_bytes("/usr/share/zoneinfo/Europe/Berlin");
  std::string error;
  for (size_t n = 0; n < berlin.size(); ++n) {
    ASSERT_FALSE(TimeZone::parse_tzif("Prefix", std::string_view(berlin).substr(0, n), error)) << n;
    ASSERT_FALSE(error.empty());
  }
  EXPECT_TRUE(TimeZone::parse_tzif("Whole", berlin, error));
}

TEST(TimeZoneTzif, CorruptedBytesNeverCrash) {
  const std::string original = read_bytes("/usr/share/zoneinfo/America/New_York");
  ASSERT_FALSE(original.empty());
  uint64_t state = 42;
  auto random = [&state] {
    state = state * 6364136223846793005u + 1442695040888963407u;
    return state >> 33;
  };
  for (int round = 0; round < 2000; ++round) {
    std::string bytes = original;
    for (int i = 0; i < 4; ++i) bytes[random() % bytes.size()] = static_cast<char>(random());
    std::string error;
    const std::optional<TimeZone> tz = TimeZone::parse_tzif("Fuzz", bytes, error);
    if (!tz) continue;
    for (int64_t t : {int64_t{0}, utc(2026, 3, 8, 7), utc(2100, 1, 1), -(int64_t{1} << 40)}) {
      tz->from_local(tz->to_local(t));
      cron("30 2 * * *").next_after(t, *tz);
    }
  }
}

}  // namespace
}  // namespace plughost
