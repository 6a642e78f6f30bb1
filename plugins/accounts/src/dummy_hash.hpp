// dummy_hash.hpp — the Argon2id hash an unknown e-mail's password is checked against, so that
// its sign-in answer costs what a known account's does. It hashes a random password nobody keeps,
// so it guards no secret: it is stored (accounts_state) and reused by later starts, and made
// again only when missing or made with other hashing parameters.
#pragma once

#include <string>

#include "passwords.hpp"
#include "services.hpp"

namespace accounts {

struct DummyHash {
  std::string hash;
  bool computed = false;  // false: read from storage
};

// The stored dummy hash when it was made with exactly `cost`; otherwise a new one (one Argon2id
// hash at `cost`), stored for the next start.
DummyHash load_or_make_dummy_hash(const Db& db, const PasswordCost& cost);

}  // namespace accounts
