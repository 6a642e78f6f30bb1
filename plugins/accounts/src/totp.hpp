// totp.hpp — RFC 6238 time-based one-time passwords (HMAC-SHA1, 6 digits, 30 s steps), the
// base32 text authenticator apps read, otpauth:// URIs, and the single-use recovery codes that
// stand in for an authenticator.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace accounts {

constexpr int kTotpDigits = 6;
constexpr int64_t kTotpStepSeconds = 30;

// RFC 4648 base32 without padding (what authenticator apps expect).
std::string base32_encode(std::string_view bytes);
// Accepts upper or lower case, ignores spaces and '='; nullopt on any other character.
std::optional<std::string> base32_decode(std::string_view text);

// The code for time step `step` (= unix seconds / 30), zero-padded to 6 digits.
std::string totp_code(std::string_view secret, int64_t step);

// True when `code` is the code of the step of `now_seconds` or of one step either side.
// Compares in constant time.
bool totp_verify(std::string_view secret, std::string_view code, int64_t now_seconds);
// Like totp_verify, but answers which step the code belongs to (the latest, should two match),
// so that callers can refuse a step at or below the last one they accepted (replay).
std::optional<int64_t> totp_match_step(std::string_view secret, std::string_view code,
                                       int64_t now_seconds);

// otpauth://totp/<issuer>:<account>?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30
std::string otpauth_uri(std::string_view issuer, std::string_view account,
                        std::string_view base32_secret);

// A fresh recovery code "XXXX-XXXX" (uppercase letters and digits without 0/O/1/I).
std::string new_recovery_code();
// The form recovery codes are hashed in: upper-cased, without '-' and spaces.
std::string normalize_recovery_code(std::string_view code);
// Whether a submitted 2FA code looks like a recovery code rather than a 6-digit TOTP.
bool looks_like_recovery_code(std::string_view code);

}  // namespace accounts
