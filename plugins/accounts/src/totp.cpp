#include "totp.hpp"

#include <cctype>

#include "crypto.hpp"
#include "sha1.hpp"

namespace accounts {
namespace {

constexpr char kBase32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::string_view kRecoveryAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

std::string url_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '@') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

}  // namespace

std::string base32_encode(std::string_view bytes) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += kBase32[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kBase32[(buffer << (5 - bits)) & 31];
  return out;
}

std::optional<std::string> base32_decode(std::string_view text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char raw : text) {
    if (raw == ' ' || raw == '=') continue;
    char c = static_cast<char>(std::toupper(static_cast<unsigned char>(raw)));
    int value;
    if (c >= 'A' && c <= 'Z') {
      value = c - 'A';
    } else if (c >= '2' && c <= '7') {
      value = c - '2' + 26;
    } else {
      return std::nullopt;
    }
    buffer = (buffer << 5) | static_cast<uint32_t>(value);
    bits += 5;
    if (bits >= 8) {
      out += static_cast<char>((buffer >> (bits - 8)) & 0xFF);
      bits -= 8;
    }
  }
  return out;
}

std::string totp_code(std::string_view secret, int64_t step) {
  std::string counter(8, '\0');
  for (int i = 7; i >= 0; --i) {
    counter[i] = static_cast<char>(step & 0xFF);
    step >>= 8;
  }
  Sha1Digest mac = hmac_sha1(secret, counter);
  int offset = mac[19] & 0x0F;
  uint32_t binary = (static_cast<uint32_t>(mac[offset] & 0x7F) << 24) |
                    (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                    (static_cast<uint32_t>(mac[offset + 2]) << 8) | mac[offset + 3];
  std::string code = std::to_string(binary % 1000000);
  return std::string(kTotpDigits - code.size(), '0') + code;
}

bool totp_verify(std::string_view secret, std::string_view code, int64_t now_seconds) {
  return totp_match_step(secret, code, now_seconds).has_value();
}

std::optional<int64_t> totp_match_step(std::string_view secret, std::string_view code,
                                       int64_t now_seconds) {
  int64_t step = now_seconds / kTotpStepSeconds;
  std::optional<int64_t> matched;
  for (int64_t s = step - 1; s <= step + 1; ++s) {
    if (secure_equals(totp_code(secret, s), code)) matched = s;  // no early exit
  }
  return matched;
}

std::string otpauth_uri(std::string_view issuer, std::string_view account,
                        std::string_view base32_secret) {
  return "otpauth://totp/" + url_escape(issuer) + ":" + url_escape(account) +
         "?secret=" + std::string(base32_secret) + "&issuer=" + url_escape(issuer) +
         "&algorithm=SHA1&digits=6&period=30";
}

std::string new_recovery_code() {
  std::string raw = random_chars(kRecoveryAlphabet, 8);
  return raw.substr(0, 4) + "-" + raw.substr(4);
}

std::string normalize_recovery_code(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

bool looks_like_recovery_code(std::string_view code) {
  std::string n = normalize_recovery_code(code);
  if (n.size() != 8) return false;
  for (char c : n) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return true;  // has a letter
  }
  return code.find('-') != std::string_view::npos;
}

}  // namespace accounts
