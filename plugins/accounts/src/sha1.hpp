// sha1.hpp — SHA-1 and HMAC-SHA1, only for TOTP (RFC 6238 fixes HMAC-SHA1 and libsodium has no
// SHA-1). Never use these for anything else: SHA-1 is not collision resistant.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace accounts {

using Sha1Digest = std::array<uint8_t, 20>;

// FIPS 180-4 SHA-1 of `data`.
Sha1Digest sha1(std::string_view data);

// RFC 2104 HMAC with SHA-1; any key length (long keys are hashed first).
Sha1Digest hmac_sha1(std::string_view key, std::string_view message);

}  // namespace accounts
