// Governance routes: schema drift, its acceptance, PII findings and overrides, attention.
#include <map>

#include "catalog_routes.hpp"
#include "replies.hpp"

namespace dango {

namespace {

constexpr int kDriftLimit = 1000;

const SourceConfig& source_path(CatalogContext& c, const sdk::Request& rq) {
  auto name = normalize_source_name(rq.param("source").value_or(""));
  if (!name) throw error_reply(400, "DANGO-V002", "Invalid source name");
  const SourceConfig* s = find_source(c.base.settings, *name);
  if (!s) throw detail_reply(404, "Source '" + *name + "' not found");
  return *s;
}

void write_drift(Json& j, const DriftEvent& e) {
  j.begin()
      .key("id")
      .num(e.id)
      .key("source")
      .str(e.source)
      .key("table")
      .str(e.table)
      .key("schema")
      .str("raw_" + e.source)
      .key("column")
      .str(e.change.column)
      .key("change_type")
      .str(e.change.change)
      .key("severity")
      .str(e.change.breaking() ? "breaking" : "additive")
      .key("old_type")
      .opt(text_or_null(e.change.old_type))
      .key("new_type")
      .opt(text_or_null(e.change.new_type))
      .key("run_id")
      .opt(e.run_id)
      .key("detected_at")
      .str(e.detected_at)
      .key("accepted")
      .flag(e.accepted_at.has_value())
      .key("accepted_at")
      .opt(e.accepted_at)
      .end();
}

void write_finding(Json& j, const StoredPiiFinding& f) {
  j.begin()
      .key("source")
      .str(f.source)
      .key("table")
      .str(f.table)
      .key("column")
      .str(f.finding.column)
      .key("pii_type")
      .str(f.finding.pii_type)
      .key("detected_by")
      .str(f.finding.detected_by)
      .key("matches")
      .num(f.finding.matches)
      .key("sampled")
      .num(f.finding.sampled)
      .key("scanned_at")
      .opt(text_or_null(f.scanned_at))
      .key("overridden")
      .flag(f.overridden)
      .end();
}

std::string principal_id(const sdk::Request& rq) {
  auto p = rq.principal();
  if (p.IsObject() && p.HasMember("id") && p["id"].IsString() && p["id"].GetStringLength()) {
    return p["id"].GetString();
  }
  return "anonymous";
}

}  // namespace

std::optional<std::string> name_query(const sdk::Request& rq, const char* key) {
  auto v = rq.query(key);
  if (!v || v->empty()) return std::nullopt;
  auto name = normalize_source_name(*v);
  if (!name) throw error_reply(400, "DANGO-V002", std::string("Invalid ") + key + " name");
  return name;
}

std::string model_param(const sdk::Request& rq, const char* key) {
  auto name = normalize_source_name(rq.param(key).value_or(""));
  if (!name) throw error_reply(400, "DANGO-V002", "Invalid model name");
  return *name;
}

void answer_task_started(CatalogContext& c, sdk::Response& rs, const std::string& kind,
                         const std::string& payload_json, const std::string& message) {
  sdk::TaskRequest task;
  task.kind = kind;
  task.payload_json = payload_json;
  task.max_attempts = 1;
  int64_t id = c.base.host.enqueue(task);
  rs.json_text(Json()
                   .begin()
                   .key("success")
                   .flag(true)
                   .key("message")
                   .str(message)
                   .key("task_id")
                   .num(id)
                   .end()
                   .text(),
               202);
}

void schema_drift(CatalogContext& c, const sdk::Request& rq, sdk::Response& rs) {
  DriftFilter f;
  f.source = name_query(rq, "source").value_or("");
  f.table = name_query(rq, "table").value_or("");
  auto events = DriftStore(c.base.host).events(f, kDriftLimit);
  Json j;
  j.begin().key("events").begin_array();
  int64_t pending = 0;
  for (const auto& e : events) {
    write_drift(j, e);
    if (!e.accepted_at && e.change.breaking()) ++pending;
  }
  j.end_array()
      .key("total")
      .num(static_cast<int64_t>(events.size()))
      .key("pending_breaking")
      .num(pending)
      .end();
  rs.json_text(j.text());
}

void accept_drift(CatalogContext& c, const sdk::Request& rq, sdk::Response& rs) {
  const SourceConfig& s = source_path(c, rq);
  int64_t accepted = DriftStore(c.base.host).accept(s.name, principal_id(rq));
  c.base.engine.log(s.name, "info", "schema_drift_accepted",
                    "Schema drift accepted: " + std::to_string(accepted) + " change(s)");
  rs.json_text(Json()
                   .begin()
                   .key("success")
                   .flag(true)
                   .key("source")
                   .str(s.name)
                   .key("accepted")
                   .num(accepted)
                   .key("message")
                   .str("Schema drift accepted for " + s.name)
                   .end()
                   .text());
}

void pii_report(CatalogContext& c, const sdk::Request& rq, sdk::Response& rs) {
  auto source = name_query(rq, "source").value_or("");
  auto table = name_query(rq, "table").value_or("");
  auto findings = pii_findings(c.base.host, c.settings, source, table);
  Json j;
  j.begin().key("findings").begin_array();
  for (const auto& f : findings) write_finding(j, f);
  j.end_array().key("total").num(static_cast<int64_t>(findings.size())).end();
  rs.json_text(j.text());
}

void pii_overrides(CatalogContext& c, const sdk::Request&, sdk::Response& rs) {
  Json j;
  j.begin().key("overrides").begin_array();
  for (const auto& o : c.settings.pii_overrides) {
    j.begin()
        .key("source")
        .str(o.source)
        .key("table")
        .str(o.table)
        .key("column")
        .str(o.column)
        .key("pii_type")
        .str(o.pii_type)
        .key("is_pii")
        .flag(o.pii_type != "none")
        .key("reason")
        .str(o.reason)
        .end();
  }
  j.end_array().key("total").num(static_cast<int64_t>(c.settings.pii_overrides.size())).end();
  rs.json_text(j.text());
}

void attention(CatalogContext& c, const sdk::Request&, sdk::Response& rs) {
  DriftStore drift(c.base.host);
  std::map<std::string, std::vector<std::string>> pii_columns;
  for (const auto& f : pii_findings(c.base.host, c.settings, "", "")) {
    pii_columns[f.source].push_back(f.table + "." + f.finding.column);
  }
  Json j;
  j.begin().key("sources").begin_array();
  int64_t total = 0;
  for (const auto& s : c.base.settings.sources) {
    int64_t breaking = drift.pending_breaking(s.name);
    auto latest = c.base.engine.latest_run(s.name);
    bool failed = latest && latest->status != "success" && latest->status != "running";
    auto pii = pii_columns.find(s.name);
    if (!breaking && !failed && pii == pii_columns.end()) continue;
    ++total;
    j.begin().key("source").str(s.name).key("issues").begin_array();
    if (breaking) {
      j.begin()
          .key("type")
          .str("schema_drift")
          .key("severity")
          .str("high")
          .key("count")
          .num(breaking)
          .key("message")
          .str(breaking_flag(breaking))
          .end();
    }
    if (pii != pii_columns.end()) {
      j.begin()
          .key("type")
          .str("pii_detected")
          .key("severity")
          .str("medium")
          .key("count")
          .num(static_cast<int64_t>(pii->second.size()))
          .key("columns")
          .begin_array();
      for (const auto& col : pii->second) j.str(col);
      j.end_array()
          .key("message")
          .str(std::to_string(pii->second.size()) + " column(s) with possible personal data")
          .end();
    }
    if (failed) {
      j.begin()
          .key("type")
          .str("sync_failed")
          .key("severity")
          .str("high")
          .key("run_id")
          .num(latest->id)
          .key("status")
          .str(latest->status)
          .key("message")
          .str("Last sync " + latest->status + ": " + latest->error.value_or(""))
          .end();
    }
    j.end_array().end();
  }
  j.end_array().key("total").num(total).end();
  rs.json_text(j.text());
}

}  // namespace dango
