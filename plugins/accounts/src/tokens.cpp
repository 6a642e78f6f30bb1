#include "tokens.hpp"

#include "crypto.hpp"
#include "replies.hpp"
#include "users.hpp"

namespace accounts {
namespace {

constexpr std::string_view kHeader = R"({"alg":"HS256","typ":"JWT"})";

std::optional<int64_t> int_member(const rapidjson::Value& obj, const char* key) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsInt64()) return std::nullopt;
  return it->value.GetInt64();
}

}  // namespace

std::string issue_access_token(const Settings& s, int64_t user_id, int64_t generation) {
  int64_t now = now_seconds();
  std::string payload = JsonObject()
                            .str("sub", std::to_string(user_id))
                            .num("gen", generation)
                            .num("iat", now)
                            .num("exp", now + s.access_token_seconds)
                            .str("jti", random_token(16))
                            .str("typ", "access")
                            .done();
  std::string signing_input = base64url_encode(kHeader) + "." + base64url_encode(payload);
  return signing_input + "." + base64url_encode(hmac_sha256(s.keys, signing_input));
}

std::optional<AccessClaims> verify_access_token(const Settings& s, std::string_view token) {
  size_t first = token.find('.');
  size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view signing_input = token.substr(0, second);
  auto signature = base64url_decode(token.substr(second + 1));
  if (!signature || !secure_equals(*signature, hmac_sha256(s.keys, signing_input))) {
    return std::nullopt;
  }
  // Only after the signature holds is anything in the token believed.
  auto header = base64url_decode(token.substr(0, first));
  auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
  if (!header || *header != kHeader || !payload) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse(payload->data(), payload->size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  auto typ = doc.FindMember("typ");
  auto sub = doc.FindMember("sub");
  auto jti = doc.FindMember("jti");
  auto exp = int_member(doc, "exp");
  auto gen = int_member(doc, "gen");
  if (typ == doc.MemberEnd() || !typ->value.IsString() ||
      std::string_view(typ->value.GetString()) != "access" || sub == doc.MemberEnd() ||
      !sub->value.IsString() || jti == doc.MemberEnd() || !jti->value.IsString() || !exp || !gen) {
    return std::nullopt;
  }
  if (*exp <= now_seconds()) return std::nullopt;
  AccessClaims c;
  try {
    c.user_id = std::stoll(sub->value.GetString());
  } catch (const std::exception&) {
    return std::nullopt;
  }
  c.generation = *gen;
  c.expires_at = *exp;
  c.jti = jti->value.GetString();
  return c;
}

std::string issue_refresh_token(const Services& svc, int64_t user_id) {
  std::string token = random_token();
  int64_t now = now_seconds();
  svc.db.sql("DELETE FROM accounts_refresh_tokens WHERE user_id = :u AND expires_at <= :now")
      .bind("u", user_id)
      .bind("now", now)
      .exec();
  svc.db
      .sql(
          "INSERT INTO accounts_refresh_tokens (user_id, token_hash, created_at, expires_at)"
          " VALUES (:u, :h, :now, :exp)")
      .bind("u", user_id)
      .bind("h", sha256_hex(token))
      .bind("now", now)
      .bind("exp", now + svc.settings.refresh_token_seconds)
      .exec();
  return token;
}

std::optional<int64_t> redeem_refresh_token(const Services& svc, std::string_view token) {
  int64_t now = now_seconds();
  std::string hash = sha256_hex(token);
  int64_t user_id = 0;
  bool reused = false;
  {
    auto st = svc.db.sql(
        "SELECT user_id, expires_at, used_at FROM accounts_refresh_tokens WHERE token_hash = :h");
    st.bind("h", hash);
    if (!st.step()) return std::nullopt;
    user_id = st.int64(0);
    if (st.int64(1) <= now) return std::nullopt;
    reused = !st.is_null(2);
  }
  if (!reused) {
    // Spend it atomically: of two concurrent redemptions only one updates the row.
    int64_t spent = svc.db
                        .sql(
                            "UPDATE accounts_refresh_tokens SET used_at = :now"
                            " WHERE token_hash = :h AND used_at IS NULL")
                        .bind("now", now)
                        .bind("h", hash)
                        .exec();
    if (spent == 1) return user_id;
  }
  // A spent token presented again means it leaked: end the whole family, and every access token
  // issued so far (they may have been minted by whoever holds the leaked token).
  revoke_refresh_tokens(svc.db, user_id);
  bump_token_generation(svc.db, user_id);
  return std::nullopt;
}

void revoke_refresh_tokens(const Db& db, int64_t user_id) {
  db.sql("DELETE FROM accounts_refresh_tokens WHERE user_id = :u").bind("u", user_id).exec();
}

}  // namespace accounts
