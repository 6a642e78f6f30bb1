#include "warehouse_read.hpp"

#include <soci/soci.h>

#include <cstdio>
#include <ctime>

namespace dango {

namespace {

std::string sql_literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

Cell cell_text(const soci::row& r, std::size_t i) {
  if (r.get_indicator(i) == soci::i_null) return std::nullopt;
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_string: return r.get<std::string>(i);
    case soci::dt_integer: return std::to_string(r.get<int>(i));
    case soci::dt_long_long: return std::to_string(r.get<long long>(i));
    case soci::dt_unsigned_long_long: return std::to_string(r.get<unsigned long long>(i));
    case soci::dt_double: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.15g", r.get<double>(i));
      return std::string(buf);
    }
    case soci::dt_date: {
      std::tm t = r.get<std::tm>(i);
      char buf[32];
      std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &t);
      return std::string(buf);
    }
    default: return r.get<std::string>(i);
  }
}

}  // namespace

std::vector<ColumnInfo> table_columns(Warehouse& w, const std::string& layer,
                                      const std::string& table) {
  std::vector<ColumnInfo> out;
  soci::session sql(w.pool());
  if (w.dialect() == "postgresql") {
    soci::rowset<soci::row> rs =
        (sql.prepare << "SELECT column_name::text, data_type::text, is_nullable::text FROM "
                        "information_schema.columns WHERE table_schema = :s AND table_name = :t "
                        "ORDER BY ordinal_position",
         soci::use(layer), soci::use(table));
    for (const auto& r : rs) {
      out.push_back({r.get<std::string>(0), r.get<std::string>(1), r.get<std::string>(2) == "YES"});
    }
    return out;
  }
  soci::rowset<soci::row> rs =
      (sql.prepare << "SELECT name, type, \"notnull\" FROM pragma_table_info(" +
                          sql_literal(layer + "__" + table) + ")");
  for (const auto& r : rs) {
    out.push_back({*cell_text(r, 0), cell_text(r, 1).value_or(""), cell_text(r, 2) == "0"});
  }
  return out;
}

std::string object_kind(Warehouse& w, const std::string& layer, const std::string& table) {
  soci::session sql(w.pool());
  std::string kind;
  soci::indicator ind = soci::i_null;
  if (w.dialect() == "postgresql") {
    sql << "SELECT table_type::text FROM information_schema.tables WHERE table_schema = :s AND "
           "table_name = :t",
        soci::use(layer), soci::use(table), soci::into(kind, ind);
    if (!sql.got_data() || ind != soci::i_ok) return "";
    return kind == "VIEW" ? "view" : "table";
  }
  const std::string name = layer + "__" + table;
  sql << "SELECT type FROM sqlite_master WHERE name = :n AND type IN ('table', 'view')",
      soci::use(name), soci::into(kind, ind);
  return sql.got_data() && ind == soci::i_ok ? kind : "";
}

std::vector<std::string> layer_tables(Warehouse& w, const std::string& layer) {
  std::vector<std::string> names;
  soci::session sql(w.pool());
  if (w.dialect() == "postgresql") {
    soci::rowset<std::string> rs =
        (sql.prepare << "SELECT table_name::text FROM information_schema.tables WHERE "
                        "table_schema = :s ORDER BY table_name",
         soci::use(layer));
    names.assign(rs.begin(), rs.end());
    return names;
  }
  const std::string prefix = layer + "__";
  soci::rowset<std::string> rs =
      (sql.prepare << "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND "
                      "substr(name, 1, length(:p)) = :p2 ORDER BY name",
       soci::use(prefix), soci::use(prefix));
  for (const auto& n : rs) names.push_back(n.substr(prefix.size()));
  return names;
}

QueryRows select_rows(Warehouse& w, const std::string& query, size_t max_rows) {
  QueryRows out;
  soci::session sql(w.pool());
  soci::rowset<soci::row> rs = sql.prepare << query;
  for (const auto& r : rs) {
    if (out.columns.empty()) {
      for (std::size_t i = 0; i < r.size(); ++i)
        out.columns.push_back(r.get_properties(i).get_name());
    }
    if (out.rows.size() >= max_rows) break;
    std::vector<Cell> row;
    row.reserve(r.size());
    for (std::size_t i = 0; i < r.size(); ++i) row.push_back(cell_text(r, i));
    out.rows.push_back(std::move(row));
  }
  return out;
}

int64_t select_count(Warehouse& w, const std::string& query) {
  auto rows = select_rows(w, query, 1);
  if (rows.rows.empty() || rows.rows[0].empty() || !rows.rows[0][0]) return 0;
  return std::stoll(*rows.rows[0][0]);
}

void execute_statements(Warehouse& w, const std::vector<std::string>& statements) {
  soci::session sql(w.pool());
  const bool sqlite = w.dialect() == "sqlite";
  if (sqlite) {
    sql << "BEGIN IMMEDIATE";
  } else {
    sql.begin();
  }
  try {
    for (const auto& s : statements) sql << s;
    sql.commit();
  } catch (...) {
    try {
      sql.rollback();
    } catch (...) {
      // The connection is gone; nothing was committed.
    }
    throw;
  }
}

}  // namespace dango
