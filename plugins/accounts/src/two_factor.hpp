// two_factor.hpp — TOTP second factor (/api/auth/2fa/*): setup with a sealed pending secret and
// eight recovery codes, confirmation, the second step of a sign-in (upgrading a partial session
// to a full one, TOTP or single-use recovery code), disabling, and new recovery codes.
#pragma once

#include <plughost/plugin.hpp>

#include "services.hpp"

namespace accounts {

constexpr int kRecoveryCodeCount = 8;

void begin_2fa_setup(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void confirm_2fa_setup(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void verify_2fa_login(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void disable_2fa(const Services& svc, const sdk::Request& rq, sdk::Response& rs);
void regenerate_recovery_codes(const Services& svc, const sdk::Request& rq, sdk::Response& rs);

}  // namespace accounts
