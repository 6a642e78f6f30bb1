// time_format.hpp — the one place the host turns instants into ISO-8601 UTC text, as logs,
// task JSON, schedules and the migration ledger print them.
#pragma once

#include <cstdio>
#include <ctime>
#include <string>

namespace plughost {

// "2026-11-23T08:00:00.123Z" (with_millis) or "2026-11-23T08:00:00Z".
inline std::string iso8601_utc(double unix_seconds, bool with_millis = true) {
  std::time_t secs = static_cast<std::time_t>(unix_seconds);
  int ms = static_cast<int>((unix_seconds - static_cast<double>(secs)) * 1000);
  if (ms < 0) ms = 0;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  if (with_millis) {
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  } else {
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  return buf;
}

}  // namespace plughost
