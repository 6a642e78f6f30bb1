// lockout.hpp — brute-force protection: failed sign-ins counted per (IP address, e-mail), unknown
// e-mails included; the threshold-th failure (default 5) locks that pair for lockout_seconds
// (default 900). A success or an admin unlock clears the count.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "services.hpp"

namespace accounts {

// Seconds the pair stays locked (0 = not locked).
int64_t lock_remaining(const Services& svc, std::string_view ip, std::string_view email);
// Counts one failure; returns the lock's end when this failure locked the pair.
std::optional<int64_t> record_failure(const Services& svc, std::string_view ip,
                                      std::string_view email);
void clear_failures(const Db& db, std::string_view ip, std::string_view email);
// Every address's count for the e-mail (admin unlock).
void clear_failures_for_email(const Db& db, std::string_view email);

}  // namespace accounts
