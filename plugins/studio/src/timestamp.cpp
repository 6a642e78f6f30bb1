#include "timestamp.hpp"

#include <cstdio>
#include <ctime>

namespace studio {

std::string iso_timestamp(std::chrono::system_clock::time_point when) {
  using namespace std::chrono;
  auto micros = duration_cast<microseconds>(when.time_since_epoch()).count();
  auto seconds = micros / 1000000;
  auto fraction = micros % 1000000;
  if (fraction < 0) {  // before the epoch: floor, so the fraction stays positive
    fraction += 1000000;
    --seconds;
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];  // room for any int year the formatter could print
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lld+00:00", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(fraction));
  return buf;
}

std::string now_timestamp() {
  return iso_timestamp(std::chrono::system_clock::now());
}

}  // namespace studio
