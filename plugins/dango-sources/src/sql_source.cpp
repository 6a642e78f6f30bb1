#include "sql_source.hpp"

#include <soci/soci.h>

#include <cctype>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <plughost/json.hpp>
#include <stdexcept>

#include "cursor_state.hpp"
#include "time_text.hpp"
#include "warehouse.hpp"

namespace dango {

namespace {

struct Stream {
  std::string name;    // the warehouse table
  std::string select;  // the rows, as a SELECT
  std::string cursor_column;
  std::string primary_key;
  std::string date_column;
};

std::string string_option(const rapidjson::Value& o, const char* key, const std::string& fallback) {
  auto it = o.FindMember(key);
  if (it == o.MemberEnd() || it->value.IsNull()) return fallback;
  if (!it->value.IsString()) throw std::invalid_argument(std::string(key) + " must be a string");
  return it->value.GetString();
}

// A warehouse table name from a database's: its last dotted part, lower-cased, [a-z0-9_].
std::string table_name(const std::string& name) {
  std::string last = name.substr(name.rfind('.') == std::string::npos ? 0 : name.rfind('.') + 1);
  std::string out;
  for (char c : last) {
    out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
  }
  if (out.empty()) throw std::invalid_argument("table name '" + name + "' has no usable character");
  return out;
}

// schema.table → "schema"."table"
std::string quoted_path(const std::string& name) {
  std::string out;
  size_t from = 0;
  for (;;) {
    size_t dot = name.find('.', from);
    out += quote_identifier(name.substr(from, dot == std::string::npos ? dot : dot - from));
    if (dot == std::string::npos) return out;
    out += '.';
    from = dot + 1;
  }
}

std::vector<Stream> parse_streams(const rapidjson::Value& o) {
  const std::string cursor = string_option(o, "cursor_column", "");
  const std::string key = string_option(o, "primary_key", "");
  const std::string date = string_option(o, "date_column", "");
  std::vector<Stream> streams;
  if (auto it = o.FindMember("tables"); it != o.MemberEnd()) {
    if (!it->value.IsArray()) throw std::invalid_argument("tables must be a list");
    for (const auto& t : it->value.GetArray()) {
      Stream s;
      std::string name;
      if (t.IsString()) {
        name = t.GetString();
        s.cursor_column = cursor;
        s.primary_key = key;
        s.date_column = date;
      } else if (t.IsObject()) {
        name = string_option(t, "name", "");
        s.cursor_column = string_option(t, "cursor_column", cursor);
        s.primary_key = string_option(t, "primary_key", key);
        s.date_column = string_option(t, "date_column", date);
      } else {
        throw std::invalid_argument("tables: each is a name or {name, cursor_column, …}");
      }
      if (name.empty()) throw std::invalid_argument("tables: a table without a name");
      s.name = table_name(name);
      s.select = "SELECT * FROM " + quoted_path(name);
      streams.push_back(std::move(s));
    }
  }
  if (auto it = o.FindMember("queries"); it != o.MemberEnd()) {
    if (!it->value.IsObject()) throw std::invalid_argument("queries must be {name: \"SELECT …\"}");
    for (const auto& q : it->value.GetObject()) {
      if (!q.value.IsString() || std::string(q.value.GetString()).empty()) {
        throw std::invalid_argument(std::string("queries.") + q.name.GetString() +
                                    " must be a SELECT");
      }
      Stream s;
      s.name = table_name(q.name.GetString());
      std::string select = q.value.GetString();
      while (!select.empty() &&
             (std::isspace(static_cast<unsigned char>(select.back())) || select.back() == ';')) {
        select.pop_back();
      }
      s.select = select;
      s.cursor_column = cursor;
      s.primary_key = key;
      s.date_column = date;
      streams.push_back(std::move(s));
    }
  }
  if (streams.empty()) throw std::invalid_argument("the sql type needs `tables` or `queries`");
  return streams;
}

// The day after a YYYY-MM-DD date (the end of an inclusive window).
std::string next_day(const std::string& date) {
  std::tm tm{};
  if (std::sscanf(date.c_str(), "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3) {
    throw std::invalid_argument("end_date must be YYYY-MM-DD");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return iso_utc(static_cast<int64_t>(timegm(&tm)) + 86400).substr(0, 10);
}

ColumnType soci_type(soci::data_type t) {
  switch (t) {
    case soci::dt_integer:
    case soci::dt_long_long:
    case soci::dt_unsigned_long_long: return ColumnType::kInteger;
    case soci::dt_double: return ColumnType::kReal;
    case soci::dt_date: return ColumnType::kTimestamp;
    default: return ColumnType::kText;
  }
}

std::string cell_text(const soci::row& r, size_t i, bool& midnight) {
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_integer: return std::to_string(r.get<int>(i));
    case soci::dt_long_long: return std::to_string(r.get<long long>(i));
    case soci::dt_unsigned_long_long: return std::to_string(r.get<unsigned long long>(i));
    case soci::dt_double: {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.17g", r.get<double>(i));
      return buf;
    }
    case soci::dt_date: {
      std::tm tm = r.get<std::tm>(i);
      midnight = midnight && tm.tm_hour == 0 && tm.tm_min == 0 && tm.tm_sec == 0;
      char buf[32];
      std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
      return buf;
    }
    default: return r.get<std::string>(i);
  }
}

// Reads one table or query; `cursors` gets its new cursor.
TableLoad read_stream(soci::session& sql, const Stream& s, const ReadRequest& rq,
                      std::map<std::string, Cursor>& cursors, std::vector<std::string>& notes) {
  const bool window = !rq.start_date.empty() || !rq.end_date.empty();
  const std::string date_column = s.date_column.empty() ? s.cursor_column : s.date_column;
  auto previous = cursors.find(s.name);
  const bool incremental = !s.cursor_column.empty() && !rq.full_refresh &&
                           previous != cursors.end() && !previous->second.value.empty();
  std::string query = "SELECT * FROM (" + s.select + ") dango_src";
  std::vector<std::string> conditions;
  Cursor from;
  std::string start = rq.start_date, end = rq.end_date.empty() ? "" : next_day(rq.end_date);
  if (window && !date_column.empty()) {
    if (!start.empty()) conditions.push_back(quote_identifier(date_column) + " >= :start_date");
    if (!end.empty()) conditions.push_back(quote_identifier(date_column) + " < :end_date");
  } else if (incremental) {
    from = previous->second;
    conditions.push_back(quote_identifier(s.cursor_column) + " > :cursor");
  }
  if (window && date_column.empty()) {
    notes.push_back(s.name + ": start_date/end_date ignored (no date_column or cursor_column)");
  }
  for (size_t i = 0; i < conditions.size(); ++i) query += (i ? " AND " : " WHERE ") + conditions[i];
  if (!s.cursor_column.empty()) query += " ORDER BY " + quote_identifier(s.cursor_column);

  long long cursor_int = 0;
  double cursor_real = 0;
  soci::details::prepare_temp_type prepared = (sql.prepare << query);
  if (incremental && !window) {
    if (from.type == ColumnType::kInteger) {
      cursor_int = std::stoll(from.value);
      prepared, soci::use(cursor_int, "cursor");
    } else if (from.type == ColumnType::kReal) {
      cursor_real = std::stod(from.value);
      prepared, soci::use(cursor_real, "cursor");
    } else {
      prepared, soci::use(from.value, "cursor");
    }
  }
  if (window && !date_column.empty()) {
    if (!start.empty()) prepared, soci::use(start, "start_date");
    if (!end.empty()) prepared, soci::use(end, "end_date");
  }
  soci::rowset<soci::row> rows(prepared);

  TableLoad load;
  load.name = s.name;
  // Reloaded whole unless rows are added to what the cursor (or a window) already loaded.
  load.replace = !(incremental || (window && !date_column.empty()));
  std::vector<bool> midnight;
  size_t cursor_index = std::string::npos, key_index = std::string::npos;
  for (const soci::row& row : rows) {
    if (load.table.columns.empty()) {
      for (size_t i = 0; i < row.size(); ++i) {
        const auto& p = row.get_properties(i);
        load.table.columns.push_back({p.get_name(), soci_type(p.get_data_type())});
        if (p.get_name() == s.cursor_column) cursor_index = i;
        if (p.get_name() == s.primary_key) key_index = i;
      }
      midnight.assign(row.size(), true);
      if (!s.cursor_column.empty() && cursor_index == std::string::npos) {
        throw std::invalid_argument(s.name + ": cursor_column " + s.cursor_column +
                                    " is not a column");
      }
    }
    std::vector<std::optional<std::string>> cells;
    for (size_t i = 0; i < row.size(); ++i) {
      if (row.get_indicator(i) == soci::i_null) {
        cells.emplace_back(std::nullopt);
      } else {
        bool m = midnight[i];
        cells.emplace_back(cell_text(row, i, m));
        midnight[i] = m;
      }
    }
    if (key_index != std::string::npos && cells[key_index] && !load.replace) {
      load.delete_values.push_back(*cells[key_index]);
    }
    load.table.rows.push_back(std::move(cells));
  }
  // A date column whose values are all midnight is a date.
  for (size_t i = 0; i < load.table.columns.size(); ++i) {
    if (load.table.columns[i].type != ColumnType::kTimestamp || !midnight[i]) continue;
    load.table.columns[i].type = ColumnType::kDate;
    for (auto& r : load.table.rows) {
      if (r[i]) r[i]->resize(10);
    }
  }
  if (!load.delete_values.empty()) load.delete_column = s.primary_key;
  if (cursor_index != std::string::npos) {
    Cursor next = previous != cursors.end() && !rq.full_refresh ? previous->second : Cursor{};
    ColumnType t = load.table.columns[cursor_index].type;
    for (const auto& r : load.table.rows) {
      const auto& v = r[cursor_index];
      if (v && (next.value.empty() || cursor_after(*v, next.value, t))) next = Cursor{*v, t};
    }
    if (!next.value.empty()) cursors[s.name] = next;
  }
  notes.push_back(s.name + ": " + std::to_string(load.table.rows.size()) + " rows" +
                  (incremental ? " after cursor " + from.value : "") +
                  (window && !date_column.empty() ? " in the date window" : ""));
  return load;
}

// `message` with the URL's password (if any) replaced.
std::string without_password(std::string message, const std::string& url) {
  size_t scheme = url.find("://");
  size_t at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos) return message;
  size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at || at == colon + 1) return message;
  const std::string password = url.substr(colon + 1, at - colon - 1);
  for (size_t p; (p = message.find(password)) != std::string::npos;) {
    message.replace(p, password.size(), "****");
  }
  return message;
}

}  // namespace

SourceBatch read_sql_source(const ReadRequest& rq) {
  rapidjson::Document o;
  std::string error;
  if (!plughost::sdk::parse_json(rq.options_json, o, error) || !o.IsObject()) {
    throw std::invalid_argument("sql: options must be an object");
  }
  const std::string url = string_option(o, "url", "");
  if (url.empty()) throw std::invalid_argument("sql: options.url is required");
  auto streams = parse_streams(o);
  if (url.rfind("sqlite://", 0) == 0 &&
      !std::filesystem::exists(url.substr(std::string("sqlite://").size()))) {
    throw std::runtime_error("sql: database file " + url.substr(9) + " does not exist");
  }
  SourceBatch batch;
  auto cursors = rq.full_refresh ? std::map<std::string, Cursor>{} : state_cursors(rq.state_json);
  try {
    soci::session sql;
    open_database(sql, url);
    for (const auto& s : streams)
      batch.tables.push_back(read_stream(sql, s, rq, cursors, batch.notes));
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    throw std::runtime_error("sql: " + without_password(e.what(), url));
  }
  batch.state_json = cursors_state(cursors);
  return batch;
}

}  // namespace dango
