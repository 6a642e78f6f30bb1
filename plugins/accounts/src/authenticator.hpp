// authenticator.hpp — the "authenticator"/"accounts" connector the host consults for every
// request (abi.h, "Identity"). Operation "authenticate" takes {"scheme", "cookies" | "credential",
// …} and answers {"principal": null} or
//   {"principal":{"kind":"user","id":"7","name":"ann@example.com","email":…,"roles":["editor"],
//                 "partial":false,"accounts":true,"session_id":3 | "api_key_id":5 | "token_id":…}}
//   session  the session cookie (a 2FA-pending session gives "partial": true);
//   bearer   a "dango_ak_" API key or a signed access token;
//   api_key  a "dango_ak_" API key (X-API-Key).
// Every check reads storage, so a revocation holds from the next request on. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "services.hpp"

namespace accounts {

std::string authenticate(const Services& svc, std::string_view input_json);

}  // namespace accounts
