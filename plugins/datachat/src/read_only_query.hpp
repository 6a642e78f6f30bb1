// read_only_query — runs one untrusted SQL query against a SQLite file or a PostgreSQL database
// so that the database itself refuses any write, with row and time caps.
//
// SQLite: the file is opened SQLITE_OPEN_READONLY with `query_only`, an authorizer allows only
// reads (SELECT, table reads, functions, recursive CTEs, a few introspection pragmas) and, when
// given, only reads of `allowed_tables`; the text must be one statement that sqlite3_stmt_readonly
// approves; a progress handler interrupts it at the time cap.
// PostgreSQL: a `BEGIN READ ONLY` transaction with `SET LOCAL statement_timeout`, the query as a
// single-command cursor (DECLARE refuses data-modifying statements), tables checked against the
// plan (EXPLAIN), always rolled back.
//
// Independent of any plugin: no host or SDK type appears here. Thread-safe: every run opens its
// own connection, so one ReadOnlyDatabase may be shared by any number of threads.
#pragma once

#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace plughost::readonly {

// One cell of a result.
struct Value {
  enum class Type { kNull, kInteger, kReal, kText };
  Type type = Type::kNull;
  int64_t integer = 0;
  double real = 0;
  std::string text;

  static Value null() { return {}; }
  static Value of(int64_t v) { return {Type::kInteger, v, 0, {}}; }
  static Value of(double v) { return {Type::kReal, 0, v, {}}; }
  static Value of(std::string v) { return {Type::kText, 0, 0, std::move(v)}; }
  bool is_null() const { return type == Type::kNull; }
  // The value as a number (integers widened); 0 for null and text.
  double number() const {
    return type == Type::kInteger ? static_cast<double>(integer) : type == Type::kReal ? real : 0;
  }
};

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;
  bool truncated = false;  // more rows existed than Limits::max_rows
};

struct Limits {
  size_t max_rows = 1000;
  int64_t timeout_ms = 10000;
  // Non-empty: the query may read these tables only (names compared case-insensitively); the
  // names of its own CTEs are not tables and always pass.
  std::set<std::string> allowed_tables;
};

// The query would write, is not exactly one statement, or reads a table it may not.
class QueryRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// The time cap stopped the query.
class QueryTimeout : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// Anything else the database reported (syntax error, unknown column, unreachable server).
class QueryFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Dialect { kSqlite, kPostgresql };

class ReadOnlyDatabase {
 public:
  // `url`: `sqlite://<path>` (also `sqlite3://<path>` and SOCI's `sqlite3://db=<path>`) or
  // `postgresql://…` / `postgres://…` (a libpq URI, or SOCI's `postgresql://key=value …`).
  // Throws std::invalid_argument for any other scheme. Opens nothing yet.
  explicit ReadOnlyDatabase(std::string url);

  Dialect dialect() const { return dialect_; }
  const char* dialect_name() const {
    return dialect_ == Dialect::kSqlite ? "sqlite" : "postgresql";
  }

  // Runs `sql`; throws QueryRefused, QueryTimeout or QueryFailed.
  QueryResult run(const std::string& sql, const Limits& limits) const;

  // The URL with any password replaced by "***", for logs.
  std::string redacted_url() const;

 private:
  QueryResult run_sqlite(const std::string& sql, const Limits& limits) const;
  QueryResult run_postgresql(const std::string& sql, const Limits& limits) const;

  std::string url_;
  std::string target_;  // SQLite path or libpq conninfo
  Dialect dialect_;
};

}  // namespace plughost::readonly
