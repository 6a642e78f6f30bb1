// Webhook signatures: HMAC-SHA256 of the raw body with the source's secret, sent as
// `X-Webhook-Signature: sha256=<hex>` or bare hex in `X-Signature`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace automate {

// Lower-case hex HMAC-SHA256 of `body` under `secret`.
std::string webhook_signature(std::string_view secret, std::string_view body);

// True when `signature_hex` (64 hex digits, either case) is the HMAC of `body`; compared in
// constant time. Needs sodium_init().
bool verify_webhook_signature(std::string_view secret, std::string_view body,
                              std::string_view signature_hex);

// The hex part of the request's signature headers: X-Webhook-Signature without its "sha256="
// prefix (nullopt when the prefix is missing), else X-Signature as is; nullopt when neither.
std::optional<std::string> signature_from_headers(std::optional<std::string_view> webhook_header,
                                                  std::optional<std::string_view> bare_header);

}  // namespace automate
