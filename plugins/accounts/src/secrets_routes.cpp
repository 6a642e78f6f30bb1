#include "secrets_routes.hpp"

#include <cctype>

#include "crypto.hpp"
#include "replies.hpp"

namespace accounts {
namespace {

constexpr size_t kMaxSecretName = 128;
constexpr size_t kMaxSecretValue = 64 * 1024;

// An environment variable name: [A-Za-z_][A-Za-z0-9_]{0,127}.
bool valid_secret_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxSecretName) return false;
  if (std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

std::string oauth_json(const sdk::Statement& st) {
  return JsonObject()
      .str("source_type", st.text(0))
      .str("provider", st.text(1))
      .str_or_null("account", st.maybe_text(2))
      .flag("connected", true)
      .time("connected_at", st.int64(3))
      .time("expires_at", st.is_null(4) ? std::nullopt : std::optional<int64_t>(st.int64(4)))
      .done();
}

std::vector<std::string> oauth_items(const Db& db) {
  std::vector<std::string> items;
  auto st = db.sql(
      "SELECT source_type, provider, account, connected_at, expires_at"
      " FROM accounts_oauth_credentials ORDER BY source_type");
  while (st.step()) items.push_back(oauth_json(st));
  return items;
}

}  // namespace

std::string mask_secret(std::string_view value) {
  if (value.size() <= 4) return "****";
  return std::string(value.substr(0, 2)) + std::string(value.size() - 4, '*') +
         std::string(value.substr(value.size() - 2));
}

void list_secrets(const Services& svc, const sdk::Request&, sdk::Response& rs) {
  std::vector<std::string> items;
  {
    auto st = svc.db.sql(
        "SELECT name, value_sealed, created_at, updated_at FROM accounts_secrets ORDER BY name");
    while (st.step()) {
      std::optional<std::string> value = unseal(svc.settings.keys, st.text(1));
      items.push_back(JsonObject()
                          .str("key", st.text(0))
                          .str("masked_value", value ? mask_secret(*value) : "****")
                          .flag("readable", value.has_value())
                          .time("created_at", st.int64(2))
                          .time("updated_at", st.int64(3))
                          .done());
    }
  }
  rs.json_text(JsonObject()
                   .raw("secrets", json_array(items))
                   .raw("oauth", json_array(oauth_items(svc.db)))
                   .done());
}

void put_secret(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  rapidjson::Document body = parse_body(rq);
  auto name = string_member(body, "key", kMaxSecretName);
  auto value = string_member(body, "value", kMaxSecretValue);
  if (!name || !valid_secret_name(*name)) {
    throw failure(400, "Invalid key: letters, digits and underscores, not starting with a digit");
  }
  if (!value) throw failure(400, "Invalid value: a string of at most 65536 bytes is required");
  int64_t now = now_seconds();
  svc.db
      .sql(
          "INSERT INTO accounts_secrets (name, value_sealed, created_at, updated_at)"
          " VALUES (:name, :value, :now, :now) ON CONFLICT (name)"
          " DO UPDATE SET value_sealed = :value, updated_at = :now")
      .bind("name", *name)
      .bind("value", seal(svc.settings.keys, *value))
      .bind("now", now)
      .exec();
  svc.log(PH_LOG_INFO, "secret " + *name + " stored", &rq);
  rs.json_text(JsonObject()
                   .flag("success", true)
                   .str("key", *name)
                   .str("masked_value", mask_secret(*value))
                   .done());
}

void delete_secret(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  std::string name(rq.param("key").value_or(""));
  int64_t deleted =
      svc.db.sql("DELETE FROM accounts_secrets WHERE name = :name").bind("name", name).exec();
  if (deleted == 0) throw failure(404, "Secret not found");
  svc.log(PH_LOG_INFO, "secret " + name + " deleted", &rq);
  rs.json_text(JsonObject().flag("success", true).done());
}

void list_oauth_credentials(const Services& svc, const sdk::Request&, sdk::Response& rs) {
  rs.json_text(JsonObject().raw("providers", json_array(oauth_items(svc.db))).done());
}

void disconnect_oauth(const Services& svc, const sdk::Request& rq, sdk::Response& rs) {
  std::string source_type(rq.param("source_type").value_or(""));
  int64_t deleted = svc.db.sql("DELETE FROM accounts_oauth_credentials WHERE source_type = :s")
                        .bind("s", source_type)
                        .exec();
  if (deleted == 0) throw failure(404, "No OAuth credentials for '" + source_type + "'");
  rs.json_text(JsonObject().flag("success", true).done());
}

}  // namespace accounts
