#include "api_keys.hpp"

#include "crypto.hpp"
#include "replies.hpp"

namespace accounts {
namespace {

constexpr const char* kColumns =
    "SELECT id, user_id, name, key_prefix, created_at, expires_at, last_used_at"
    " FROM accounts_api_keys ";
constexpr int64_t kTouchEverySeconds = 60;

ApiKeyRow read_key(const sdk::Statement& st) {
  ApiKeyRow k;
  k.id = st.int64(0);
  k.user_id = st.int64(1);
  k.name = st.text(2);
  k.key_prefix = st.text(3);
  k.created_at = st.int64(4);
  if (!st.is_null(5)) k.expires_at = st.int64(5);
  if (!st.is_null(6)) k.last_used_at = st.int64(6);
  return k;
}

}  // namespace

CreatedKey create_api_key(const Db& db, int64_t user_id, std::string_view name,
                          std::optional<int64_t> expires_at) {
  CreatedKey out;
  out.key = std::string(kApiKeyPrefix) + random_token();
  out.row.user_id = user_id;
  out.row.name = std::string(name);
  out.row.key_prefix = out.key.substr(0, kKeyPrefixLength);
  out.row.created_at = now_seconds();
  out.row.expires_at = expires_at;
  auto st = db.sql(
      "INSERT INTO accounts_api_keys (user_id, name, key_hash, key_prefix, created_at, expires_at)"
      " VALUES (:u, :name, :h, :prefix, :now, :exp) RETURNING id");
  st.bind("u", user_id)
      .bind("name", name)
      .bind("h", sha256_hex(out.key))
      .bind("prefix", out.row.key_prefix)
      .bind("now", out.row.created_at)
      .bind("exp", expires_at);
  st.step();
  out.row.id = st.int64(0);
  st.exec();
  return out;
}

std::optional<ApiKeyRow> find_live_api_key(const Db& db, std::string_view key) {
  if (key.substr(0, kApiKeyPrefix.size()) != kApiKeyPrefix) return std::nullopt;
  int64_t now = now_seconds();
  std::optional<ApiKeyRow> found;
  {
    auto st = db.sql(std::string(kColumns) + "WHERE key_hash = :h");
    st.bind("h", sha256_hex(key));
    if (st.step()) found = read_key(st);
  }
  if (!found || (found->expires_at && *found->expires_at <= now)) return std::nullopt;
  if (!found->last_used_at || now - *found->last_used_at >= kTouchEverySeconds) {
    db.sql("UPDATE accounts_api_keys SET last_used_at = :now WHERE id = :id")
        .bind("now", now)
        .bind("id", found->id)
        .exec();
  }
  return found;
}

std::vector<ApiKeyRow> list_api_keys(const Db& db, int64_t user_id) {
  std::vector<ApiKeyRow> out;
  auto st = db.sql(std::string(kColumns) + "WHERE user_id = :u ORDER BY id");
  st.bind("u", user_id);
  while (st.step()) out.push_back(read_key(st));
  return out;
}

bool delete_api_key(const Db& db, int64_t user_id, int64_t key_id) {
  return db.sql("DELETE FROM accounts_api_keys WHERE id = :id AND user_id = :u")
             .bind("id", key_id)
             .bind("u", user_id)
             .exec() > 0;
}

void delete_user_api_keys(const Db& db, int64_t user_id) {
  db.sql("DELETE FROM accounts_api_keys WHERE user_id = :u").bind("u", user_id).exec();
}

std::string api_key_json(const ApiKeyRow& k) {
  return JsonObject()
      .num("id", k.id)
      .str("name", k.name)
      .str("key_prefix", k.key_prefix)
      .time("created_at", k.created_at)
      .time("expires_at", k.expires_at)
      .time("last_used_at", k.last_used_at)
      .done();
}

}  // namespace accounts
