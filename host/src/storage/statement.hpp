// statement.hpp — one SQL statement with named `:params` on the host's storage, with typed
// columns, over the native SQLite / libpq handle of a leased SOCI session.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "storage/database.hpp"

namespace plughost {

enum class ValueType { kNull = 0, kInt64 = 1, kDouble = 2, kText = 3, kBlob = 4 };

struct Value {
  ValueType type = ValueType::kNull;
  int64_t i = 0;
  double d = 0;
  std::string bytes;  // kText / kBlob

  static Value text(std::string s) { return {ValueType::kText, 0, 0, std::move(s)}; }
  static Value blob(std::string s) { return {ValueType::kBlob, 0, 0, std::move(s)}; }
  static Value integer(int64_t v) { return {ValueType::kInt64, v, 0, {}}; }
  static Value real(double v) { return {ValueType::kDouble, 0, v, {}}; }
  static Value null() { return {}; }
};

// The database refused work for a reason of its environment rather than of the SQL: the disk or
// the database is full, the file is read-only, the server is unreachable or busy past the
// timeout. Callers answer "try again later" (503), not "bug" (500). Each construction is also
// noted for the current thread (take_storage_fault): a plugin's storage error crosses the C ABI
// as a bare code, and the host still tells the two apart.
class StorageUnavailable : public std::runtime_error {
 public:
  // `reason`: a string literal, one of "full", "read_only", "io_error", "busy", "unreachable".
  StorageUnavailable(const char* reason, const std::string& message);
  const char* reason() const { return reason_; }

 private:
  const char* reason_;
};

// The reason of the last StorageUnavailable made on this thread since the previous call, or
// null; clears it.
const char* take_storage_fault();

// Rewrites `:name` parameters to PostgreSQL's `$n`, skipping string literals, quoted
// identifiers, comments and `::` casts. `names` receives the parameter names by position.
std::string to_postgres_placeholders(std::string_view sql, std::vector<std::string>& names);

// A transaction: holds one session until commit or rollback (rollback on destruction).
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  void commit();
  void rollback();
  // Runs one or more SQL statements (no parameters, no rows) inside this transaction.
  void exec_script(const std::string& sql);
  Database::Lease& lease() { return lease_; }
  Dialect dialect() const { return dialect_; }

 private:
  Database::Lease lease_;
  Dialect dialect_;
  bool open_ = true;
};

// Not thread-safe. Errors throw std::runtime_error with the database's message.
class Statement {
 public:
  // Autocommit: leases its own session until destroyed.
  Statement(Database& db, std::string_view sql);
  // Inside `txn`, which must outlive the statement.
  Statement(Transaction& txn, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Names without the leading ':'; binding a name the SQL does not use is an error.
  void bind(const std::string& name, Value value);

  // Executes on the first call; then true while a row is current.
  bool step();
  int column_count() const;
  const std::string& column_name(int i) const;
  ValueType column_type(int i) const;
  int64_t column_int64(int i) const;
  double column_double(int i) const;
  std::string_view column_bytes(int i) const;  // text or blob
  int64_t affected_rows() const { return changes_; }

 private:
  void prepare(std::string_view sql);
  bool step_sqlite();
  // The current row's column `i` when the rows were read ahead (SQLite writes that return
  // rows); null otherwise.
  const Value* buffered_value(int i) const;
  bool step_postgres();
  bool pg_row_valid() const;  // after PH_DONE (or before the first row) there is no row

  std::optional<Database::Lease> own_lease_;
  Database::Lease* lease_;
  Dialect dialect_;
  std::vector<std::string> pg_names_;
  std::string pg_sql_;
  std::map<std::string, Value, std::less<>> binds_;
  struct Native;
  std::unique_ptr<Native> native_;
  int64_t changes_ = 0;
};

}  // namespace plughost
