#include "signature.hpp"

#include <sodium.h>

namespace automate {

namespace {

void hmac(std::string_view secret, std::string_view body,
          unsigned char (&mac)[crypto_auth_hmacsha256_BYTES]) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()),
                              secret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(body.data()),
                                body.size());
  crypto_auth_hmacsha256_final(&state, mac);
}

}  // namespace

std::string webhook_signature(std::string_view secret, std::string_view body) {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  hmac(secret, body, mac);
  char hex[sizeof(mac) * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
  return hex;
}

bool verify_webhook_signature(std::string_view secret, std::string_view body,
                              std::string_view signature_hex) {
  unsigned char given[crypto_auth_hmacsha256_BYTES];
  size_t given_len = 0;
  const char* end = nullptr;
  if (signature_hex.size() != sizeof(given) * 2 ||
      sodium_hex2bin(given, sizeof(given), signature_hex.data(), signature_hex.size(), nullptr,
                     &given_len, &end) != 0 ||
      given_len != sizeof(given) || end != signature_hex.data() + signature_hex.size()) {
    return false;
  }
  unsigned char expected[crypto_auth_hmacsha256_BYTES];
  hmac(secret, body, expected);
  return sodium_memcmp(given, expected, sizeof(given)) == 0;
}

std::optional<std::string> signature_from_headers(std::optional<std::string_view> webhook_header,
                                                  std::optional<std::string_view> bare_header) {
  constexpr std::string_view kPrefix = "sha256=";
  if (webhook_header) {
    if (webhook_header->substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
    return std::string(webhook_header->substr(kPrefix.size()));
  }
  if (bare_header) return std::string(*bare_header);
  return std::nullopt;
}

}  // namespace automate
