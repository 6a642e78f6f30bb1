// replies.hpp — the HTTP edge shared by every route: Dango's error bodies, a small JSON object
// builder, request-body parsing, the caller's identity as the host resolved it, and cookies.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <plughost/plugin.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "settings.hpp"

namespace accounts {

namespace sdk = plughost::sdk;

// Thrown by a handler to answer `status` with a JSON `body` (Dango's {"message": …} shape unless
// built otherwise). Caught at the route edge (plugin.cpp).
class Failure : public std::runtime_error {
 public:
  Failure(int status, std::string body)
      : std::runtime_error("accounts failure"), status_(status), body_(std::move(body)) {}
  int status() const { return status_; }
  const std::string& body() const { return body_; }

 private:
  int status_;
  std::string body_;
};

// Builds one JSON object member by member; strings are escaped.
class JsonObject {
 public:
  JsonObject() { w_.StartObject(); }
  JsonObject& str(const char* key, std::string_view value);
  JsonObject& str_or_null(const char* key, const std::optional<std::string>& value);
  JsonObject& num(const char* key, int64_t value);
  JsonObject& flag(const char* key, bool value);
  JsonObject& null(const char* key);
  // A unix time as ISO-8601, or null.
  JsonObject& time(const char* key, std::optional<int64_t> unix_seconds);
  // `json` must be valid serialised JSON.
  JsonObject& raw(const char* key, std::string_view json);
  std::string done();

 private:
  rapidjson::StringBuffer buf_;
  rapidjson::Writer<rapidjson::StringBuffer> w_{buf_};
};

// A JSON array of already serialised elements.
std::string json_array(const std::vector<std::string>& elements);
// A JSON array of strings.
std::string json_strings(const std::vector<std::string>& items);

// {"message": text}
std::string message_body(std::string_view text);
// Failure(status, {"message": text})
Failure failure(int status, std::string_view text);
// The 401 answer for a handler that needs a signed-in user: DANGO-S001.
Failure authentication_required();

// The body parsed as a JSON object; Failure 400 "Invalid request body" otherwise.
rapidjson::Document parse_body(const sdk::Request& rq);
// A string member no longer than `max_len`; nullopt when absent or not a string.
std::optional<std::string> string_member(const rapidjson::Value& body, const char* key,
                                         size_t max_len = 4096);

// The body the host's own errors get on this plugin's routes (see ph_error_formatter).
std::string dango_error_body(int status, std::string_view code, std::string_view detail);

// Who is calling, from the principal the host resolved (see abi.h "Identity").
struct Caller {
  bool auth_enabled = true;
  bool partial = false;
  std::string scheme;                 // session | bearer | api_key | none
  std::optional<int64_t> user_id;     // a user of this plugin
  std::optional<int64_t> session_id;  // when authenticated by a session cookie
  std::optional<int64_t> api_key_id;  // when authenticated by an API key
};
Caller caller_of(const sdk::Request& rq);
// The signed-in (not partial) user's id; Failure 401 otherwise.
int64_t require_user(const Caller& caller);

// Set-Cookie values. `Secure` follows settings.cookie_secure; in auto mode it is left off only
// for plain http from a loopback address (no X-Forwarded-Proto: https).
bool secure_cookie(const Settings& s, const sdk::Request& rq);
std::string session_cookie(const Settings& s, const sdk::Request& rq, std::string_view token,
                           int64_t max_age_seconds);
std::string expired_session_cookie(const Settings& s, const sdk::Request& rq);
// The double-submit CSRF token cookie (readable by scripts, so not HttpOnly).
std::string csrf_cookie(const Settings& s, const sdk::Request& rq, std::string_view token);

}  // namespace accounts
