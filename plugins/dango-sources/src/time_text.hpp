// time_text.hpp — UTC timestamps as ISO-8601 text ("2026-05-17T08:00:00Z"), the only form the
// plugin stores and answers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dango {

int64_t now_ms();
std::string iso_utc(int64_t unix_seconds);
std::string iso_utc_now();
// Seconds since the epoch of an ISO-8601 UTC text written by iso_utc; nullopt otherwise.
std::optional<int64_t> parse_iso_utc(std::string_view text);

}  // namespace dango
