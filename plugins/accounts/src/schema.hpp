// schema.hpp — the plugin's tables, as ordered migrations for SQLite and PostgreSQL.
// Times are unix seconds (BIGINT), flags INTEGER 0/1; every bearer secret is stored as its
// SHA-256 hex and every recoverable secret sealed (crypto.hpp), never in plain text.
#pragma once

#include <string>
#include <vector>

namespace accounts {

struct Migration {
  std::string name;
  std::string sql;           // SQLite
  std::string sql_postgres;  // PostgreSQL
};

const std::vector<Migration>& migrations();

}  // namespace accounts
