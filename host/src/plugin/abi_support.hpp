// abi_support.hpp — small helpers every host-side implementation of ph_host_api members uses:
// views out, error messages into the caller's buffer.
#pragma once

#include <plughost/abi.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

namespace plughost::abi {

constexpr ph_str kAbsent{nullptr, 0};

inline ph_str view(std::string_view s) {
  return ph_str{s.data(), s.size()};
}

// Copies `message` (truncated) into the caller's buffer when it offered one.
inline void set_error(ph_error* err, const std::string& message) {
  if (!err || err->struct_size < sizeof(ph_error) || !err->message || err->message_capacity == 0) {
    return;
  }
  size_t n = std::min(message.size(), err->message_capacity - 1);
  std::memcpy(err->message, message.data(), n);
  err->message[n] = '\0';
}

}  // namespace plughost::abi
