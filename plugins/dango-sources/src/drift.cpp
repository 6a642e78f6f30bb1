#include "drift.hpp"

#include <algorithm>

#include "replies.hpp"
#include "time_text.hpp"

namespace dango {

namespace {

std::string columns_json(const std::vector<Column>& columns) {
  Json j;
  j.begin_array();
  for (const auto& c : columns) {
    j.begin().key("name").str(c.name).key("type").str(type_name(c.type)).end();
  }
  j.end_array();
  return j.text();
}

std::vector<Column> parse_columns(const std::string& text) {
  std::vector<Column> out;
  rapidjson::Document d;
  std::string error;
  if (!sdk::parse_json(text, d, error) || !d.IsArray()) return out;
  for (const auto& c : d.GetArray()) {
    if (!c.IsObject() || !c.HasMember("name") || !c["name"].IsString()) continue;
    Column col;
    col.name = c["name"].GetString();
    if (c.HasMember("type") && c["type"].IsString()) {
      col.type = parse_type_name(c["type"].GetString()).value_or(ColumnType::kText);
    }
    out.push_back(std::move(col));
  }
  return out;
}

}  // namespace

std::vector<ColumnChange> diff_columns(const std::vector<Column>& before,
                                       const std::vector<Column>& after) {
  std::vector<ColumnChange> out;
  auto find = [](const std::vector<Column>& list, const std::string& name) {
    return std::find_if(list.begin(), list.end(), [&](const Column& c) { return c.name == name; });
  };
  for (const auto& c : after) {
    auto old = find(before, c.name);
    if (old == before.end()) {
      out.push_back({c.name, "column_added", "", type_name(c.type)});
    } else if (old->type != c.type) {
      out.push_back({c.name, "type_changed", type_name(old->type), type_name(c.type)});
    }
  }
  for (const auto& c : before) {
    if (find(after, c.name) == after.end()) {
      out.push_back({c.name, "column_removed", type_name(c.type), ""});
    }
  }
  return out;
}

std::string breaking_flag(int64_t n) {
  return std::to_string(n) + " breaking schema change(s) detected";
}

std::vector<ColumnChange> DriftStore::record(const std::string& source, const std::string& table,
                                             std::vector<Column> columns,
                                             const std::vector<bool>& has_values, int64_t run_id) {
  auto tx = host_.transaction();
  std::optional<std::string> previous;
  {
    auto st =
        tx.sql("SELECT columns FROM dango_schema_snapshots WHERE source = :s AND table_name = :t");
    st.bind("s", source).bind("t", table);
    if (st.step()) previous = st.text(0);
  }
  std::vector<ColumnChange> changes;
  if (previous) {
    auto before = parse_columns(*previous);
    for (size_t i = 0; i < columns.size() && i < has_values.size(); ++i) {
      if (has_values[i]) continue;
      for (const auto& b : before) {
        if (b.name == columns[i].name) columns[i].type = b.type;
      }
    }
    changes = diff_columns(before, columns);
  }
  const std::string now = iso_utc_now();
  for (const auto& c : changes) {
    tx.sql(
          "INSERT INTO dango_schema_drift (source, table_name, column_name, change_type,"
          " old_type, new_type, breaking, run_id, detected_at) VALUES (:s, :t, :c, :ch, :o, :n,"
          " :b, :r, :at)")
        .bind("s", source)
        .bind("t", table)
        .bind("c", c.column)
        .bind("ch", c.change)
        .bind("o", c.old_type.empty() ? std::nullopt : std::optional<std::string>(c.old_type))
        .bind("n", c.new_type.empty() ? std::nullopt : std::optional<std::string>(c.new_type))
        .bind("b", static_cast<int64_t>(c.breaking()))
        .bind("r", run_id)
        .bind("at", now)
        .exec();
  }
  tx.sql(
        "INSERT INTO dango_schema_snapshots (source, table_name, columns, run_id, taken_at)"
        " VALUES (:s, :t, :c, :r, :at) ON CONFLICT (source, table_name) DO UPDATE SET"
        " columns = excluded.columns, run_id = excluded.run_id, taken_at = excluded.taken_at")
      .bind("s", source)
      .bind("t", table)
      .bind("c", columns_json(columns))
      .bind("r", run_id)
      .bind("at", now)
      .exec();
  tx.commit();
  return changes;
}

std::vector<DriftEvent> DriftStore::events(const DriftFilter& f, int limit) {
  std::string where = " WHERE 1 = 1";
  if (!f.source.empty()) where += " AND source = :s";
  if (!f.table.empty()) where += " AND table_name = :t";
  if (f.pending_only) where += " AND accepted_at IS NULL";
  auto st = host_.sql(
      "SELECT id, source, table_name, column_name, change_type, old_type, new_type, run_id,"
      " detected_at, accepted_at FROM dango_schema_drift" +
      where + " ORDER BY id DESC LIMIT :n");
  if (!f.source.empty()) st.bind("s", f.source);
  if (!f.table.empty()) st.bind("t", f.table);
  st.bind("n", static_cast<int64_t>(limit));
  std::vector<DriftEvent> out;
  while (st.step()) {
    DriftEvent e;
    e.id = st.int64(0);
    e.source = st.text(1);
    e.table = st.text(2);
    e.change.column = st.text(3);
    e.change.change = st.text(4);
    e.change.old_type = st.maybe_text(5).value_or("");
    e.change.new_type = st.maybe_text(6).value_or("");
    if (!st.is_null(7)) e.run_id = st.int64(7);
    e.detected_at = st.text(8);
    e.accepted_at = st.maybe_text(9);
    out.push_back(std::move(e));
  }
  return out;
}

int64_t DriftStore::pending_breaking(const std::string& source) {
  auto st = host_.sql(
      "SELECT COUNT(*) FROM dango_schema_drift WHERE source = :s AND breaking = 1 AND"
      " accepted_at IS NULL");
  st.bind("s", source);
  return st.step() ? st.int64(0) : 0;
}

int64_t DriftStore::accept(const std::string& source, const std::string& by) {
  return host_
      .sql(
          "UPDATE dango_schema_drift SET accepted_at = :at, accepted_by = :by WHERE source = :s"
          " AND accepted_at IS NULL")
      .bind("at", iso_utc_now())
      .bind("by", by)
      .bind("s", source)
      .exec();
}

}  // namespace dango
