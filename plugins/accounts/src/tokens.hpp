// tokens.hpp — the automate-style token pair. Access tokens are compact JWTs (HS256 under the
// signing subkey) carrying sub, gen, iat, exp, jti and typ "access"; nothing about them is stored,
// and a user's tokens die together when their generation is bumped (password change, revoke).
// Refresh tokens are 32 random bytes stored as SHA-256, single use (each use rotates), revocable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "services.hpp"

namespace accounts {

struct AccessClaims {
  int64_t user_id = 0;
  int64_t generation = 0;
  int64_t expires_at = 0;
  std::string jti;
};

std::string issue_access_token(const Settings& s, int64_t user_id, int64_t generation);
// Claims of a well-formed, correctly signed, unexpired access token; nullopt otherwise.
// The caller still checks the user (active, same generation).
std::optional<AccessClaims> verify_access_token(const Settings& s, std::string_view token);

std::string issue_refresh_token(const Services& svc, int64_t user_id);
// Redeems a refresh token: the user it belongs to, the token spent. A token presented a second
// time means it leaked: every refresh token of that user is revoked and nullopt returned.
std::optional<int64_t> redeem_refresh_token(const Services& svc, std::string_view token);
void revoke_refresh_tokens(const Db& db, int64_t user_id);

}  // namespace accounts
