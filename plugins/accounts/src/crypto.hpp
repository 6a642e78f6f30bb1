// crypto.hpp — the plugin's secrets toolbox on top of libsodium: random tokens, SHA-256 lookup
// hashes, constant-time comparison, key derivation, authenticated encryption at rest and
// HMAC-SHA256. Every function is thread-safe once init_crypto() returned.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace accounts {

// Initialises libsodium; throws std::runtime_error when it cannot.
void init_crypto();

// `n` random bytes from the OS CSPRNG.
std::string random_bytes(size_t n);
// `bytes` random bytes from the OS CSPRNG, as URL-safe base64 without padding.
std::string random_token(size_t bytes = 32);
// Random characters drawn uniformly from `alphabet` (for recovery codes).
std::string random_chars(std::string_view alphabet, size_t count);

// Lower-case hex SHA-256: how every bearer secret (session, key, token) is stored and looked up.
std::string sha256_hex(std::string_view data);

// True when equal; time depends on the lengths only (sodium_memcmp).
bool secure_equals(std::string_view a, std::string_view b);

std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);
// Standard base64 with padding (the `secret_key` config value).
std::optional<std::string> base64_decode(std::string_view text);

// Independent subkeys of the configured master key (crypto_kdf, context "accounts").
struct Keys {
  std::array<uint8_t, 32> encryption{};  // crypto_secretbox: TOTP secrets, stored secrets
  std::array<uint8_t, 32> signing{};     // HMAC-SHA256: access tokens
};
// `master` must be exactly 32 bytes; throws std::invalid_argument otherwise.
Keys derive_keys(std::string_view master);

// "v1:" + base64url(nonce || crypto_secretbox_easy(plaintext)).
std::string seal(const Keys& keys, std::string_view plaintext);
// The plaintext, or nullopt when the text is not a sealed value under these keys.
std::optional<std::string> unseal(const Keys& keys, std::string_view sealed);

// Raw 32-byte HMAC-SHA256 of `message` under the signing key.
std::string hmac_sha256(const Keys& keys, std::string_view message);

}  // namespace accounts
