// exchange.hpp — the host-side definitions of the opaque ph_request / ph_response handles:
// one HTTP request as a plugin handler sees it, and the response it builds.
#pragma once

#include <pistache/http.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/router.hpp"

struct ph_request {
  // Null once the request was handed to a handler thread (see server.cpp, invoke_plugin): from
  // then on only the members below are read, which own or outlive what they refer to.
  const Pistache::Http::Request* http = nullptr;
  std::string_view method;
  std::string_view body;  // Pistache's copy, `owned_body` on a handler thread, or a spooled file
  std::string owned_body;
  std::shared_ptr<const void> body_owner;  // keeps a spooled body mapped while `body` is read
  std::string path;             // percent-decoded
  plughost::PathParams params;  // views into `path` and the route's parameter names
  std::string trace_id;
  std::string remote;
  const struct ph_host* plugin_host = nullptr;  // the plugin that owns the route
  std::string principal_json;                   // see abi.h, "Identity"
  std::vector<std::string> permissions;
  std::string tenant = "default";

  // Filled on first use: most handlers never enumerate headers or query parameters.
  mutable std::optional<std::vector<std::pair<std::string, std::string>>> headers;
  mutable std::optional<std::vector<std::pair<std::string, std::string>>> query;
  mutable std::optional<std::vector<std::pair<std::string, std::string>>> cookies;
};

struct ph_response {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

namespace plughost {

// Percent-decodes `in`; with `plus_is_space`, '+' becomes ' ' (query strings). Invalid escapes
// are kept verbatim.
std::string percent_decode(std::string_view in, bool plus_is_space);

// All headers of a Pistache request as (lower-case name, value) pairs.
std::vector<std::pair<std::string, std::string>> collect_headers(
    const Pistache::Http::Request& request);

// The request's headers and cookies, collected on first use and kept in `rq`, so the host's
// middleware and the plugin accessors read one copy. Pistache's CookieJar::get() returns a copy:
// keeping our own lets views outlive the call.
const std::vector<std::pair<std::string, std::string>>& request_headers(const ph_request& rq);
const std::vector<std::pair<std::string, std::string>>& request_cookies(const ph_request& rq);
// The query parameters, percent-decoded ('+' is a space), collected on first use.
const std::vector<std::pair<std::string, std::string>>& request_query(const ph_request& rq);
// A header by case-insensitive name, or a cookie by exact name; nullptr when absent.
const std::string* find_header(const ph_request& rq, std::string_view name);
const std::string* find_cookie(const ph_request& rq, std::string_view name);

}  // namespace plughost
