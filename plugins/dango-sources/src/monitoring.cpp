// Monitoring: checks computed from the metrics each successful sync records (row count and NULL
// share per column, dango_table_metrics) and from the sync history (freshness). A run is a host
// task; its results are cached in dango_monitoring_results.
#include <cmath>
#include <map>

#include "catalog_routes.hpp"
#include "replies.hpp"
#include "time_text.hpp"

namespace dango {

namespace {

// A row count moving by more than this share between two syncs is a warning; to 0, critical.
constexpr double kRowCountChange = 0.5;
// A column's NULL share rising by more than this (absolute) between two syncs is a warning.
constexpr double kNullRateRise = 0.2;
// Freshness (NOTES §3): fresh under 24 h; over 72 h critical.
constexpr double kStaleHours = 24;
constexpr double kCriticalHours = 72;

struct Measurement {
  std::string measured_at;
  int64_t row_count = 0;
  std::map<std::string, double> null_rates;
  std::optional<int64_t> run_id;
};

std::map<std::string, double> parse_rates(const std::string& text) {
  std::map<std::string, double> out;
  rapidjson::Document d;
  std::string error;
  if (!sdk::parse_json(text, d, error) || !d.IsObject()) return out;
  for (const auto& m : d.GetObject()) {
    if (m.value.IsNumber()) out[m.name.GetString()] = m.value.GetDouble();
  }
  return out;
}

// The last two measurements of each table of `source`, newest first.
std::map<std::string, std::vector<Measurement>> recent(sdk::Services host,
                                                       const std::string& source) {
  std::map<std::string, std::vector<Measurement>> out;
  auto st = host.sql(
      "SELECT table_name, measured_at, row_count, null_rates, run_id FROM dango_table_metrics"
      " WHERE source = :s ORDER BY id DESC LIMIT 200");
  st.bind("s", source);
  while (st.step()) {
    auto& list = out[st.text(0)];
    if (list.size() >= 2) continue;
    Measurement m;
    m.measured_at = st.text(1);
    m.row_count = st.int64(2);
    m.null_rates = parse_rates(st.text(3));
    if (!st.is_null(4)) m.run_id = st.int64(4);
    list.push_back(std::move(m));
  }
  return out;
}

struct Check {
  std::string source;
  std::string table;  // empty for freshness
  std::string column;
  std::string metric;  // row_count_change, null_rate_change, freshness
  std::string status;  // ok, warning, critical
  std::optional<double> previous;
  std::optional<double> current;
  std::optional<double> change;
  std::string message;
};

void write_check(Json& j, const Check& c) {
  auto num = [&](const std::optional<double>& v) {
    if (v) {
      j.real(*v);
    } else {
      j.null();
    }
  };
  j.begin().key("source").str(c.source).key("table");
  j.opt(text_or_null(c.table));
  j.key("column");
  j.opt(text_or_null(c.column));
  j.key("metric").str(c.metric).key("status").str(c.status).key("previous");
  num(c.previous);
  j.key("current");
  num(c.current);
  j.key("change");
  num(c.change);
  j.key("message").str(c.message).end();
}

std::vector<Check> checks_of(CatalogContext& c, const SourceConfig& s) {
  std::vector<Check> out;
  // Freshness from the last successful sync.
  Check fresh{s.name, "", "", "freshness", "ok", {}, {}, {}, ""};
  std::optional<std::string> last;
  for (const auto& r : c.base.engine.runs(s.name, 50)) {
    if (r.status == "success" && r.finished_at) {
      last = r.finished_at;
      break;
    }
  }
  auto at = last ? parse_iso_utc(*last) : std::nullopt;
  if (!at) {
    fresh.status = "warning";
    fresh.message = "Never synced successfully";
  } else {
    double hours = static_cast<double>(now_ms() / 1000 - *at) / 3600.0;
    fresh.current = std::round(hours * 100) / 100;
    fresh.status = hours > kCriticalHours ? "critical" : hours > kStaleHours ? "warning" : "ok";
    fresh.message =
        "Last successful sync " + std::to_string(static_cast<int64_t>(hours)) + " h ago";
  }
  out.push_back(fresh);
  for (const auto& [table, list] : recent(c.base.host, s.name)) {
    if (list.size() < 2) continue;  // one measurement: nothing to compare yet
    const Measurement& now = list[0];
    const Measurement& before = list[1];
    Check rows{s.name,
               table,
               "",
               "row_count_change",
               "ok",
               static_cast<double>(before.row_count),
               static_cast<double>(now.row_count),
               {},
               ""};
    if (before.row_count > 0) {
      double change = static_cast<double>(now.row_count - before.row_count) /
                      static_cast<double>(before.row_count);
      rows.change = change;
      if (now.row_count == 0) {
        rows.status = "critical";
      } else if (std::fabs(change) > kRowCountChange) {
        rows.status = "warning";
      }
    }
    rows.message =
        "Rows " + std::to_string(before.row_count) + " → " + std::to_string(now.row_count);
    out.push_back(rows);
    for (const auto& [column, rate] : now.null_rates) {
      auto prev = before.null_rates.find(column);
      if (prev == before.null_rates.end()) continue;
      double rise = rate - prev->second;
      if (rise <= kNullRateRise) continue;  // only changes worth a look are listed
      Check nulls{s.name, table, column, "null_rate_change", "warning", prev->second,
                  rate,   rise,  ""};
      nulls.message = "NULL share of " + column + " rose from " +
                      std::to_string(static_cast<int>(prev->second * 100)) + "% to " +
                      std::to_string(static_cast<int>(rate * 100)) + "%";
      out.push_back(nulls);
    }
  }
  return out;
}

std::string run_checks(CatalogContext& c, const std::string& only) {
  Json j;
  int64_t ok = 0, warning = 0, critical = 0;
  const std::string run_at = iso_utc_now();
  j.begin().key("run_at").str(run_at).key("source");
  j.opt(text_or_null(only));
  j.key("results").begin_array();
  for (const auto& s : c.base.settings.sources) {
    if (!only.empty() && s.name != only) continue;
    for (const auto& check : checks_of(c, s)) {
      write_check(j, check);
      (check.status == "ok" ? ok : check.status == "warning" ? warning : critical)++;
    }
  }
  j.end_array()
      .key("summary")
      .begin()
      .key("ok")
      .num(ok)
      .key("warning")
      .num(warning)
      .key("critical")
      .num(critical)
      .end()
      .end();
  return j.text();
}

}  // namespace

void monitoring_results(CatalogContext& c, const sdk::Request&, sdk::Response& rs) {
  auto st =
      c.base.host.sql("SELECT results FROM dango_monitoring_results ORDER BY id DESC LIMIT 1");
  if (!st.step()) {
    rs.json_text(
        "{\"run_at\":null,\"source\":null,\"results\":[],\"summary\":{\"ok\":0,"
        "\"warning\":0,\"critical\":0}}");
    return;
  }
  rs.json_text(st.text(0));
}

void monitoring_run(CatalogContext& c, const sdk::Request& rq, sdk::Response& rs) {
  auto source = name_query(rq, "source");
  if (source && !find_source(c.base.settings, *source)) {
    throw detail_reply(404, "Source '" + *source + "' not found");
  }
  answer_task_started(c, rs, kMonitoringTask,
                      Json().begin().key("source").str(source.value_or("")).end().text(),
                      "Monitoring run started");
}

void monitoring_task(CatalogContext& c, sdk::TaskContext& t) {
  rapidjson::Document p = t.payload();
  std::string source =
      p.HasMember("source") && p["source"].IsString() ? p["source"].GetString() : "";
  std::string results = run_checks(c, source);
  c.base.host
      .sql("INSERT INTO dango_monitoring_results (run_at, source, results) VALUES (:at, :s, :r)")
      .bind("at", iso_utc_now())
      .bind("s", source.empty() ? std::nullopt : std::optional<std::string>(source))
      .bind("r", results)
      .exec();
  t.result(results);
}

void monitoring_history(CatalogContext& c, const sdk::Request& rq, sdk::Response& rs) {
  int64_t days = 7;
  if (auto d = rq.query("days"); d && !d->empty()) {
    std::string text(*d);
    if (text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos) {
      throw error_reply(400, "DANGO-V001", "days must be a positive integer");
    }
    days = std::clamp<int64_t>(std::stoll(text), 1, 365);
  }
  auto source = name_query(rq, "source");
  std::string metric(rq.query("metric").value_or(""));
  if (!metric.empty() && metric != "row_count" && metric != "null_rate") {
    throw error_reply(400, "DANGO-V001", "metric must be row_count or null_rate");
  }
  const std::string since = iso_utc(now_ms() / 1000 - days * 86400);
  auto st = c.base.host.sql(
      std::string("SELECT source, table_name, measured_at, row_count, null_rates, run_id FROM"
                  " dango_table_metrics WHERE measured_at >= :since") +
      (source ? " AND source = :s" : "") + " ORDER BY id");
  st.bind("since", since);
  if (source) st.bind("s", *source);
  Json j;
  j.begin().key("days").num(days).key("since").str(since).key("history").begin_array();
  int64_t n = 0;
  while (st.step()) {
    ++n;
    j.begin()
        .key("source")
        .str(st.text(0))
        .key("table")
        .str(st.text(1))
        .key("measured_at")
        .str(st.text(2))
        .key("run_id")
        .opt(st.is_null(5) ? std::nullopt : std::optional<int64_t>(st.int64(5)));
    if (metric.empty() || metric == "row_count") j.key("row_count").num(st.int64(3));
    if (metric.empty() || metric == "null_rate") j.key("null_rates").raw(st.text(4));
    j.end();
  }
  j.end_array().key("count").num(n).end();
  rs.json_text(j.text());
}

}  // namespace dango
