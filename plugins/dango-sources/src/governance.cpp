#include "governance.hpp"

#include <algorithm>
#include <stdexcept>

#include "replies.hpp"
#include "time_text.hpp"
#include "warehouse_read.hpp"

namespace dango {

namespace {

constexpr const char* kCatalogSqlite =
    "CREATE TABLE dango_schema_snapshots (source TEXT NOT NULL, table_name TEXT NOT NULL,"
    " columns TEXT NOT NULL, run_id INTEGER, taken_at TEXT NOT NULL,"
    " PRIMARY KEY (source, table_name));"
    "CREATE TABLE dango_schema_drift (id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL,"
    " table_name TEXT NOT NULL, column_name TEXT NOT NULL, change_type TEXT NOT NULL,"
    " old_type TEXT, new_type TEXT, breaking INTEGER NOT NULL, run_id INTEGER,"
    " detected_at TEXT NOT NULL, accepted_at TEXT, accepted_by TEXT);"
    "CREATE INDEX dango_schema_drift_source ON dango_schema_drift (source, id);"
    "CREATE TABLE dango_pii_findings (source TEXT NOT NULL, table_name TEXT NOT NULL,"
    " column_name TEXT NOT NULL, pii_type TEXT NOT NULL, detected_by TEXT NOT NULL,"
    " matches INTEGER NOT NULL, sampled INTEGER NOT NULL, scanned_at TEXT NOT NULL,"
    " PRIMARY KEY (source, table_name, column_name));"
    "CREATE TABLE dango_table_metrics (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " source TEXT NOT NULL, table_name TEXT NOT NULL, run_id INTEGER, measured_at TEXT NOT NULL,"
    " row_count INTEGER NOT NULL, null_rates TEXT NOT NULL);"
    "CREATE INDEX dango_table_metrics_table ON dango_table_metrics (source, table_name, id);"
    "CREATE TABLE dango_profiles (layer TEXT NOT NULL, table_name TEXT NOT NULL,"
    " profile TEXT NOT NULL, profiled_at TEXT NOT NULL, PRIMARY KEY (layer, table_name));"
    "CREATE TABLE dango_model_runs (id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL,"
    " status TEXT NOT NULL, materialized TEXT NOT NULL, row_count INTEGER,"
    " started_at TEXT NOT NULL, finished_at TEXT, error TEXT, tests TEXT, task_id INTEGER);"
    "CREATE INDEX dango_model_runs_model ON dango_model_runs (model, id);"
    "CREATE TABLE dango_monitoring_results (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " run_at TEXT NOT NULL, source TEXT, results TEXT NOT NULL);";

constexpr const char* kCatalogPostgres =
    "CREATE TABLE dango_schema_snapshots (source TEXT NOT NULL, table_name TEXT NOT NULL,"
    " columns TEXT NOT NULL, run_id BIGINT, taken_at TEXT NOT NULL,"
    " PRIMARY KEY (source, table_name));"
    "CREATE TABLE dango_schema_drift (id BIGSERIAL PRIMARY KEY, source TEXT NOT NULL,"
    " table_name TEXT NOT NULL, column_name TEXT NOT NULL, change_type TEXT NOT NULL,"
    " old_type TEXT, new_type TEXT, breaking INTEGER NOT NULL, run_id BIGINT,"
    " detected_at TEXT NOT NULL, accepted_at TEXT, accepted_by TEXT);"
    "CREATE INDEX dango_schema_drift_source ON dango_schema_drift (source, id);"
    "CREATE TABLE dango_pii_findings (source TEXT NOT NULL, table_name TEXT NOT NULL,"
    " column_name TEXT NOT NULL, pii_type TEXT NOT NULL, detected_by TEXT NOT NULL,"
    " matches BIGINT NOT NULL, sampled BIGINT NOT NULL, scanned_at TEXT NOT NULL,"
    " PRIMARY KEY (source, table_name, column_name));"
    "CREATE TABLE dango_table_metrics (id BIGSERIAL PRIMARY KEY,"
    " source TEXT NOT NULL, table_name TEXT NOT NULL, run_id BIGINT, measured_at TEXT NOT NULL,"
    " row_count BIGINT NOT NULL, null_rates TEXT NOT NULL);"
    "CREATE INDEX dango_table_metrics_table ON dango_table_metrics (source, table_name, id);"
    "CREATE TABLE dango_profiles (layer TEXT NOT NULL, table_name TEXT NOT NULL,"
    " profile TEXT NOT NULL, profiled_at TEXT NOT NULL, PRIMARY KEY (layer, table_name));"
    "CREATE TABLE dango_model_runs (id BIGSERIAL PRIMARY KEY, model TEXT NOT NULL,"
    " status TEXT NOT NULL, materialized TEXT NOT NULL, row_count BIGINT,"
    " started_at TEXT NOT NULL, finished_at TEXT, error TEXT, tests TEXT, task_id BIGINT);"
    "CREATE INDEX dango_model_runs_model ON dango_model_runs (model, id);"
    "CREATE TABLE dango_monitoring_results (id BIGSERIAL PRIMARY KEY,"
    " run_at TEXT NOT NULL, source TEXT, results TEXT NOT NULL);";

std::string string_member(const rapidjson::Value& v, const char* key, const std::string& where) {
  auto it = v.FindMember(key);
  if (it == v.MemberEnd()) return "";
  if (!it->value.IsString()) throw std::invalid_argument(where + "." + key + " must be a string");
  return it->value.GetString();
}

bool is_dango_column(const std::string& name) {
  return name.rfind("_dango_", 0) == 0;
}

// Row count and the NULL share of each column of raw_<source>.<table>, stored for monitoring:
// from the load's own counts when the table holds exactly its rows (`known`), else by a scan.
void record_table_metrics(sdk::Services host, Warehouse& w, const std::string& source,
                          const std::string& table, int64_t run_id, const LoadedTable* known) {
  const std::string layer = "raw_" + source;
  auto columns = table_columns(w, layer, table);
  int64_t count = 0;
  std::vector<int64_t> non_null(columns.size(), 0);
  if (known) {
    count = known->rows;
    for (size_t i = 0; i < columns.size(); ++i) {
      auto it = known->non_null.find(columns[i].name);
      if (it != known->non_null.end()) non_null[i] = it->second;
    }
  } else {
    std::string sql = "SELECT COUNT(*)";
    for (const auto& c : columns) sql += ", COUNT(" + quote_identifier(c.name) + ")";
    sql += " FROM " + w.qualified(layer, table);
    auto rows = select_rows(w, sql, 1);
    if (rows.rows.empty()) return;
    const auto& r = rows.rows[0];
    count = r[0] ? std::stoll(*r[0]) : 0;
    for (size_t i = 0; i < columns.size(); ++i) non_null[i] = r[i + 1] ? std::stoll(*r[i + 1]) : 0;
  }
  Json rates;
  rates.begin();
  for (size_t i = 0; i < columns.size(); ++i) {
    int64_t nulls = count - non_null[i];
    rates.key(columns[i].name).real(count ? static_cast<double>(nulls) / count : 0.0);
  }
  rates.end();
  host.sql(
          "INSERT INTO dango_table_metrics (source, table_name, run_id, measured_at, row_count,"
          " null_rates) VALUES (:s, :t, :r, :at, :n, :rates)")
      .bind("s", source)
      .bind("t", table)
      .bind("r", run_id)
      .bind("at", iso_utc_now())
      .bind("n", count)
      .bind("rates", rates.text())
      .exec();
}

}  // namespace

GovernanceSettings parse_governance_settings(const rapidjson::Value& config) {
  GovernanceSettings s;
  if (!config.IsObject()) return s;
  auto gov = config.FindMember("governance");
  if (gov != config.MemberEnd()) {
    if (!gov->value.IsObject()) throw std::invalid_argument("governance must be an object");
    auto list = gov->value.FindMember("pii_overrides");
    if (list != gov->value.MemberEnd()) {
      if (!list->value.IsArray()) {
        throw std::invalid_argument("governance.pii_overrides must be a list");
      }
      for (const auto& o : list->value.GetArray()) {
        const std::string where = "governance.pii_overrides[]";
        if (!o.IsObject()) throw std::invalid_argument(where + " must be an object");
        PiiOverride p;
        p.source = string_member(o, "source", where);
        p.table = string_member(o, "table", where);
        p.column = string_member(o, "column", where);
        p.pii_type = string_member(o, "pii_type", where);
        p.reason = string_member(o, "reason", where);
        if (p.source.empty() || p.column.empty() || p.pii_type.empty()) {
          throw std::invalid_argument(where + " needs source, column and pii_type");
        }
        if (p.table.empty()) p.table = p.source;
        auto lower = [](std::string& x) {
          std::transform(x.begin(), x.end(), x.begin(), ::tolower);
        };
        lower(p.source);
        lower(p.table);
        s.pii_overrides.push_back(std::move(p));
      }
    }
  }
  auto dbt = config.FindMember("dbt");
  if (dbt != config.MemberEnd()) {
    if (!dbt->value.IsObject()) throw std::invalid_argument("dbt must be an object");
    s.dbt_project_dir = string_member(dbt->value, "project_dir", "dbt");
  }
  return s;
}

Migration catalog_migration() {
  return {"0003_catalog", kCatalogSqlite, kCatalogPostgres};
}

std::vector<PiiFinding> scan_table_for_pii(sdk::Services host, Warehouse& w,
                                           const std::string& source, const std::string& table) {
  const std::string layer = "raw_" + source;
  std::vector<std::string> names;
  std::string sql;
  for (const auto& c : table_columns(w, layer, table)) {
    if (is_dango_column(c.name)) continue;
    sql += (sql.empty() ? "SELECT " : ", ") + std::string("CAST(") + quote_identifier(c.name) +
           " AS TEXT)";
    names.push_back(c.name);
  }
  std::vector<PiiFinding> findings;
  if (!names.empty()) {
    sql += " FROM " + w.qualified(layer, table) + " LIMIT " + std::to_string(kPiiSampleRows);
    auto rows = select_rows(w, sql, kPiiSampleRows);
    findings = scan_for_pii(names, rows.rows);
  }
  auto tx = host.transaction();
  tx.sql("DELETE FROM dango_pii_findings WHERE source = :s AND table_name = :t")
      .bind("s", source)
      .bind("t", table)
      .exec();
  const std::string now = iso_utc_now();
  for (const auto& f : findings) {
    tx.sql(
          "INSERT INTO dango_pii_findings (source, table_name, column_name, pii_type,"
          " detected_by, matches, sampled, scanned_at) VALUES (:s, :t, :c, :p, :by, :m, :n, :at)")
        .bind("s", source)
        .bind("t", table)
        .bind("c", f.column)
        .bind("p", f.pii_type)
        .bind("by", f.detected_by)
        .bind("m", f.matches)
        .bind("n", f.sampled)
        .bind("at", now)
        .exec();
  }
  tx.commit();
  return findings;
}

std::vector<LoadNote> observe_load(sdk::Services host, Warehouse& warehouse,
                                   const std::string& source, int64_t run_id,
                                   const SourceBatch& batch,
                                   const std::vector<LoadedTable>& loaded) {
  std::vector<LoadNote> notes;
  DriftStore drift(host);
  for (const auto& load : batch.tables) {
    // A table without columns brought nothing (only deletions). The bulk CSV path hands over
    // typed columns without rows, and which of them had values.
    if (load.table.columns.empty()) continue;
    if (load.table.rows.empty() &&
        std::all_of(load.table.columns.begin(), load.table.columns.end(),
                    [](const Column& c) { return is_dango_column(c.name); })) {
      continue;
    }
    try {
      std::vector<bool> has_values(load.table.columns.size(), load.table.rows.empty());
      if (load.table.rows.empty() &&
          load.table.column_has_values.size() == load.table.columns.size()) {
        has_values = load.table.column_has_values;
      }
      for (const auto& row : load.table.rows) {
        for (size_t i = 0; i < row.size() && i < has_values.size(); ++i) {
          has_values[i] = has_values[i] || (row[i] && !row[i]->empty());
        }
      }
      auto changes = drift.record(source, load.name, load.table.columns, has_values, run_id);
      int64_t breaking = std::count_if(changes.begin(), changes.end(),
                                       [](const ColumnChange& c) { return c.breaking(); });
      if (!changes.empty()) {
        std::string text = load.name + ": ";
        for (size_t i = 0; i < changes.size(); ++i) {
          text += (i ? ", " : "") + changes[i].change + " " + changes[i].column;
        }
        notes.push_back({breaking ? "warning" : "info", "schema_drift",
                         (breaking ? breaking_flag(breaking) + "; " : std::string()) + text});
      }
      auto known = std::find_if(loaded.begin(), loaded.end(),
                                [&](const LoadedTable& t) { return t.name == load.name; });
      record_table_metrics(host, warehouse, source, load.name, run_id,
                           known == loaded.end() ? nullptr : &*known);
      auto pii = scan_table_for_pii(host, warehouse, source, load.name);
      if (!pii.empty()) {
        std::string text = load.name + ": possible personal data in ";
        for (size_t i = 0; i < pii.size(); ++i) {
          text += (i ? ", " : "") + pii[i].column + " (" + pii[i].pii_type + ")";
        }
        notes.push_back({"info", "pii_detected", text});
      }
    } catch (const std::exception& e) {
      host.warn("dango-sources: governance checks of " + source + "." + load.name +
                " failed: " + e.what());
      notes.push_back({"warning", "governance_failed",
                       "Governance checks of " + load.name + " failed: " + e.what()});
    }
  }
  return notes;
}

std::vector<StoredPiiFinding> pii_findings(sdk::Services host, const GovernanceSettings& settings,
                                           const std::string& source, const std::string& table) {
  std::string where = " WHERE 1 = 1";
  if (!source.empty()) where += " AND source = :s";
  if (!table.empty()) where += " AND table_name = :t";
  auto st = host.sql(
      "SELECT source, table_name, column_name, pii_type, detected_by, matches, sampled,"
      " scanned_at FROM dango_pii_findings" +
      where + " ORDER BY source, table_name, column_name");
  if (!source.empty()) st.bind("s", source);
  if (!table.empty()) st.bind("t", table);
  std::vector<StoredPiiFinding> found;
  while (st.step()) {
    StoredPiiFinding f;
    f.source = st.text(0);
    f.table = st.text(1);
    f.finding.column = st.text(2);
    f.finding.pii_type = st.text(3);
    f.finding.detected_by = st.text(4);
    f.finding.matches = st.int64(5);
    f.finding.sampled = st.int64(6);
    f.scanned_at = st.text(7);
    found.push_back(std::move(f));
  }
  for (const auto& o : settings.pii_overrides) {
    if ((!source.empty() && o.source != source) || (!table.empty() && o.table != table)) continue;
    auto it = std::find_if(found.begin(), found.end(), [&](const StoredPiiFinding& f) {
      return f.source == o.source && f.table == o.table && f.finding.column == o.column;
    });
    if (it == found.end()) {
      if (o.pii_type == "none") continue;
      StoredPiiFinding f;
      f.source = o.source;
      f.table = o.table;
      f.finding.column = o.column;
      f.finding.detected_by = "override";
      it = found.insert(found.end(), std::move(f));
    }
    it->overridden = true;
    it->override_reason = o.reason;
    it->finding.pii_type = o.pii_type;
  }
  found.erase(
      std::remove_if(found.begin(), found.end(),
                     [](const StoredPiiFinding& f) { return f.finding.pii_type == "none"; }),
      found.end());
  return found;
}

}  // namespace dango
