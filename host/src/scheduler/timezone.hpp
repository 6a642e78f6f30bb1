// timezone.hpp — IANA time zones read from TZif files (RFC 8536): the UTC offset at an instant and
// conversion between instants and local wall-clock time, without localtime/mktime or TZ.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plughost {

// A wall-clock reading with no zone attached (proleptic Gregorian calendar).
struct CivilTime {
  int year = 1970;
  int month = 1;  // 1-12
  int day = 1;    // 1-31
  int hour = 0;
  int minute = 0;
  int second = 0;
  int weekday = 4;  // 0 = Sunday; filled in by conversions, ignored as input
};

// Instants are clamped to ±2^55 seconds (about a billion years) so that calendar arithmetic on
// untrusted input can neither overflow nor yield a year that does not fit in an int.
inline constexpr int64_t kMaxCivilSeconds = int64_t{1} << 55;

// Calendar arithmetic, shared with the cron matcher. Days and seconds count from 1970-01-01 on
// whatever clock the caller means (UTC or a local wall clock).
bool is_leap_year(int64_t year);
int days_in_month(int64_t year, int month);  // month 1-12
// Linear in `day`, so out-of-range days carry (day 0 is the last day of the previous month).
int64_t days_from_civil(int64_t year, int month, int day);
int weekday_from_days(int64_t days);  // 0 = Sunday
CivilTime civil_from_seconds(int64_t seconds);
// Inverse of civil_from_seconds; weekday is ignored, out-of-range fields carry as in timegm().
int64_t seconds_from_civil(const CivilTime& civil);

// An immutable time zone. Copies are cheap (shared data) and every method is thread-safe.
class TimeZone {
 public:
  // Reads <zoneinfo_dir>/<name>. `name` must be a relative IANA name ("Europe/Berlin", "UTC"):
  // names starting with "/" or containing ".." are rejected so callers can pass user input.
  // On failure returns nullopt and sets `error` to a message naming the zone.
  static std::optional<TimeZone> load(const std::string& name, std::string& error,
                                      const std::string& zoneinfo_dir = "/usr/share/zoneinfo");

  // Parses TZif bytes (versions 1-4; the 64-bit block and footer are used when present). `bytes`
  // is untrusted: malformed or truncated data yields nullopt and an error, never a crash.
  // Leap-second data ("right/" zones) is rejected: our instants are POSIX seconds.
  static std::optional<TimeZone> parse_tzif(const std::string& name, std::string_view bytes,
                                            std::string& error);

  // The zone "UTC", needing no file.
  static TimeZone utc();

  std::string name() const;

  // Seconds east of UTC in effect at the instant (e.g. 7200 in Berlin in July).
  int64_t utc_offset(int64_t unix_seconds) const;

  CivilTime to_local(int64_t unix_seconds) const;

  // Every instant whose local wall time equals `local` (to the second), ascending: none when the
  // time is skipped (spring-forward gap), two when it repeats (fall-back overlap), usually one.
  std::vector<int64_t> from_local(const CivilTime& local) const;

  // One instant for a wall time: the only one, the earlier of two in an overlap, or in a gap the
  // first instant after the gap (the transition, when the clock shows a later time).
  int64_t resolve_local(const CivilTime& local) const;

  struct Data;  // the parsed zone; defined in timezone.cpp, opaque to callers

 private:
  explicit TimeZone(std::shared_ptr<const Data> data) : data_(std::move(data)) {}

  std::shared_ptr<const Data> data_;
};

}  // namespace plughost
