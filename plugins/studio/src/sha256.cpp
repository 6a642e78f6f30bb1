#include "sha256.hpp"

#include <sodium.h>

#include <stdexcept>

namespace studio {
namespace {

void digest(std::string_view data, unsigned char out[crypto_hash_sha256_BYTES]) {
  crypto_hash_sha256(out, reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

}  // namespace

void init_crypto() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

std::string sha256_hex(std::string_view data) {
  unsigned char d[crypto_hash_sha256_BYTES];
  digest(data, d);
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), d, sizeof(d));
  return std::string(hex, crypto_hash_sha256_BYTES * 2);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char da[crypto_hash_sha256_BYTES];
  unsigned char db[crypto_hash_sha256_BYTES];
  digest(a, da);
  digest(b, db);
  return sodium_memcmp(da, db, sizeof(da)) == 0;
}

}  // namespace studio
