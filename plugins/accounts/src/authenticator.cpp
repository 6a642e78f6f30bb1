#include "authenticator.hpp"

#include "api_keys.hpp"
#include "replies.hpp"
#include "sessions.hpp"
#include "tokens.hpp"
#include "users.hpp"

namespace accounts {
namespace {

constexpr const char* kNobody = R"({"principal":null})";

// The principal of an active user; `extra` adds the credential's own members.
template <typename Extra>
std::string principal(const User& user, bool partial, Extra&& extra) {
  JsonObject p;
  p.str("kind", "user")
      .str("id", std::to_string(user.id))
      .str("name", user.email)
      .str("email", user.email)
      .raw("roles", json_strings({user.role}))
      .flag("partial", partial)
      .flag("accounts", true);
  extra(p);
  return JsonObject().raw("principal", p.done()).done();
}

std::optional<User> active_user(const Services& svc, int64_t id) {
  std::optional<User> user = find_user(svc.db, id);
  if (!user || !user->is_active) return std::nullopt;
  return user;
}

std::string from_session(const Services& svc, const rapidjson::Value& cookies) {
  if (!cookies.IsObject()) return kNobody;
  auto it = cookies.FindMember(svc.settings.cookie_name.c_str());
  if (it == cookies.MemberEnd() || !it->value.IsString()) return kNobody;
  std::optional<SessionRow> session = find_live_session(svc, it->value.GetString());
  if (!session) return kNobody;
  std::optional<User> user = active_user(svc, session->user_id);
  if (!user) return kNobody;
  return principal(*user, session->partial,
                   [&](JsonObject& p) { p.num("session_id", session->id); });
}

std::string from_api_key(const Services& svc, std::string_view key) {
  std::optional<ApiKeyRow> row = find_live_api_key(svc.db, key);
  if (!row) return kNobody;
  std::optional<User> user = active_user(svc, row->user_id);
  if (!user) return kNobody;
  return principal(*user, false, [&](JsonObject& p) { p.num("api_key_id", row->id); });
}

std::string from_access_token(const Services& svc, std::string_view token) {
  std::optional<AccessClaims> claims = verify_access_token(svc.settings, token);
  if (!claims) return kNobody;
  std::optional<User> user = active_user(svc, claims->user_id);
  if (!user || user->token_generation != claims->generation) return kNobody;
  return principal(*user, false, [&](JsonObject& p) { p.str("token_id", claims->jti); });
}

}  // namespace

std::string authenticate(const Services& svc, std::string_view input_json) {
  rapidjson::Document in;
  in.Parse(input_json.data(), input_json.size());
  if (in.HasParseError() || !in.IsObject()) return kNobody;
  auto scheme = in.FindMember("scheme");
  if (scheme == in.MemberEnd() || !scheme->value.IsString()) return kNobody;
  std::string_view kind = scheme->value.GetString();
  if (kind == "session") {
    auto cookies = in.FindMember("cookies");
    return cookies == in.MemberEnd() ? kNobody : from_session(svc, cookies->value);
  }
  auto credential = in.FindMember("credential");
  if (credential == in.MemberEnd() || !credential->value.IsString()) return kNobody;
  std::string_view value(credential->value.GetString(), credential->value.GetStringLength());
  if (value.substr(0, kApiKeyPrefix.size()) == kApiKeyPrefix) return from_api_key(svc, value);
  if (kind == "bearer") return from_access_token(svc, value);
  return kNobody;
}

}  // namespace accounts
