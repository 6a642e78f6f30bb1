#include "crypto.hpp"

#include <sodium.h>

#include <stdexcept>

namespace accounts {
namespace {

constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "accounts";
constexpr uint64_t kEncryptionKeyId = 1;
constexpr uint64_t kSigningKeyId = 2;
constexpr std::string_view kSealPrefix = "v1:";

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::optional<std::string> decode(std::string_view text, int variant) {
  std::string out(text.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, nullptr, variant) != 0) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

}  // namespace

void init_crypto() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

std::string random_bytes(size_t n) {
  std::string raw(n, '\0');
  randombytes_buf(raw.data(), raw.size());
  return raw;
}

std::string random_token(size_t n) {
  std::string raw(n, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string out = base64url_encode(raw);
  sodium_memzero(raw.data(), raw.size());
  return out;
}

std::string random_chars(std::string_view alphabet, size_t count) {
  std::string out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    out += alphabet[randombytes_uniform(static_cast<uint32_t>(alphabet.size()))];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, bytes(data), data.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
  return std::string(hex, crypto_hash_sha256_BYTES * 2);
}

bool secure_equals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string base64url_encode(std::string_view raw) {
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(raw.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes(raw), raw.size(), kVariant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  return decode(text, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

std::optional<std::string> base64_decode(std::string_view text) {
  return decode(text, sodium_base64_VARIANT_ORIGINAL);
}

Keys derive_keys(std::string_view master) {
  if (master.size() != crypto_kdf_KEYBYTES) {
    throw std::invalid_argument("the master key must be " + std::to_string(crypto_kdf_KEYBYTES) +
                                " bytes");
  }
  Keys keys;
  crypto_kdf_derive_from_key(keys.encryption.data(), keys.encryption.size(), kEncryptionKeyId,
                             kKdfContext, bytes(master));
  crypto_kdf_derive_from_key(keys.signing.data(), keys.signing.size(), kSigningKeyId, kKdfContext,
                             bytes(master));
  return keys;
}

std::string seal(const Keys& keys, std::string_view plaintext) {
  std::string box(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(box.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES, bytes(plaintext), plaintext.size(),
                        nonce, keys.encryption.data());
  return std::string(kSealPrefix) + base64url_encode(box);
}

std::optional<std::string> unseal(const Keys& keys, std::string_view sealed) {
  if (sealed.substr(0, kSealPrefix.size()) != kSealPrefix) return std::nullopt;
  auto box = base64url_decode(sealed.substr(kSealPrefix.size()));
  if (!box || box->size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
    return std::nullopt;
  }
  const auto* nonce = bytes(*box);
  size_t cipher_len = box->size() - crypto_secretbox_NONCEBYTES;
  std::string plain(cipher_len - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                                 nonce + crypto_secretbox_NONCEBYTES, cipher_len, nonce,
                                 keys.encryption.data()) != 0) {
    return std::nullopt;
  }
  return plain;
}

std::string hmac_sha256(const Keys& keys, std::string_view message) {
  std::string mac(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, keys.signing.data(), keys.signing.size());
  crypto_auth_hmacsha256_update(&state, bytes(message), message.size());
  crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(mac.data()));
  return mac;
}

}  // namespace accounts
