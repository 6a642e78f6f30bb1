// clock.hpp — wall-clock time for the inspector's records and logs, in the formats djdesk used:
// ISO-8601 with microseconds and "+00:00" for fields, "[HH:MM:SS]" (UTC) for log lines.
#pragma once

#include <string>
#include <string_view>

namespace inspector {

double now_unix();                               // seconds since the epoch
std::string iso_timestamp(double unix_seconds);  // "2025-11-16T15:25:00.123456+00:00"
std::string clock_time(double unix_seconds);     // "15:25:00", UTC
// A log line as djdesk writes them: "[15:25:00] message".
std::string stamped(std::string_view message, double unix_seconds = now_unix());

}  // namespace inspector
