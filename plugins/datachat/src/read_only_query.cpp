#include "read_only_query.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <regex>

namespace plughost::readonly {

namespace {

using Clock = std::chrono::steady_clock;

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

std::string lower(std::string s) {
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
bool is_introspection_pragma(const char* name) {
  static const std::set<std::string> kReadOnly = {"table_info", "table_xinfo", "foreign_key_list",
                                                  "index_list", "index_info",  "index_xinfo"};
  return name && kReadOnly.count(lower(name)) > 0;
}

int authorize(void* user, int action, const char* a1, const char*, const char*, const char*) {
  auto* g = static_cast<SqliteGuard*>(user);
  auto deny = [&](std::string why) {
    if (g->refusal.empty()) g->refusal = std::move(why);
    return SQLITE_DENY;
  };
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE: return SQLITE_OK;
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

int progress(void* user) {
  auto* g = static_cast<SqliteGuard*>(user);
  if (Clock::now() < g->deadline) return 0;
  g->timed_out = true;
  return 1;
}

using SqliteDb = std::unique_ptr<sqlite3, int (*)(sqlite3*)>;
using SqliteStmt = std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)>;

Value sqlite_value(sqlite3_stmt* st, int col) {
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

PgResult pg_exec(PGconn* c, const std::string& sql) {
  // PQexecParams (even without parameters) refuses more than one command in the text.
  return PgResult(PQexecParams(c, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0), PQclear);
}

// Throws the exception matching a failed result.
[[noreturn]] void pg_fail(PGresult* r, PGconn* c) {
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

void pg_ok(PGconn* c, const std::string& sql) {
  PgResult r = pg_exec(c, sql);
  auto st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) pg_fail(r.get(), c);
}

// Every "Relation Name" in an EXPLAIN (FORMAT JSON) plan.
void collect_relations(const std::string& plan, std::set<std::string>& out) {
  static const std::regex kRelation("\"Relation Name\":\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
  for (std::sregex_iterator it(plan.begin(), plan.end(), kRelation), end; it != end; ++it) {
    out.insert(lower((*it)[1].str()));
  }
}

Value pg_value(PGresult* r, int row, int col) {
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

}  // namespace

ReadOnlyDatabase::ReadOnlyDatabase(std::string url) : url_(std::move(url)) {
  if (starts_with(url_, "sqlite3://") || starts_with(url_, "sqlite://")) {
    dialect_ = Dialect::kSqlite;
    target_ = url_.substr(url_.find("://") + 3);
    if (starts_with(target_, "db=")) {  // SOCI: "db=path [timeout=…]"
      target_ = target_.substr(3);
      target_ = target_.substr(0, target_.find(' '));
    }
    if (target_.empty()) throw std::invalid_argument("sqlite URL without a path: " + url_);
  } else if (starts_with(url_, "postgresql://") || starts_with(url_, "postgres://")) {
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

std::string ReadOnlyDatabase::redacted_url() const {
  static const std::regex kUserinfo("(://[^:/@\\s]*:)[^@\\s]*@");
  static const std::regex kPassword("(password=)\\S+");
  return std::regex_replace(std::regex_replace(url_, kUserinfo, "$1***@"), kPassword, "$1***");
}

QueryResult ReadOnlyDatabase::run(const std::string& sql, const Limits& limits) const {
  return dialect_ == Dialect::kSqlite ? run_sqlite(sql, limits) : run_postgresql(sql, limits);
}

QueryResult ReadOnlyDatabase::run_sqlite(const std::string& sql, const Limits& limits) const {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(target_.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  SqliteDb db(raw, sqlite3_close);
  if (rc != SQLITE_OK) {
    throw QueryFailed(std::string("cannot open the database: ") +
                      (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(db.get(), 2000);
  sqlite3_exec(db.get(), "PRAGMA query_only = 1", nullptr, nullptr, nullptr);

  SqliteGuard guard;
  guard.allowed_tables = &limits.allowed_tables;
  guard.deadline = Clock::now() + std::chrono::milliseconds(limits.timeout_ms);
  sqlite3_set_authorizer(db.get(), authorize, &guard);
  sqlite3_progress_handler(db.get(), 1000, progress, &guard);

  const char* tail = nullptr;
  sqlite3_stmt* st_raw = nullptr;
  rc = sqlite3_prepare_v2(db.get(), sql.c_str(), static_cast<int>(sql.size()), &st_raw, &tail);
  SqliteStmt st(st_raw, sqlite3_finalize);
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
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    if (out.rows.size() >= limits.max_rows) {
      out.truncated = true;
      break;
    }
    std::vector<Value> row;
    row.reserve(static_cast<size_t>(ncol));
    for (int i = 0; i < ncol; ++i) row.push_back(sqlite_value(st.get(), i));
    out.rows.push_back(std::move(row));
  }
  if (rc == SQLITE_ROW || rc == SQLITE_DONE) return out;
  if (guard.timed_out || rc == SQLITE_INTERRUPT) {
    throw QueryTimeout("the query ran longer than the time cap");
  }
  if (rc == SQLITE_AUTH) throw QueryRefused(guard.refusal);
  throw QueryFailed(sqlite3_errmsg(db.get()));
}

QueryResult ReadOnlyDatabase::run_postgresql(const std::string& sql, const Limits& limits) const {
  PgConn conn(PQconnectdb(target_.c_str()), PQfinish);
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

  pg_ok(conn.get(), "BEGIN READ ONLY");
  pg_ok(conn.get(),
        "SET LOCAL statement_timeout = " + std::to_string(std::max<int64_t>(1, limits.timeout_ms)));
  if (!limits.allowed_tables.empty()) {
    PgResult plan = pg_exec(conn.get(), "EXPLAIN (FORMAT JSON) " + body);
    if (PQresultStatus(plan.get()) != PGRES_TUPLES_OK) pg_fail(plan.get(), conn.get());
    std::set<std::string> read;
    for (int i = 0; i < PQntuples(plan.get()); ++i) {
      collect_relations(PQgetvalue(plan.get(), i, 0), read);
    }
    for (const auto& t : read) {
      if (!limits.allowed_tables.count(t)) {
        throw QueryRefused("table \"" + t + "\" is not among the allowed tables");
      }
    }
  }
  // A cursor takes only a SELECT/VALUES without data-modifying CTEs; FETCH bounds the rows.
  pg_ok(conn.get(), "DECLARE plughost_ro NO SCROLL CURSOR FOR " + body);
  PgResult rows = pg_exec(
      conn.get(), "FETCH FORWARD " + std::to_string(limits.max_rows + 1) + " FROM plughost_ro");
  if (PQresultStatus(rows.get()) != PGRES_TUPLES_OK) pg_fail(rows.get(), conn.get());
  QueryResult out;
  int ncol = PQnfields(rows.get());
  for (int i = 0; i < ncol; ++i) out.columns.emplace_back(PQfname(rows.get(), i));
  int n = PQntuples(rows.get());
  for (int r = 0; r < n; ++r) {
    if (out.rows.size() >= limits.max_rows) {
      out.truncated = true;
      break;
    }
    std::vector<Value> row;
    for (int c = 0; c < ncol; ++c) row.push_back(pg_value(rows.get(), r, c));
    out.rows.push_back(std::move(row));
  }
  pg_exec(conn.get(), "ROLLBACK");
  return out;
}

}  // namespace plughost::readonly
