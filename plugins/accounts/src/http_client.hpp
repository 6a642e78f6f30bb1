// http_client.hpp — the few outbound HTTP calls the plugin makes (OAuth token exchange and user
// info), over libcurl: http/https only, no redirects followed, bounded time and response size.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace accounts {

struct HttpResult {
  bool ok = false;    // a response arrived (any status)
  long status = 0;    // HTTP status when ok
  std::string body;   // at most kMaxResponseBytes
  std::string error;  // transport failure when !ok (never contains request secrets)
};

using FormFields = std::vector<std::pair<std::string, std::string>>;

// Call once at plugin start (curl_global_init).
void init_http_client();

// POST application/x-www-form-urlencoded, Accept: application/json.
HttpResult post_form(const std::string& url, const FormFields& fields, long timeout_seconds);
// GET with `Authorization: Bearer <token>`, Accept: application/json.
HttpResult get_with_bearer(const std::string& url, const std::string& token, long timeout_seconds);

// application/x-www-form-urlencoded / query-string encoding of one value.
std::string url_encode(const std::string& value);

}  // namespace accounts
