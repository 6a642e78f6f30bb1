#include "warehouse.hpp"

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "time_text.hpp"

namespace dango {

namespace fs = std::filesystem;

namespace {

constexpr size_t kInsertChunk = 1000;

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

std::string sqlite_path(const std::string& url) {
  std::string path = url.substr(std::string("sqlite://").size());
  if (path.empty()) throw std::runtime_error("warehouse.url: sqlite:// needs a file path");
  return fs::absolute(path).lexically_normal().string();
}

// A single-quoted SQL literal (quotes doubled); for names in catalog queries only.
std::string literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// A whole-number column of a row, whatever integer type the backend described it as.
int64_t integer_at(const soci::row& r, std::size_t i) {
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_integer: return r.get<int>(i);
    case soci::dt_long_long: return r.get<long long>(i);
    case soci::dt_unsigned_long_long: return static_cast<int64_t>(r.get<unsigned long long>(i));
    case soci::dt_double: return static_cast<int64_t>(r.get<double>(i));
    default: return std::stoll(r.get<std::string>(i));
  }
}

ColumnType type_of_declared(std::string declared) {
  std::transform(declared.begin(), declared.end(), declared.begin(), ::tolower);
  if (declared.find("int") != std::string::npos) return ColumnType::kInteger;
  if (declared.find("real") != std::string::npos || declared.find("double") != std::string::npos) {
    return ColumnType::kReal;
  }
  if (declared.find("timestamp") != std::string::npos) return ColumnType::kTimestamp;
  if (declared == "date") return ColumnType::kDate;
  return ColumnType::kText;
}

// libpq's key='value' form of a postgresql:// URL, parsed by libpq itself (SOCI rewrites the
// connect string as keyword pairs, which a URL does not survive).
std::string postgres_conninfo(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (!options) {
    std::string message = error ? error : "invalid postgresql URL";
    PQfreemem(error);
    throw std::runtime_error("warehouse.url: " + message);
  }
  std::string out;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (!o->val) continue;
    std::string value;
    for (const char* c = o->val; *c; ++c) {
      if (*c == '\\' || *c == '\'') value += '\\';
      value += *c;
    }
    out += (out.empty() ? "" : " ") + std::string(o->keyword) + "='" + value + "'";
  }
  PQconninfoFree(options);
  return out;
}

}  // namespace

void open_database(soci::session& session, const std::string& url) {
  if (starts_with(url, "sqlite://")) {
    session.open(*soci::factory_sqlite3(), "db=" + sqlite_path(url) + " timeout=30");
  } else if (starts_with(url, "postgresql://") || starts_with(url, "postgres://")) {
    session.open(*soci::factory_postgresql(), postgres_conninfo(url));
  } else {
    throw std::runtime_error("the URL must start with sqlite:// or postgresql://");
  }
}

std::string quote_identifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

Warehouse::Warehouse(const std::string& url, int pool_size, bool connect_now)
    : pool_size_(static_cast<size_t>(std::max(1, pool_size))) {
  pool_ = std::make_unique<soci::connection_pool>(pool_size_);
  std::string connect;
  const soci::backend_factory* factory = nullptr;
  if (starts_with(url, "sqlite://")) {
    dialect_ = "sqlite";
    file_ = sqlite_path(url);
    connect = "db=" + file_ + " timeout=30";
    factory = soci::factory_sqlite3();
  } else if (starts_with(url, "postgresql://") || starts_with(url, "postgres://")) {
    dialect_ = "postgresql";
    connect = postgres_conninfo(url);
    factory = soci::factory_postgresql();
  } else {
    throw std::runtime_error("warehouse.url must start with sqlite:// or postgresql://");
  }
  if (!connect_now) return;
  if (dialect_ == "sqlite") fs::create_directories(fs::path(file_).parent_path());
  for (size_t i = 0; i < pool_size_; ++i) {
    soci::session& s = pool_->at(i);
    s.open(*factory, connect);
    if (dialect_ == "sqlite") {
      s << "PRAGMA journal_mode=WAL";
      s << "PRAGMA synchronous=NORMAL";
    }
  }
  soci::session sql(*pool_);
  sql << "CREATE TABLE IF NOT EXISTS _dango_state (source TEXT PRIMARY KEY, state TEXT NOT NULL, "
         "updated_at TEXT NOT NULL)";
  if (dialect_ == "postgresql") {
    sql << "CREATE SCHEMA IF NOT EXISTS staging";
    sql << "CREATE SCHEMA IF NOT EXISTS marts";
  }
}

std::string Warehouse::qualified(const std::string& layer, const std::string& table) const {
  if (dialect_ == "postgresql") return quote_identifier(layer) + "." + quote_identifier(table);
  return quote_identifier(layer + "__" + table);
}

const char* Warehouse::sql_type(ColumnType t) const {
  bool pg = dialect_ == "postgresql";
  switch (t) {
    case ColumnType::kInteger: return pg ? "BIGINT" : "INTEGER";
    case ColumnType::kReal: return pg ? "DOUBLE PRECISION" : "REAL";
    case ColumnType::kDate: return "DATE";
    case ColumnType::kTimestamp: return "TIMESTAMP";
    case ColumnType::kText: return "TEXT";
  }
  return "TEXT";
}

bool Warehouse::table_exists(soci::session& sql, const std::string& layer,
                             const std::string& table) {
  int n = 0;
  if (dialect_ == "postgresql") {
    sql << "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = :s AND "
           "table_name = :t",
        soci::use(layer), soci::use(table), soci::into(n);
  } else {
    std::string name = layer + "__" + table;
    sql << "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = :n", soci::use(name),
        soci::into(n);
  }
  return n > 0;
}

std::vector<Column> Warehouse::existing_columns(soci::session& sql, const std::string& layer,
                                                const std::string& table) {
  std::vector<Column> columns;
  if (dialect_ == "postgresql") {
    soci::rowset<soci::row> rs =
        (sql.prepare
             << "SELECT column_name::text, data_type::text FROM information_schema.columns WHERE "
                "table_schema = :s AND table_name = :t ORDER BY ordinal_position",
         soci::use(layer), soci::use(table));
    for (const auto& r : rs) {
      columns.push_back({r.get<std::string>(0), type_of_declared(r.get<std::string>(1))});
    }
  } else {
    soci::rowset<soci::row> rs = (sql.prepare << "SELECT name, type FROM pragma_table_info(" +
                                                     literal(layer + "__" + table) + ")");
    for (const auto& r : rs) {
      columns.push_back({r.get<std::string>(0), type_of_declared(r.get<std::string>(1))});
    }
  }
  return columns;
}

// Creates the table, or adds the columns it lacks (a column set only grows; gaps are NULL). On
// PostgreSQL a column whose data no longer fits its type is widened (e.g. BIGINT → TEXT).
void Warehouse::prepare_table(soci::session& sql, const std::string& layer, const TableLoad& load) {
  const std::string name = qualified(layer, load.name);
  if (dialect_ == "postgresql") sql << "CREATE SCHEMA IF NOT EXISTS " + quote_identifier(layer);
  if (!table_exists(sql, layer, load.name)) {
    std::string ddl = "CREATE TABLE " + name + " (";
    for (size_t i = 0; i < load.table.columns.size(); ++i) {
      const auto& c = load.table.columns[i];
      ddl += (i ? ", " : "") + quote_identifier(c.name) + " " + sql_type(c.type);
    }
    sql << ddl + ")";
    return;
  }
  auto existing = existing_columns(sql, layer, load.name);
  for (const auto& c : load.table.columns) {
    auto it = std::find_if(existing.begin(), existing.end(),
                           [&](const Column& e) { return e.name == c.name; });
    if (it == existing.end()) {
      sql << "ALTER TABLE " + name + " ADD COLUMN " + quote_identifier(c.name) + " " +
                 sql_type(c.type);
    } else if (dialect_ == "postgresql" && widen(it->type, c.type) != it->type) {
      const char* wider = sql_type(widen(it->type, c.type));
      sql << "ALTER TABLE " + name + " ALTER COLUMN " + quote_identifier(c.name) + " TYPE " +
                 wider + " USING " + quote_identifier(c.name) + "::" + wider;
    }
  }
}

int64_t Warehouse::insert_rows(soci::session& sql, const std::string& layer,
                               const TableLoad& load) {
  const auto& columns = load.table.columns;
  const auto& rows = load.table.rows;
  if (rows.empty() || columns.empty()) return 0;
  std::string query = "INSERT INTO " + qualified(layer, load.name) + " (";
  std::string values;
  for (size_t c = 0; c < columns.size(); ++c) {
    query += (c ? ", " : "") + quote_identifier(columns[c].name);
    values += (c ? ", :c" : ":c") + std::to_string(c);
  }
  query += ") VALUES (" + values + ")";
  std::vector<std::vector<std::string>> cells(columns.size());
  std::vector<std::vector<soci::indicator>> nulls(columns.size());
  for (size_t start = 0; start < rows.size(); start += kInsertChunk) {
    size_t n = std::min(kInsertChunk, rows.size() - start);
    for (size_t c = 0; c < columns.size(); ++c) {
      cells[c].assign(n, std::string());
      nulls[c].assign(n, soci::i_ok);
      for (size_t r = 0; r < n; ++r) {
        const auto& cell = rows[start + r][c];
        if (cell) {
          cells[c][r] = *cell;
        } else {
          nulls[c][r] = soci::i_null;
        }
      }
    }
    soci::statement st(sql);
    for (size_t c = 0; c < columns.size(); ++c) st.exchange(soci::use(cells[c], nulls[c]));
    st.alloc();
    st.prepare(query);
    st.define_and_bind();
    st.execute(true);
  }
  return static_cast<int64_t>(rows.size());
}

LoadResult Warehouse::load(const std::string& source, const SourceBatch& batch,
                           bool allow_empty_replace) {
  LoadResult result;
  const std::string layer = "raw_" + source;
  soci::session sql(*pool_);
  WriteTransaction tx(sql, dialect_ == "sqlite");
  for (const auto& load : batch.tables) {
    if (!prepare_load(sql, layer, load, load.table.rows.size(), allow_empty_replace, result)) {
      continue;
    }
    result.rows_inserted += insert_rows(sql, layer, load);
  }
  if (!result.kept_old_rows) write_state(sql, source, batch.state_json);
  tx.commit();
  return result;
}

bool Warehouse::prepare_load(soci::session& sql, const std::string& layer, const TableLoad& load,
                             size_t incoming_rows, bool allow_empty_replace, LoadResult& result) {
  bool exists = table_exists(sql, layer, load.name);
  if (load.replace && incoming_rows == 0 && !allow_empty_replace) {
    result.kept_old_rows = exists;
    return false;
  }
  if (!load.table.columns.empty()) prepare_table(sql, layer, load);
  if (!exists && load.table.columns.empty()) return false;
  const std::string name = qualified(layer, load.name);
  if (load.replace) {
    soci::statement st = (sql.prepare << "DELETE FROM " + name);
    st.execute(true);
    result.rows_deleted += st.get_affected_rows();
  } else if (!load.delete_column.empty() && !load.delete_values.empty()) {
    std::string value;
    soci::statement st = (sql.prepare << "DELETE FROM " + name + " WHERE " +
                                             quote_identifier(load.delete_column) + " = :v",
                          soci::use(value));
    for (const auto& v : load.delete_values) {
      value = v;
      st.execute(true);
      result.rows_deleted += st.get_affected_rows();
    }
  }
  return true;
}

void Warehouse::write_state(soci::session& sql, const std::string& source,
                            const std::string& state_json) {
  std::string now = iso_utc_now();
  sql << "INSERT INTO _dango_state (source, state, updated_at) VALUES (:s, :st, :u) "
         "ON CONFLICT (source) DO UPDATE SET state = excluded.state, updated_at = "
         "excluded.updated_at",
      soci::use(source), soci::use(state_json), soci::use(now);
}

std::string Warehouse::state(const std::string& source) {
  soci::session sql(*pool_);
  std::string state;
  soci::indicator ind = soci::i_null;
  sql << "SELECT state FROM _dango_state WHERE source = :s", soci::use(source),
      soci::into(state, ind);
  return sql.got_data() && ind == soci::i_ok ? state : std::string();
}

std::vector<WarehouseTable> Warehouse::source_tables(const std::string& source) {
  const std::string layer = "raw_" + source;
  soci::session sql(*pool_);
  std::vector<std::string> names;
  if (dialect_ == "postgresql") {
    soci::rowset<std::string> rs =
        (sql.prepare
             << "SELECT table_name::text FROM information_schema.tables WHERE table_schema = :s "
                "ORDER BY table_name",
         soci::use(layer));
    names.assign(rs.begin(), rs.end());
  } else {
    std::string prefix = layer + "__";
    soci::rowset<std::string> rs =
        (sql.prepare << "SELECT name FROM sqlite_master WHERE type = 'table' AND "
                        "substr(name, 1, length(:p)) = :p2 ORDER BY name",
         soci::use(prefix), soci::use(prefix));
    for (const auto& n : rs) names.push_back(n.substr(prefix.size()));
  }
  std::vector<WarehouseTable> tables;
  for (const auto& n : names) {
    long long count = 0;
    sql << "SELECT COUNT(*) FROM " + qualified(layer, n), soci::into(count);
    tables.push_back({n, layer, count});
  }
  return tables;
}

int64_t Warehouse::delete_rows(const std::string& source, const std::string& table,
                               const std::string& column, const std::string& value) {
  const std::string layer = "raw_" + source;
  soci::session sql(*pool_);
  if (!table_exists(sql, layer, table)) return 0;
  std::string v = value;
  soci::statement st = (sql.prepare << "DELETE FROM " + qualified(layer, table) + " WHERE " +
                                           quote_identifier(column) + " = :v",
                        soci::use(v));
  st.execute(true);
  return st.get_affected_rows();
}

std::vector<std::pair<std::string, int64_t>> Warehouse::count_by(const std::string& source,
                                                                 const std::string& table,
                                                                 const std::string& column) {
  const std::string layer = "raw_" + source;
  soci::session sql(*pool_);
  std::vector<std::pair<std::string, int64_t>> out;
  if (!table_exists(sql, layer, table)) return out;
  auto columns = existing_columns(sql, layer, table);
  if (std::none_of(columns.begin(), columns.end(),
                   [&](const Column& c) { return c.name == column; })) {
    return out;
  }
  const std::string col = quote_identifier(column);
  soci::rowset<soci::row> rs =
      (sql.prepare << "SELECT " + col + ", COUNT(*) FROM " + qualified(layer, table) +
                          " GROUP BY " + col + " ORDER BY " + col);
  for (const auto& r : rs) {
    if (r.get_indicator(0) == soci::i_null) continue;
    out.emplace_back(r.get<std::string>(0), integer_at(r, 1));
  }
  return out;
}

bool Warehouse::ping(std::string& error) {
  try {
    soci::session sql(*pool_);
    int one = 0;
    sql << "SELECT 1", soci::into(one);
    return one == 1;
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

}  // namespace dango
