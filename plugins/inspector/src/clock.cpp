#include "clock.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace inspector {
namespace {

std::tm utc(double unix_seconds) {
  std::time_t t = static_cast<std::time_t>(std::floor(unix_seconds));
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

}  // namespace

double now_unix() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::string iso_timestamp(double unix_seconds) {
  std::tm tm = utc(unix_seconds);
  long micros = static_cast<long>((unix_seconds - std::floor(unix_seconds)) * 1e6);
  if (micros > 999999) micros = 999999;
  char out[64];
  std::snprintf(out, sizeof(out), "%04d-%02d-%02dT%02d:%02d:%02d.%06ld+00:00", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
  return out;
}

std::string clock_time(double unix_seconds) {
  std::tm tm = utc(unix_seconds);
  char out[16];
  std::snprintf(out, sizeof(out), "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
  return out;
}

std::string stamped(std::string_view message, double unix_seconds) {
  return "[" + clock_time(unix_seconds) + "] " + std::string(message);
}

}  // namespace inspector
