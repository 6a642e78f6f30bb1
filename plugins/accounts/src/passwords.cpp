#include "passwords.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace accounts {
namespace {

// The most used passwords of public breach corpora that pass the length rule.
constexpr std::string_view kCommonPasswords[] = {
    "password",      "password1",   "password12", "password123", "12345678",   "123456789",
    "1234567890",    "qwertyuiop",  "qwerty123",  "qwerty12",    "11111111",   "00000000",
    "iloveyou",      "abc12345",    "abcd1234",   "1q2w3e4r",    "1qaz2wsx",   "sunshine",
    "princess",      "football",    "baseball",   "welcome1",    "welcome123", "admin123",
    "administrator", "letmein1",    "trustno1",   "passw0rd",    "p@ssw0rd",   "p@ssword",
    "changeme",      "changeme123", "superman",   "starwars",    "whatever",   "dragon12",
    "monkey123",     "computer",    "internet",   "qwertyui",    "asdfghjk",   "zxcvbnm1",
    "87654321",      "12341234",    "88888888",   "123123123",   "password!",  "secret123",
    "test1234"};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string hash_password(const PasswordCost& cost, std::string_view password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), cost.opslimit,
                        cost.memlimit_bytes) != 0) {
    throw std::runtime_error("password hashing failed (out of memory?)");
  }
  return out;
}

bool verify_password(std::string_view stored_hash, std::string_view password) {
  if (stored_hash.empty() || stored_hash.size() >= crypto_pwhash_STRBYTES) return false;
  std::string hash(stored_hash);  // NUL-terminated copy
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

bool hashed_with(const PasswordCost& cost, std::string_view stored_hash) {
  if (stored_hash.empty() || stored_hash.size() >= crypto_pwhash_STRBYTES) return false;
  std::string hash(stored_hash);  // NUL-terminated copy
  return crypto_pwhash_str_needs_rehash(hash.c_str(), cost.opslimit, cost.memlimit_bytes) == 0;
}

std::vector<std::string> password_issues(std::string_view password, std::string_view email) {
  std::vector<std::string> issues;
  if (password.size() < kMinPasswordLength) {
    issues.push_back("Password must be at least " + std::to_string(kMinPasswordLength) +
                     " characters long");
  }
  std::string pw = lower(password);
  if (std::find(std::begin(kCommonPasswords), std::end(kCommonPasswords), pw) !=
      std::end(kCommonPasswords)) {
    issues.push_back("Password is too common");
  }
  std::string mail = lower(email);
  std::string local = mail.substr(0, mail.find('@'));
  if (!mail.empty() && pw == mail) {
    issues.push_back("Password must not be your email address");
  } else if (local.size() >= 3 && pw.find(local) != std::string::npos) {
    issues.push_back("Password must not contain your email name");
  }
  return issues;
}

}  // namespace accounts
