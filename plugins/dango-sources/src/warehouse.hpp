// warehouse.hpp — the plugin's own analytical database (SOCI; SQLite file or PostgreSQL),
// separate from host storage, with the layers raw_<source>, staging and marts.
//
// Layers: on PostgreSQL each layer is a schema ("raw_sales"."sales", "staging"."x"). On SQLite a
// layer is a table-name prefix with a double underscore ("raw_sales__sales", "staging__x"): one
// file, no ATTACH limit (SQLite allows 10 attached databases), and one transaction covers every
// layer. A source's load state lives in the table _dango_state and is written in the same
// transaction as its rows. Thread-safe: each call takes its own session from a pool.
#pragma once

#include <soci/soci.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "source_types.hpp"

namespace dango {

struct CsvLoadPlan;

struct WarehouseTable {
  std::string name;    // within the layer
  std::string schema;  // the layer: raw_<source>, staging or marts
  int64_t row_count = 0;
};

// A table that holds exactly the rows one load inserted, with each column's count of non-NULL
// values: its monitoring metrics without a scan (the bulk CSV path fills it).
struct LoadedTable {
  std::string name;
  int64_t rows = 0;
  std::map<std::string, int64_t> non_null;  // by column name; a column not listed is all NULL
};

struct LoadResult {
  int64_t rows_inserted = 0;
  int64_t rows_deleted = 0;
  bool kept_old_rows = false;  // a full refresh that brought no row left the table alone
  std::vector<LoadedTable> whole_tables;
};

class Warehouse {
 public:
  // `url`: sqlite://path (relative to the working directory; parent folders are created) or
  // postgresql://…  Throws std::runtime_error when it cannot connect. With `connect` false only
  // the URL is checked (`plughost check`: no file is created, no server contacted).
  Warehouse(const std::string& url, int pool_size, bool connect = true);

  const std::string& dialect() const { return dialect_; }  // "sqlite" or "postgresql"
  // The database file (SQLite), empty on PostgreSQL.
  const std::string& file() const { return file_; }

  // Writes every table of `batch` and the source's new state in one transaction: nothing is
  // half-loaded. A replacing table without rows keeps the old rows unless `allow_empty_replace`.
  // Throws on any database error (rolled back).
  LoadResult load(const std::string& source, const SourceBatch& batch, bool allow_empty_replace);
  // The built-in csv type's fast path (bulk_load.hpp): streams the planned files into table
  // raw_<source>.<source> and writes the plan's state, in one transaction, with the same rules as
  // load(). Throws on any database error or a file changed since planning (rolled back), and
  // whatever `after_batch` throws (it runs between batches with the rows inserted so far: a cancel
  // check, progress).
  LoadResult load_csv(const std::string& source, const CsvLoadPlan& plan, bool allow_empty_replace,
                      const std::function<void(size_t)>& after_batch = {});
  // The state stored by the source's last load; empty when it never loaded.
  std::string state(const std::string& source);
  // Tables of the layer raw_<source> with their row counts.
  std::vector<WarehouseTable> source_tables(const std::string& source);
  // Deletes a source table's rows whose `column` equals `value`; 0 when the table is absent.
  int64_t delete_rows(const std::string& source, const std::string& table,
                      const std::string& column, const std::string& value);
  // Distinct values of `column` in a source table with their row counts (absent table: none).
  std::vector<std::pair<std::string, int64_t>> count_by(const std::string& source,
                                                        const std::string& table,
                                                        const std::string& column);
  // One round trip; false (and `error`) when the database does not answer.
  bool ping(std::string& error);

  // Every table and view of the layers raw_*, staging and marts (the layer in `schema`, row
  // counts not read). Defined in platform_health.cpp.
  std::vector<WarehouseTable> layer_tables();
  // The database's size: the file plus its WAL (SQLite), pg_database_size (PostgreSQL).
  int64_t size_bytes();

  // The quoted SQL name of `table` in `layer` for this dialect.
  std::string qualified(const std::string& layer, const std::string& table) const;

  // The session pool, for the catalog's read-only queries and model builds (warehouse_read.hpp).
  soci::connection_pool& pool() { return *pool_; }

 private:
  bool table_exists(soci::session& sql, const std::string& layer, const std::string& table);
  std::vector<Column> existing_columns(soci::session& sql, const std::string& layer,
                                       const std::string& table);
  void prepare_table(soci::session& sql, const std::string& layer, const TableLoad& load);
  int64_t insert_rows(soci::session& sql, const std::string& layer, const TableLoad& load);
  // Before a table's rows go in: creates or widens it and deletes what the load replaces. False
  // when the table is left alone (an empty replace keeping old rows, or nothing to create).
  bool prepare_load(soci::session& sql, const std::string& layer, const TableLoad& load,
                    size_t incoming_rows, bool allow_empty_replace, LoadResult& result);
  void write_state(soci::session& sql, const std::string& source, const std::string& state_json);
  const char* sql_type(ColumnType t) const;

  std::string dialect_;
  std::string file_;
  std::unique_ptr<soci::connection_pool> pool_;
  size_t pool_size_;
};

// One write transaction, rolled back unless committed. On SQLite it starts IMMEDIATE: it takes the
// write lock first (waiting up to the busy timeout), because a deferred transaction that read first
// cannot upgrade while another connection writes — SQLite answers SQLITE_BUSY at once instead.
class WriteTransaction {
 public:
  WriteTransaction(soci::session& sql, bool sqlite) : sql_(sql) {
    if (sqlite) {
      sql_ << "BEGIN IMMEDIATE";
    } else {
      sql_.begin();
    }
  }
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  ~WriteTransaction() {
    if (done_) return;
    try {
      sql_.rollback();
    } catch (...) {
      // The connection is gone; nothing was committed.
    }
  }
  void commit() {
    sql_.commit();
    done_ = true;
  }

 private:
  soci::session& sql_;
  bool done_ = false;
};

// Opens `session` on a SOCI URL the way the warehouse does: sqlite://path (relative to the working
// directory) or postgresql://… (parsed by libpq). Throws on a bad URL or a failed connection.
void open_database(soci::session& session, const std::string& url);

// A double-quoted SQL identifier (quotes doubled).
std::string quote_identifier(const std::string& name);

}  // namespace dango
