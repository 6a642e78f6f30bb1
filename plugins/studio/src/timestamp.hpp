// timestamp.hpp — Studio's timestamps: UTC with microseconds and an explicit "+00:00" offset,
// as Python's datetime.now(timezone.utc).isoformat() writes them.
#pragma once

#include <chrono>
#include <string>

namespace studio {

// "2024-01-15T10:30:00.123456+00:00"
std::string iso_timestamp(std::chrono::system_clock::time_point when);
std::string now_timestamp();

}  // namespace studio
