// sha256.hpp — SHA-256 (libsodium) as lower-case hex, and a constant-time string comparison.
#pragma once

#include <string>
#include <string_view>

namespace studio {

// Initialises libsodium; call once before the functions below (idempotent, thread-safe).
void init_crypto();

// SHA-256 of `data`, 64 lower-case hex digits.
std::string sha256_hex(std::string_view data);

// True when a == b, in time independent of where they differ (and of their lengths: both are
// hashed first, so a mismatch in length leaks nothing either).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace studio
