#include "storage/statement.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace plughost {

namespace {

bool ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Length of the quoted run starting at sql[i] (which is `quote`), honouring doubled quotes.
size_t quoted_length(std::string_view sql, size_t i, char quote) {
  size_t j = i + 1;
  while (j < sql.size()) {
    if (sql[j] == quote) {
      if (j + 1 < sql.size() && sql[j + 1] == quote) {
        j += 2;
        continue;
      }
      return j + 1 - i;
    }
    ++j;
  }
  return sql.size() - i;
}

// PostgreSQL OIDs (pg_type.h) the column accessors map to non-text types.
constexpr Oid kBoolOid = 16, kByteaOid = 17, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23,
              kOidOid = 26, kFloat4Oid = 700, kFloat8Oid = 701, kNumericOid = 1700;

int hex_nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

}  // namespace

std::string to_postgres_placeholders(std::string_view sql, std::vector<std::string>& names) {
  std::string out;
  out.reserve(sql.size());
  size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    if (c == '\'' || c == '"') {
      size_t n = quoted_length(sql, i, c);
      out.append(sql.substr(i, n));
      i += n;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      size_t end = sql.find('\n', i);
      end = end == std::string_view::npos ? sql.size() : end;
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      size_t end = sql.find("*/", i + 2);
      end = end == std::string_view::npos ? sql.size() : end + 2;
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (c == ':' && i + 1 < sql.size() && sql[i + 1] == ':') {
      out += "::";
      i += 2;
    } else if (c == ':' && i + 1 < sql.size() && ident_char(sql[i + 1]) &&
               !std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      size_t j = i + 1;
      while (j < sql.size() && ident_char(sql[j])) ++j;
      std::string name(sql.substr(i + 1, j - i - 1));
      size_t pos = 0;
      while (pos < names.size() && names[pos] != name) ++pos;
      if (pos == names.size()) names.push_back(name);
      out += "$" + std::to_string(pos + 1);
      i = j;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

namespace {
thread_local const char* last_storage_fault = nullptr;
}  // namespace

StorageUnavailable::StorageUnavailable(const char* reason, const std::string& message)
    : std::runtime_error(message), reason_(reason) {
  last_storage_fault = reason;
}

const char* take_storage_fault() {
  const char* r = last_storage_fault;
  last_storage_fault = nullptr;
  return r;
}

// ---- Transaction -------------------------------------------------------------------------------

namespace {

// SQLite's primary result code says whether the environment or the statement is at fault. An
// I/O error says more through the errno of the system call that failed: a file system the kernel
// switched to read-only after an error of its own (ext4 errors=remount-ro) fails writes with
// EROFS, which SQLite reports only as "disk I/O error".
[[noreturn]] void throw_sqlite(sqlite3* db, int rc, const std::string& message) {
  int primary = rc & 0xff;
  int err = primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN || primary == SQLITE_FULL
                ? sqlite3_system_errno(db)
                : 0;
  std::string full = err ? message + " (" + std::strerror(err) + ")" : message;
  switch (primary) {
    case SQLITE_FULL: throw StorageUnavailable("full", full);
    case SQLITE_READONLY: throw StorageUnavailable("read_only", full);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      if (err == EROFS) throw StorageUnavailable("read_only", full);
      if (err == ENOSPC || err == EDQUOT || err == EFBIG) throw StorageUnavailable("full", full);
      throw StorageUnavailable("io_error", full);
    case SQLITE_BUSY:
    case SQLITE_LOCKED: throw StorageUnavailable("busy", message);
    default: throw std::runtime_error(message);
  }
}

// libpq: a lost connection, an administrator shutdown or a full disk is the environment
// (SQLSTATE classes 08 and 57P, 53100, 25006); anything else is the statement.
[[noreturn]] void throw_postgres(PGconn* conn, const PGresult* result, const std::string& message) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string code = state ? state : "";
  if (PQstatus(conn) == CONNECTION_BAD || code.empty() || code.rfind("08", 0) == 0 ||
      code.rfind("57P", 0) == 0 || code == "53300") {
    throw StorageUnavailable("unreachable", message);
  }
  if (code == "53100") throw StorageUnavailable("full", message);
  if (code == "25006") throw StorageUnavailable("read_only", message);
  throw std::runtime_error(message);
}

void exec_native(Database::Lease& lease, Dialect dialect, const char* sql) {
  if (dialect == Dialect::kSqlite) {
    char* err = nullptr;
    int rc =
        sqlite3_exec(static_cast<sqlite3*>(lease.native_handle()), sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err ? err : "sqlite error";
      sqlite3_free(err);
      throw_sqlite(static_cast<sqlite3*>(lease.native_handle()), rc, msg);
    }
    return;
  }
  auto* conn = static_cast<PGconn*>(lease.native_handle());
  std::unique_ptr<PGresult, void (*)(PGresult*)> r(PQexec(conn, sql), PQclear);
  ExecStatusType st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    throw_postgres(conn, r.get(), r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn));
  }
}

}  // namespace

Transaction::Transaction(Database& db) : lease_(db.acquire()), dialect_(db.dialect()) {
  // IMMEDIATE takes SQLite's write lock up front, so two writers wait on the busy timeout
  // instead of one failing with SQLITE_BUSY when it upgrades a read lock.
  exec_native(lease_, dialect_, dialect_ == Dialect::kSqlite ? "BEGIN IMMEDIATE" : "BEGIN");
}

Transaction::~Transaction() {
  if (open_) {
    try {
      rollback();
    } catch (...) {
      // The session is returned to the pool either way; a failed rollback is logged by callers.
    }
  }
}

void Transaction::exec_script(const std::string& sql) {
  exec_native(lease_, dialect_, sql.c_str());
}

void Transaction::commit() {
  try {
    exec_native(lease_, dialect_, "COMMIT");
  } catch (...) {
    // e.g. SQLite refuses to commit while a statement is still unfinished: the transaction is
    // still open and must not go back to the pool that way.
    rollback();
    throw;
  }
  open_ = false;
}

void Transaction::rollback() {
  open_ = false;
  exec_native(lease_, dialect_, "ROLLBACK");
}

// ---- Statement ---------------------------------------------------------------------------------

struct Statement::Native {
  sqlite3_stmt* sqlite = nullptr;
  PGresult* pg = nullptr;
  int row = -1;
  bool executed = false;
  // SQLite rows of an autocommit write read in full at the first step (see step_sqlite).
  bool buffered = false;
  std::vector<std::vector<Value>> rows;
  std::vector<std::string> names;
  mutable std::string scratch;
  ~Native() {
    if (sqlite) sqlite3_finalize(sqlite);
    if (pg) PQclear(pg);
  }
};

Statement::Statement(Database& db, std::string_view sql)
    : own_lease_(db.acquire()),
      lease_(&*own_lease_),
      dialect_(db.dialect()),
      native_(std::make_unique<Native>()) {
  prepare(sql);
}

Statement::Statement(Transaction& txn, std::string_view sql)
    : lease_(&txn.lease()), dialect_(txn.dialect()), native_(std::make_unique<Native>()) {
  prepare(sql);
}

Statement::~Statement() {
  native_.reset();
}

void Statement::prepare(std::string_view sql) {
  if (dialect_ == Dialect::kSqlite) {
    auto* db = static_cast<sqlite3*>(lease_->native_handle());
    int rc =
        sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &native_->sqlite, nullptr);
    if (rc != SQLITE_OK) throw_sqlite(db, rc, sqlite3_errmsg(db));
    return;
  }
  pg_sql_ = to_postgres_placeholders(sql, pg_names_);
}

void Statement::bind(const std::string& name, Value value) {
  bool known;
  if (dialect_ == Dialect::kSqlite) {
    known = sqlite3_bind_parameter_index(native_->sqlite, (":" + name).c_str()) > 0;
  } else {
    known = false;
    for (const auto& n : pg_names_) known = known || n == name;
  }
  if (!known) throw std::runtime_error("statement has no parameter :" + name);
  binds_[name] = std::move(value);
}

namespace {

Value sqlite_value(sqlite3_stmt* st, int c) {
  switch (sqlite3_column_type(st, c)) {
    case SQLITE_INTEGER: return Value::integer(sqlite3_column_int64(st, c));
    case SQLITE_FLOAT: return Value::real(sqlite3_column_double(st, c));
    case SQLITE_NULL: return Value::null();
    case SQLITE_BLOB: {
      const char* p = static_cast<const char*>(sqlite3_column_blob(st, c));
      return Value::blob(std::string(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(st, c))));
    }
    default: {
      const char* p = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
      return Value::text(std::string(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(st, c))));
    }
  }
}

}  // namespace

bool Statement::step() {
  return dialect_ == Dialect::kSqlite ? step_sqlite() : step_postgres();
}

bool Statement::step_sqlite() {
  sqlite3_stmt* st = native_->sqlite;
  auto* db = static_cast<sqlite3*>(lease_->native_handle());
  if (!native_->executed) {
    native_->executed = true;
    for (const auto& [name, v] : binds_) {
      int idx = sqlite3_bind_parameter_index(st, (":" + name).c_str());
      switch (v.type) {
        case ValueType::kNull: sqlite3_bind_null(st, idx); break;
        case ValueType::kInt64: sqlite3_bind_int64(st, idx, v.i); break;
        case ValueType::kDouble: sqlite3_bind_double(st, idx, v.d); break;
        case ValueType::kText:
          sqlite3_bind_text(st, idx, v.bytes.data(), static_cast<int>(v.bytes.size()),
                            SQLITE_STATIC);
          break;
        case ValueType::kBlob:
          sqlite3_bind_blob(st, idx, v.bytes.data(), static_cast<int>(v.bytes.size()),
                            SQLITE_STATIC);
          break;
      }
    }
  }
  if (native_->buffered) return ++native_->row < static_cast<int>(native_->rows.size());
  bool first = native_->row < 0;
  native_->row = 0;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW && first && !sqlite3_stmt_readonly(st) && sqlite3_get_autocommit(db)) {
    // A write that returns rows (INSERT … RETURNING) outside a transaction commits only when it
    // runs to its end. Left half-read, it would commit at finalize, where a failure (disk full)
    // can no longer reach the caller, who has already acknowledged the write. So it runs to
    // its end now and its rows are kept.
    native_->buffered = true;
    int columns = sqlite3_column_count(st);
    do {
      std::vector<Value>& row = native_->rows.emplace_back();
      for (int c = 0; c < columns; ++c) row.push_back(sqlite_value(st, c));
    } while ((rc = sqlite3_step(st)) == SQLITE_ROW);
    if (rc != SQLITE_DONE) throw_sqlite(db, rc, sqlite3_errmsg(db));
    changes_ = sqlite3_changes(db);
    return true;
  }
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) {
    changes_ = sqlite3_changes(db);
    return false;
  }
  throw_sqlite(db, rc, sqlite3_errmsg(db));
}

bool Statement::step_postgres() {
  if (!native_->executed) {
    native_->executed = true;
    std::vector<const char*> values(pg_names_.size(), nullptr);
    std::vector<int> lengths(pg_names_.size(), 0), formats(pg_names_.size(), 0);
    std::vector<std::string> text(pg_names_.size());
    for (size_t k = 0; k < pg_names_.size(); ++k) {
      auto it = binds_.find(pg_names_[k]);
      if (it == binds_.end() || it->second.type == ValueType::kNull) continue;
      const Value& v = it->second;
      if (v.type == ValueType::kInt64) {
        text[k] = std::to_string(v.i);
      } else if (v.type == ValueType::kDouble) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%.17g", v.d);
        text[k] = buf;
      } else {
        values[k] = v.bytes.data();
        lengths[k] = static_cast<int>(v.bytes.size());
        formats[k] = v.type == ValueType::kBlob ? 1 : 0;
        if (v.type == ValueType::kText)
          text[k] = v.bytes;  // NUL-terminated copy for libpq
        else
          continue;
      }
      values[k] = text[k].c_str();
    }
    auto* conn = static_cast<PGconn*>(lease_->native_handle());
    native_->pg = PQexecParams(conn, pg_sql_.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), lengths.data(), formats.data(), 0);
    ExecStatusType st = PQresultStatus(native_->pg);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      throw_postgres(conn, native_->pg,
                     native_->pg ? PQresultErrorMessage(native_->pg) : PQerrorMessage(conn));
    }
    const char* affected = PQcmdTuples(native_->pg);
    changes_ = (affected && *affected) ? std::atoll(affected) : 0;
    for (int c = 0; c < PQnfields(native_->pg); ++c)
      native_->names.push_back(PQfname(native_->pg, c));
  }
  if (PQresultStatus(native_->pg) != PGRES_TUPLES_OK) return false;
  return ++native_->row < PQntuples(native_->pg);
}

int Statement::column_count() const {
  if (dialect_ == Dialect::kSqlite) return sqlite3_column_count(native_->sqlite);
  return native_->pg ? PQnfields(native_->pg) : 0;
}

const std::string& Statement::column_name(int i) const {
  if (dialect_ == Dialect::kSqlite) {
    const char* n = sqlite3_column_name(native_->sqlite, i);
    native_->scratch = n ? n : "";
    return native_->scratch;
  }
  return native_->names.at(static_cast<size_t>(i));
}

const Value* Statement::buffered_value(int i) const {
  if (!native_->buffered) return nullptr;
  static const Value kNull;
  size_t row = static_cast<size_t>(native_->row);
  if (row >= native_->rows.size() || i < 0 || static_cast<size_t>(i) >= native_->rows[row].size()) {
    return &kNull;
  }
  return &native_->rows[row][static_cast<size_t>(i)];
}

ValueType Statement::column_type(int i) const {
  if (const Value* v = buffered_value(i)) return v->type;
  if (dialect_ == Dialect::kSqlite) {
    switch (sqlite3_column_type(native_->sqlite, i)) {
      case SQLITE_INTEGER: return ValueType::kInt64;
      case SQLITE_FLOAT: return ValueType::kDouble;
      case SQLITE_BLOB: return ValueType::kBlob;
      case SQLITE_NULL: return ValueType::kNull;
      default: return ValueType::kText;
    }
  }
  if (!pg_row_valid() || PQgetisnull(native_->pg, native_->row, i)) return ValueType::kNull;
  switch (PQftype(native_->pg, i)) {
    case kBoolOid:
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid: return ValueType::kInt64;
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid: return ValueType::kDouble;
    case kByteaOid: return ValueType::kBlob;
    default: return ValueType::kText;
  }
}

bool Statement::pg_row_valid() const {
  return native_->pg && native_->row >= 0 && native_->row < PQntuples(native_->pg);
}

int64_t Statement::column_int64(int i) const {
  if (const Value* v = buffered_value(i)) {
    return v->type == ValueType::kDouble  ? static_cast<int64_t>(v->d)
           : v->type == ValueType::kInt64 ? v->i
                                          : std::atoll(v->bytes.c_str());
  }
  if (dialect_ == Dialect::kSqlite) return sqlite3_column_int64(native_->sqlite, i);
  if (!pg_row_valid()) return 0;
  const char* v = PQgetvalue(native_->pg, native_->row, i);
  if (PQftype(native_->pg, i) == kBoolOid) return v[0] == 't' ? 1 : 0;
  return std::atoll(v);
}

double Statement::column_double(int i) const {
  if (const Value* v = buffered_value(i)) {
    return v->type == ValueType::kDouble  ? v->d
           : v->type == ValueType::kInt64 ? static_cast<double>(v->i)
                                          : std::strtod(v->bytes.c_str(), nullptr);
  }
  if (dialect_ == Dialect::kSqlite) return sqlite3_column_double(native_->sqlite, i);
  if (!pg_row_valid()) return 0;
  return std::strtod(PQgetvalue(native_->pg, native_->row, i), nullptr);
}

std::string_view Statement::column_bytes(int i) const {
  if (const Value* v = buffered_value(i)) {
    if (v->type == ValueType::kText || v->type == ValueType::kBlob) return v->bytes;
    native_->scratch = v->type == ValueType::kInt64    ? std::to_string(v->i)
                       : v->type == ValueType::kDouble ? std::to_string(v->d)
                                                       : std::string();
    return native_->scratch;
  }
  if (dialect_ == Dialect::kSqlite) {
    const void* p = sqlite3_column_type(native_->sqlite, i) == SQLITE_BLOB
                        ? sqlite3_column_blob(native_->sqlite, i)
                        : static_cast<const void*>(sqlite3_column_text(native_->sqlite, i));
    int n = sqlite3_column_bytes(native_->sqlite, i);
    return {static_cast<const char*>(p), static_cast<size_t>(n)};
  }
  if (!pg_row_valid()) return {};
  const char* v = PQgetvalue(native_->pg, native_->row, i);
  int n = PQgetlength(native_->pg, native_->row, i);
  if (PQftype(native_->pg, i) == kByteaOid && n >= 2 && v[0] == '\\' && v[1] == 'x') {
    // Text-format bytea is hex ("\x0a0b…"); hand out the raw bytes.
    native_->scratch.clear();
    for (int k = 2; k + 1 < n; k += 2) {
      native_->scratch += static_cast<char>(hex_nibble(v[k]) * 16 + hex_nibble(v[k + 1]));
    }
    return native_->scratch;
  }
  return {v, static_cast<size_t>(n)};
}

}  // namespace plughost
