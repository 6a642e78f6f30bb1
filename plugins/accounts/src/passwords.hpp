// passwords.hpp — password storage (Argon2id via libsodium's crypto_pwhash_str) and the strength
// rules a new password must pass.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace accounts {

// Argon2id cost. Defaults are libsodium's INTERACTIVE limits; tests lower them.
struct PasswordCost {
  unsigned long long opslimit = 2;
  size_t memlimit_bytes = 64u * 1024 * 1024;
};

constexpr size_t kMinPasswordLength = 8;
constexpr size_t kMaxPasswordLength = 1024;

// A self-describing "$argon2id$v=19$m=…,t=…,p=1$salt$hash" string. Throws std::runtime_error
// when the hash cannot be computed (out of memory).
std::string hash_password(const PasswordCost& cost, std::string_view password);
// Verifies against a stored hash of any cost; false for an empty or malformed hash.
bool verify_password(std::string_view stored_hash, std::string_view password);

// True when `stored_hash` is a well-formed Argon2id hash made with exactly `cost` (so checking a
// password against it costs what `cost` says).
bool hashed_with(const PasswordCost& cost, std::string_view stored_hash);

// Why `password` is too weak for the account `email` (empty = acceptable): shorter than 8,
// a common password, the e-mail itself, or containing the e-mail's local part.
std::vector<std::string> password_issues(std::string_view password, std::string_view email);

}  // namespace accounts
