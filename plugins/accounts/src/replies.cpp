#include "replies.hpp"

#include "services.hpp"

namespace accounts {
namespace {

bool is_loopback(std::string_view address) {
  return address.rfind("127.", 0) == 0 || address == "::1" || address == "::ffff:127.0.0.1";
}

}  // namespace

bool secure_cookie(const Settings& s, const sdk::Request& rq) {
  switch (s.cookie_secure) {
    case CookieSecure::kAlways: return true;
    case CookieSecure::kNever: return false;
    case CookieSecure::kAuto: break;
  }
  auto proto = rq.header("X-Forwarded-Proto");
  if (proto && *proto == "https") return true;
  return !is_loopback(rq.remote_address());
}

JsonObject& JsonObject::str(const char* key, std::string_view value) {
  w_.Key(key);
  w_.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  return *this;
}
JsonObject& JsonObject::str_or_null(const char* key, const std::optional<std::string>& value) {
  return value ? str(key, *value) : null(key);
}
JsonObject& JsonObject::num(const char* key, int64_t value) {
  w_.Key(key);
  w_.Int64(value);
  return *this;
}
JsonObject& JsonObject::flag(const char* key, bool value) {
  w_.Key(key);
  w_.Bool(value);
  return *this;
}
JsonObject& JsonObject::null(const char* key) {
  w_.Key(key);
  w_.Null();
  return *this;
}
JsonObject& JsonObject::time(const char* key, std::optional<int64_t> unix_seconds) {
  return unix_seconds ? str(key, iso8601(*unix_seconds)) : null(key);
}
JsonObject& JsonObject::raw(const char* key, std::string_view json) {
  w_.Key(key);
  w_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
  return *this;
}
std::string JsonObject::done() {
  w_.EndObject();
  return std::string(buf_.GetString(), buf_.GetSize());
}

std::string json_array(const std::vector<std::string>& elements) {
  std::string out = "[";
  for (size_t i = 0; i < elements.size(); ++i) {
    if (i) out += ',';
    out += elements[i];
  }
  return out + "]";
}

std::string json_strings(const std::vector<std::string>& items) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartArray();
  for (const auto& s : items) w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  w.EndArray();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string message_body(std::string_view text) {
  return JsonObject().str("message", text).done();
}

Failure failure(int status, std::string_view text) {
  return Failure(status, message_body(text));
}

Failure authentication_required() {
  return Failure(401, dango_error_body(401, "UNAUTHORIZED", ""));
}

rapidjson::Document parse_body(const sdk::Request& rq) {
  rapidjson::Document doc;
  std::string error;
  if (!sdk::parse_json(rq.body(), doc, error) || !doc.IsObject()) {
    throw failure(400, "Invalid request body");
  }
  return doc;
}

std::optional<std::string> string_member(const rapidjson::Value& body, const char* key,
                                         size_t max_len) {
  auto it = body.FindMember(key);
  if (it == body.MemberEnd() || !it->value.IsString()) return std::nullopt;
  if (it->value.GetStringLength() > max_len) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::string dango_error_body(int status, std::string_view code, std::string_view detail) {
  auto envelope = [](const char* error_code, std::string_view message) {
    return JsonObject().str("error_code", error_code).str("message", message).done();
  };
  if (status == 401) return envelope("DANGO-S001", "Authentication required.");
  if (code == "CSRF_FAILED") return envelope("DANGO-S002", "CSRF validation failed");
  if (code == "ORIGIN_NOT_ALLOWED") {
    return envelope("DANGO-S002", "Origin '" + std::string(detail) + "' is not allowed");
  }
  if (status == 403) return envelope("DANGO-S002", "Permission denied: " + std::string(detail));
  if (status == 429) return envelope("DANGO-W002", "Too many requests. Please try again later.");
  if (status == 405) return JsonObject().str("detail", "Method Not Allowed").done();
  if (status == 413) return JsonObject().str("detail", "Request body too large").done();
  return envelope("DANGO-G001", "An internal error occurred.");
}

Caller caller_of(const sdk::Request& rq) {
  Caller c;
  rapidjson::Document p = rq.principal();
  auto flag = [&](const char* key, bool fallback) {
    auto it = p.FindMember(key);
    return it != p.MemberEnd() && it->value.IsBool() ? it->value.GetBool() : fallback;
  };
  auto integer = [&](const char* key) -> std::optional<int64_t> {
    auto it = p.FindMember(key);
    if (it == p.MemberEnd()) return std::nullopt;
    if (it->value.IsInt64()) return it->value.GetInt64();
    if (it->value.IsString()) {
      try {
        return std::stoll(it->value.GetString());
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
    return std::nullopt;
  };
  c.auth_enabled = flag("auth_enabled", true);
  c.partial = flag("partial", false);
  auto scheme = p.FindMember("scheme");
  if (scheme != p.MemberEnd() && scheme->value.IsString()) c.scheme = scheme->value.GetString();
  auto kind = p.FindMember("kind");
  bool ours = kind != p.MemberEnd() && kind->value.IsString() &&
              std::string_view(kind->value.GetString()) == "user" && p.HasMember("accounts");
  if (ours) {
    c.user_id = integer("id");
    c.session_id = integer("session_id");
    c.api_key_id = integer("api_key_id");
  }
  return c;
}

int64_t require_user(const Caller& caller) {
  if (!caller.user_id || caller.partial) throw authentication_required();
  return *caller.user_id;
}

std::string session_cookie(const Settings& s, const sdk::Request& rq, std::string_view token,
                           int64_t max_age_seconds) {
  return s.cookie_name + "=" + std::string(token) +
         "; Path=/; Max-Age=" + std::to_string(max_age_seconds) + "; HttpOnly" +
         (secure_cookie(s, rq) ? "; Secure" : "") + "; SameSite=Lax";
}

std::string expired_session_cookie(const Settings& s, const sdk::Request& rq) {
  return s.cookie_name + "=; Path=/; Max-Age=0; HttpOnly" +
         (secure_cookie(s, rq) ? "; Secure" : "") + "; SameSite=Lax";
}

std::string csrf_cookie(const Settings& s, const sdk::Request& rq, std::string_view token) {
  return s.csrf_cookie_name + "=" + std::string(token) +
         "; Path=/; Max-Age=" + std::to_string(s.session_absolute_seconds) +
         (secure_cookie(s, rq) ? "; Secure" : "") + "; SameSite=Lax";
}

}  // namespace accounts
