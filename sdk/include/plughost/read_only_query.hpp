// plughost/read_only_query.hpp — runs one untrusted SQL query against a SQLite file or a PostgreSQL
// database so that the database itself refuses any write, with row and time caps.
//
// SQLite: the file is opened SQLITE_OPEN_READONLY with `query_only`, an authorizer allows only
// reads (SELECT, table reads, functions, recursive CTEs, a few introspection pragmas) and, when
// given, only reads of `allowed_tables`; the text must be one statement that sqlite3_stmt_readonly
// approves; a progress handler interrupts it at the time cap.
// PostgreSQL: a `BEGIN READ ONLY` transaction with `SET LOCAL statement_timeout`, the query as a
// single-command cursor (DECLARE refuses data-modifying statements), tables checked against the
// plan (EXPLAIN), always rolled back.
//
// Header-only and independent of the host: no host or SDK type appears here. A target that includes
// it links SQLite and libpq (CMake: SQLite::SQLite3 and PostgreSQL::PostgreSQL).
//
// Independent of any plugin. Thread-safe: every run opens its
// own connection, so one ReadOnlyDatabase may be shared by any number of threads.
#pragma once

#include <libpq-fe.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <memory>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
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
  // More rows existed than Limits::max_rows, or the rows read reached Limits::max_result_bytes.
  bool truncated = false;
};

struct Limits {
  size_t max_rows = 1000;
  // Bytes of text in the rows kept (values and their 16-byte overhead): past it no more rows are
  // read and the result is truncated, so a few huge values cannot exhaust memory.
  size_t max_result_bytes = 64 << 20;
  // SQLite: the longest string or blob the query may build (SQLITE_LIMIT_LENGTH); longer fails.
  int max_value_bytes = 16 << 20;
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

// The lexical outline of SQL text, for a policy on top of the guard (which alone decides what is
// safe): the first keyword and whether a compound operator appears outside parentheses. Quotes
// ('…', "…", `…`, […]) and comments (--, /* */) are skipped; never throws, linear time.
struct SqlOutline {
  std::string first_keyword;  // lower-case ASCII; "" when the text starts with something else
  bool compound = false;      // UNION, INTERSECT or EXCEPT at parenthesis depth 0
  int statements = 0;         // non-empty statements separated by ';' outside quotes
};
SqlOutline outline(std::string_view sql);

// ---- implementation ----

namespace detail {

using Clock = std::chrono::steady_clock;

inline bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

inline std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// ---- SQLite ----------------------------------------------------------------------------------

struct SqliteGuard {
  const std::set<std::string>* allowed_tables = nullptr;
  std::string refusal;  // why the authorizer said no (first refusal only)
  Clock::time_point deadline;
  bool timed_out = false;
};

// Pragmas that only report, whatever their argument (`PRAGMA table_info(t)` passes `t`).
inline bool is_introspection_pragma(const char* name) {
  static const std::set<std::string> kReadOnly = {"table_info", "table_xinfo", "foreign_key_list",
                                                  "index_list", "index_info",  "index_xinfo"};
  return name && kReadOnly.count(lower(name)) > 0;
}

// Functions no untrusted query may call even on a read-only connection: load_extension runs
// native code, fts3_tokenizer with two arguments takes a raw pointer.
inline bool is_forbidden_function(const char* name) {
  static const std::set<std::string> kForbidden = {"load_extension", "fts3_tokenizer"};
  return name && kForbidden.count(lower(name)) > 0;
}

inline int authorize(void* user, int action, const char* a1, const char* a2, const char*,
                     const char*) {
  auto* g = static_cast<SqliteGuard*>(user);
  auto deny = [&](std::string why) {
    if (g->refusal.empty()) g->refusal = std::move(why);
    return SQLITE_DENY;
  };
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_RECURSIVE: return SQLITE_OK;
    case SQLITE_FUNCTION:  // a1 is unused, a2 the function's name
      if (is_forbidden_function(a2)) {
        return deny("function " + std::string(a2) + "() is not allowed");
      }
      return SQLITE_OK;
    case SQLITE_READ: {
      if (!g->allowed_tables || g->allowed_tables->empty()) return SQLITE_OK;
      std::string table = lower(a1 ? a1 : "");
      if (g->allowed_tables->count(table)) return SQLITE_OK;
      return deny("table \"" + std::string(a1 ? a1 : "") + "\" is not among the allowed tables");
    }
    case SQLITE_PRAGMA:
      if (is_introspection_pragma(a1)) return SQLITE_OK;
      return deny("PRAGMA " + std::string(a1 ? a1 : "") + " is not allowed");
    case SQLITE_ATTACH:
    case SQLITE_DETACH: return deny("ATTACH and DETACH are not allowed");
    default: return deny("only reading queries are allowed");
  }
}

inline int progress(void* user) {
  auto* g = static_cast<SqliteGuard*>(user);
  if (Clock::now() < g->deadline) return 0;
  g->timed_out = true;
  return 1;
}

using SqliteDb = std::unique_ptr<sqlite3, int (*)(sqlite3*)>;
using SqliteStmt = std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)>;

inline Value sqlite_value(sqlite3_stmt* st, int col) {
  switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER: return Value::of(static_cast<int64_t>(sqlite3_column_int64(st, col)));
    case SQLITE_FLOAT: return Value::of(sqlite3_column_double(st, col));
    case SQLITE_NULL: return Value::null();
    default: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, col));
      return Value::of(std::string(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(st, col))));
    }
  }
}

// ---- PostgreSQL ------------------------------------------------------------------------------

using PgConn = std::unique_ptr<PGconn, void (*)(PGconn*)>;
using PgResult = std::unique_ptr<PGresult, void (*)(PGresult*)>;

inline PgResult pg_exec(PGconn* c, const std::string& sql) {
  // PQexecParams (even without parameters) refuses more than one command in the text.
  return PgResult(PQexecParams(c, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0), PQclear);
}

// Throws the exception matching a failed result.
[[noreturn]] inline void pg_fail(PGresult* r, PGconn* c) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
  while (!msg.empty() && std::isspace(static_cast<unsigned char>(msg.back()))) msg.pop_back();
  std::string code = state ? state : "";
  if (code == "57014") throw QueryTimeout("the query ran longer than the time cap");
  // 25006 read_only_sql_transaction, 42601 with "multiple commands", 0A000 for DML in a cursor.
  if (code == "25006" || code == "0A000" || msg.find("multiple commands") != std::string::npos) {
    throw QueryRefused(msg);
  }
  throw QueryFailed(msg);
}

inline void pg_ok(PGconn* c, const std::string& sql) {
  PgResult r = pg_exec(c, sql);
  auto st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) pg_fail(r.get(), c);
}

// Every "Relation Name" in an EXPLAIN (FORMAT JSON) plan.
inline void collect_relations(const std::string& plan, std::set<std::string>& out) {
  static const std::regex kRelation("\"Relation Name\":\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
  for (std::sregex_iterator it(plan.begin(), plan.end(), kRelation), end; it != end; ++it) {
    out.insert(lower((*it)[1].str()));
  }
}

inline Value pg_value(PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return Value::null();
  std::string text(PQgetvalue(r, row, col), static_cast<size_t>(PQgetlength(r, row, col)));
  switch (PQftype(r, col)) {
    case 20:  // int8
    case 21:  // int2
    case 23:  // int4
      return Value::of(static_cast<int64_t>(std::stoll(text)));
    case 700:   // float4
    case 701:   // float8
    case 1700:  // numeric
      return Value::of(std::stod(text));
    case 16:  // bool
      return Value::of(static_cast<int64_t>(text == "t" ? 1 : 0));
    default: return Value::of(std::move(text));
  }
}

// Adds `row` to the running byte count; true (and `out` marked truncated) when it would pass
// the budget.
inline bool over_budget(QueryResult& out, const std::vector<Value>& row, size_t& bytes,
                        const Limits& limits) {
  for (const auto& v : row) bytes += 16 + v.text.size();
  if (bytes <= limits.max_result_bytes) return false;
  out.truncated = true;
  return true;
}

}  // namespace detail

inline ReadOnlyDatabase::ReadOnlyDatabase(std::string url) : url_(std::move(url)) {
  if (detail::starts_with(url_, "sqlite3://") || detail::starts_with(url_, "sqlite://")) {
    dialect_ = Dialect::kSqlite;
    target_ = url_.substr(url_.find("://") + 3);
    if (detail::starts_with(target_, "db=")) {  // SOCI: "db=path [timeout=…]"
      target_ = target_.substr(3);
      target_ = target_.substr(0, target_.find(' '));
    }
    if (target_.empty()) throw std::invalid_argument("sqlite URL without a path: " + url_);
  } else if (detail::starts_with(url_, "postgresql://") ||
             detail::starts_with(url_, "postgres://")) {
    dialect_ = Dialect::kPostgresql;
    std::string rest = url_.substr(url_.find("://") + 3);
    // SOCI's "postgresql://dbname=x user=y" carries libpq key=value pairs after the scheme.
    bool key_values = rest.find('=') != std::string::npos && rest.find('@') == std::string::npos &&
                      rest.find('/') == std::string::npos;
    target_ = key_values ? rest : url_;
  } else {
    throw std::invalid_argument("unsupported database URL (sqlite:// or postgresql://): " +
                                redacted_url());
  }
}

inline std::string ReadOnlyDatabase::redacted_url() const {
  static const std::regex kUserinfo("(://[^:/@\\s]*:)[^@\\s]*@");
  static const std::regex kPassword("(password=)\\S+");
  return std::regex_replace(std::regex_replace(url_, kUserinfo, "$1***@"), kPassword, "$1***");
}

inline QueryResult ReadOnlyDatabase::run(const std::string& sql, const Limits& limits) const {
  return dialect_ == Dialect::kSqlite ? run_sqlite(sql, limits) : run_postgresql(sql, limits);
}

inline QueryResult ReadOnlyDatabase::run_sqlite(const std::string& sql,
                                                const Limits& limits) const {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(target_.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  detail::SqliteDb db(raw, sqlite3_close);
  if (rc != SQLITE_OK) {
    throw QueryFailed(std::string("cannot open the database: ") +
                      (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(db.get(), 2000);
  sqlite3_exec(db.get(), "PRAGMA query_only = 1", nullptr, nullptr, nullptr);
  // Defence in depth behind the authorizer: no extension loading, no attached databases, no
  // writes to the schema or shadow tables through tricks of the SQL text.
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_limit(db.get(), SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_limit(db.get(), SQLITE_LIMIT_LENGTH, std::max(1, limits.max_value_bytes));

  detail::SqliteGuard guard;
  guard.allowed_tables = &limits.allowed_tables;
  guard.deadline = detail::Clock::now() + std::chrono::milliseconds(limits.timeout_ms);
  sqlite3_set_authorizer(db.get(), detail::authorize, &guard);
  sqlite3_progress_handler(db.get(), 1000, detail::progress, &guard);

  const char* tail = nullptr;
  sqlite3_stmt* st_raw = nullptr;
  rc = sqlite3_prepare_v2(db.get(), sql.c_str(), static_cast<int>(sql.size()), &st_raw, &tail);
  detail::SqliteStmt st(st_raw, sqlite3_finalize);
  if (rc != SQLITE_OK) {
    if (rc == SQLITE_AUTH || !guard.refusal.empty()) {
      throw QueryRefused(guard.refusal.empty() ? "not authorized" : guard.refusal);
    }
    throw QueryFailed(sqlite3_errmsg(db.get()));
  }
  if (!st) throw QueryRefused("the query is empty");
  // Whatever follows the first statement must prepare to nothing (blanks, comments, ';').
  if (tail && *tail) {
    sqlite3_stmt* next = nullptr;
    int rc2 = sqlite3_prepare_v2(db.get(), tail, -1, &next, nullptr);
    sqlite3_finalize(next);
    if (rc2 != SQLITE_OK || next) throw QueryRefused("only one statement is allowed");
  }
  if (!sqlite3_stmt_readonly(st.get())) throw QueryRefused("only reading queries are allowed");

  QueryResult out;
  int ncol = sqlite3_column_count(st.get());
  if (ncol == 0) throw QueryRefused("the statement returns no rows");
  for (int i = 0; i < ncol; ++i) out.columns.emplace_back(sqlite3_column_name(st.get(), i));
  size_t bytes = 0;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    if (out.rows.size() >= limits.max_rows) {
      out.truncated = true;
      break;
    }
    std::vector<Value> row;
    row.reserve(static_cast<size_t>(ncol));
    for (int i = 0; i < ncol; ++i) row.push_back(detail::sqlite_value(st.get(), i));
    if (detail::over_budget(out, row, bytes, limits)) break;
    out.rows.push_back(std::move(row));
  }
  if (rc == SQLITE_ROW || rc == SQLITE_DONE) return out;
  if (guard.timed_out || rc == SQLITE_INTERRUPT) {
    throw QueryTimeout("the query ran longer than the time cap");
  }
  if (rc == SQLITE_AUTH) throw QueryRefused(guard.refusal);
  throw QueryFailed(sqlite3_errmsg(db.get()));
}

inline QueryResult ReadOnlyDatabase::run_postgresql(const std::string& sql,
                                                    const Limits& limits) const {
  detail::PgConn conn(PQconnectdb(target_.c_str()), PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn.get());
    while (!msg.empty() && std::isspace(static_cast<unsigned char>(msg.back()))) msg.pop_back();
    throw QueryFailed("cannot connect to the database: " + msg);
  }
  std::string body = sql;
  while (!body.empty() &&
         (std::isspace(static_cast<unsigned char>(body.back())) || body.back() == ';')) {
    body.pop_back();
  }
  if (body.empty()) throw QueryRefused("the query is empty");

  detail::pg_ok(conn.get(), "BEGIN READ ONLY");
  detail::pg_ok(conn.get(), "SET LOCAL statement_timeout = " +
                                std::to_string(std::max<int64_t>(1, limits.timeout_ms)));
  if (!limits.allowed_tables.empty()) {
    detail::PgResult plan = detail::pg_exec(conn.get(), "EXPLAIN (FORMAT JSON) " + body);
    if (PQresultStatus(plan.get()) != PGRES_TUPLES_OK) detail::pg_fail(plan.get(), conn.get());
    std::set<std::string> read;
    for (int i = 0; i < PQntuples(plan.get()); ++i) {
      detail::collect_relations(PQgetvalue(plan.get(), i, 0), read);
    }
    for (const auto& t : read) {
      if (!limits.allowed_tables.count(t)) {
        throw QueryRefused("table \"" + t + "\" is not among the allowed tables");
      }
    }
  }
  // A cursor takes only a SELECT/VALUES without data-modifying CTEs; FETCH bounds the rows.
  detail::pg_ok(conn.get(), "DECLARE plughost_ro NO SCROLL CURSOR FOR " + body);
  detail::PgResult rows = detail::pg_exec(
      conn.get(), "FETCH FORWARD " + std::to_string(limits.max_rows + 1) + " FROM plughost_ro");
  if (PQresultStatus(rows.get()) != PGRES_TUPLES_OK) detail::pg_fail(rows.get(), conn.get());
  QueryResult out;
  int ncol = PQnfields(rows.get());
  for (int i = 0; i < ncol; ++i) out.columns.emplace_back(PQfname(rows.get(), i));
  size_t bytes = 0;
  int n = PQntuples(rows.get());
  for (int r = 0; r < n; ++r) {
    if (out.rows.size() >= limits.max_rows) {
      out.truncated = true;
      break;
    }
    std::vector<Value> row;
    for (int c = 0; c < ncol; ++c) row.push_back(detail::pg_value(rows.get(), r, c));
    if (detail::over_budget(out, row, bytes, limits)) break;
    out.rows.push_back(std::move(row));
  }
  detail::pg_exec(conn.get(), "ROLLBACK");
  return out;
}

inline SqlOutline outline(std::string_view sql) {
  SqlOutline out;
  int depth = 0;
  bool in_statement = false;  // something other than blanks and comments since the last ';'
  bool first = true;          // the next token is the text's first
  const size_t n = sql.size();
  size_t i = 0;
  auto word_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
           static_cast<unsigned char>(c) >= 0x80;
  };
  while (i < n) {
    char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      while (i < n && sql[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? n : end + 2;
    } else if (c == ';') {
      if (in_statement) ++out.statements;
      in_statement = false;
      depth = 0;
      ++i;
    } else {
      in_statement = true;
      if (c == '\'' || c == '"' || c == '`' || c == '[') {
        // A doubled closing quote inside is two adjacent quoted runs: same outcome.
        char close = c == '[' ? ']' : c;
        size_t end = sql.find(close, i + 1);
        i = end == std::string_view::npos ? n : end + 1;
      } else if (word_char(c)) {
        size_t start = i;
        while (i < n && word_char(sql[i])) ++i;
        std::string word = detail::lower(std::string(sql.substr(start, i - start)));
        if (first) out.first_keyword = word;
        if (depth == 0 && (word == "union" || word == "intersect" || word == "except")) {
          out.compound = true;
        }
      } else {
        if (c == '(') ++depth;
        if (c == ')' && depth > 0) --depth;
        ++i;
      }
      first = false;
    }
  }
  if (in_statement) ++out.statements;
  return out;
}

}  // namespace plughost::readonly
