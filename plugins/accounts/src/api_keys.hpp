// api_keys.hpp — long-lived API keys (accounts_api_keys): "dango_ak_" + 32 random bytes, shown
// once at creation, stored as SHA-256, listed by their first 12 characters. Deleting a key
// revokes it for the very next request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services.hpp"

namespace accounts {

constexpr std::string_view kApiKeyPrefix = "dango_ak_";
constexpr size_t kKeyPrefixLength = 12;

struct ApiKeyRow {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string name;
  std::string key_prefix;
  int64_t created_at = 0;
  std::optional<int64_t> expires_at;
  std::optional<int64_t> last_used_at;
};

struct CreatedKey {
  ApiKeyRow row;
  std::string key;  // the only time the full key exists outside the client
};

CreatedKey create_api_key(const Db& db, int64_t user_id, std::string_view name,
                          std::optional<int64_t> expires_at);
// The unexpired key `key` names; records last_used_at at most once a minute.
std::optional<ApiKeyRow> find_live_api_key(const Db& db, std::string_view key);
std::vector<ApiKeyRow> list_api_keys(const Db& db, int64_t user_id);
// False when the user has no such key.
bool delete_api_key(const Db& db, int64_t user_id, int64_t key_id);
// Deletes every key of the user (deactivation, an admin's sign-out-everywhere).
void delete_user_api_keys(const Db& db, int64_t user_id);
// {id, name, key_prefix, created_at, expires_at, last_used_at}
std::string api_key_json(const ApiKeyRow& k);

}  // namespace accounts
