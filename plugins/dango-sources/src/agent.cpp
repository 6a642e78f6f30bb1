// AI / Agent: a machine-readable catalog summary (quality signals only for governance.view) and
// the API as tools, generated from the host's OpenAPI document (its route table), never listed
// by hand.
#include <map>

#include "catalog_routes.hpp"
#include "replies.hpp"
#include "time_text.hpp"
#include "warehouse_read.hpp"

namespace dango {

namespace {

std::string freshness_status(const std::optional<std::string>& last) {
  auto at = last ? parse_iso_utc(*last) : std::nullopt;
  if (!at) return "never";
  return now_ms() / 1000 - *at < 24 * 3600 ? "fresh" : "stale";
}

// One tool per operation: name (operationId), description, method, path, permission, and the
// parameters as a JSON Schema object (path parameters and the request body's properties).
void write_tool(Json& j, const std::string& method, const std::string& path,
                const rapidjson::Value& op, const rapidjson::Value& doc) {
  auto str = [&](const char* key) {
    auto it = op.FindMember(key);
    return it != op.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString()) : "";
  };
  std::string description = str("summary");
  std::string more = str("description");
  if (!more.empty()) description += (description.empty() ? "" : ". ") + more;
  j.begin()
      .key("name")
      .str(str("operationId"))
      .key("description")
      .str(description)
      .key("method")
      .str(method)
      .key("path")
      .str(path)
      .key("permission")
      .str(str("x-plughost-permission"));
  auto tags = op.FindMember("tags");
  if (tags != op.MemberEnd() && tags->value.IsArray() && !tags->value.Empty() &&
      tags->value[0].IsString()) {
    j.key("plugin").str(tags->value[0].GetString());
  }
  j.key("parameters").begin().key("type").str("object").key("properties").begin();
  std::vector<std::string> required;
  auto params = op.FindMember("parameters");
  if (params != op.MemberEnd() && params->value.IsArray()) {
    for (const auto& p : params->value.GetArray()) {
      if (!p.IsObject() || !p.HasMember("name") || !p["name"].IsString()) continue;
      std::string name = p["name"].GetString();
      j.key(name).begin().key("type").str("string");
      std::string where = p.HasMember("in") && p["in"].IsString() ? p["in"].GetString() : "";
      j.key("description")
          .str(p.HasMember("description") && p["description"].IsString()
                   ? p["description"].GetString()
                   : where + " parameter " + name);
      j.end();
      if (p.HasMember("required") && p["required"].IsBool() && p["required"].GetBool()) {
        required.push_back(name);
      }
    }
  }
  // A request body's schema (resolved through components when it is a $ref) goes under "body".
  auto body = op.FindMember("requestBody");
  if (body != op.MemberEnd() && body->value.IsObject() && body->value.HasMember("content")) {
    const auto& content = body->value["content"];
    auto media = content.FindMember("application/json");
    if (media != content.MemberEnd() && media->value.HasMember("schema")) {
      const rapidjson::Value* schema = &media->value["schema"];
      if (schema->HasMember("$ref") && (*schema)["$ref"].IsString()) {
        std::string ref = (*schema)["$ref"].GetString();
        const std::string prefix = "#/components/schemas/";
        if (ref.rfind(prefix, 0) == 0 && doc.HasMember("components") &&
            doc["components"].HasMember("schemas") &&
            doc["components"]["schemas"].HasMember(ref.substr(prefix.size()).c_str())) {
          schema = &doc["components"]["schemas"][ref.substr(prefix.size()).c_str()];
        }
      }
      j.key("body").raw(sdk::to_json(*schema));
      required.push_back("body");
    }
  }
  j.end().key("required").begin_array();
  for (const auto& r : required) j.str(r);
  j.end_array().end().end();
}

}  // namespace

void catalog_summary(CatalogContext& c, const sdk::Request& rq, sdk::Response& rs) {
  const bool full = rq.has_permission("governance.view");
  ModelProject project = current_project(c);
  std::map<std::string, std::vector<std::string>> pii;
  if (full) {
    for (const auto& f : pii_findings(c.base.host, c.settings, "", "")) {
      pii[f.source].push_back(f.table + "." + f.finding.column + " (" + f.finding.pii_type + ")");
    }
  }
  DriftStore drift(c.base.host);
  Json j;
  j.begin()
      .key("generated_at")
      .str(iso_utc_now())
      .key("warehouse")
      .str(c.base.warehouse.dialect())
      .key("restricted")
      .flag(!full)
      .key("sources")
      .begin_array();
  for (const auto& s : c.base.settings.sources) {
    std::optional<std::string> last_success;
    auto runs = c.base.engine.runs(s.name, 50);
    for (const auto& r : runs) {
      if (r.status == "success" && r.finished_at) {
        last_success = r.finished_at;
        break;
      }
    }
    j.begin()
        .key("name")
        .str(s.name)
        .key("type")
        .str(s.type)
        .key("schema")
        .str("raw_" + s.name)
        .key("last_sync_status")
        .opt(runs.empty() ? std::nullopt : std::optional<std::string>(runs.front().status))
        .key("freshness")
        .begin()
        .key("last_success")
        .opt(last_success)
        .key("status")
        .str(freshness_status(last_success))
        .end()
        .key("tables")
        .begin_array();
    for (const auto& t : c.base.warehouse.source_tables(s.name)) {
      j.begin()
          .key("name")
          .str(t.name)
          .key("relation")
          .str(c.base.warehouse.qualified(t.schema, t.name))
          .key("row_count")
          .num(t.row_count)
          .key("columns")
          .begin_array();
      for (const auto& col : table_columns(c.base.warehouse, t.schema, t.name)) {
        j.begin().key("name").str(col.name).key("type").str(col.type).end();
      }
      j.end_array().end();
    }
    j.end_array();
    if (full) {
      j.key("quality")
          .begin()
          .key("pending_breaking_drift")
          .num(drift.pending_breaking(s.name))
          .key("pii_columns")
          .begin_array();
      for (const auto& p : pii[s.name]) j.str(p);
      j.end_array().end();
    }
    j.end();
  }
  j.end_array().key("models").begin_array();
  for (const auto& m : project.models) {
    j.begin()
        .key("name")
        .str(m.name)
        .key("relation")
        .str(c.base.warehouse.qualified(m.layer, m.name))
        .key("materialized")
        .str(m.materialized)
        .key("description")
        .str(m.description)
        .key("depends_on")
        .begin_array();
    for (const auto& r : m.refs) j.str(r);
    for (const auto& src : m.sources) j.str(src.source + "." + src.table);
    j.end_array().key("columns").begin_array();
    for (const auto& col : m.columns) {
      j.begin().key("name").str(col.name).key("description").str(col.description).end();
    }
    j.end_array().end();
  }
  j.end_array().end();
  rs.json_text(j.text());
}

void agent_tools(CatalogContext& c, const sdk::Request& rq, sdk::Response& rs) {
  rapidjson::Document doc;
  std::string error;
  if (!sdk::parse_json(c.base.host.describe_host("openapi"), doc, error) || !doc.IsObject() ||
      !doc.HasMember("paths") || !doc["paths"].IsObject()) {
    throw std::runtime_error("the host's OpenAPI document is unreadable: " + error);
  }
  const std::string plugin(rq.query("plugin").value_or(""));
  Json j;
  j.begin().key("tools").begin_array();
  int64_t n = 0;
  for (const auto& path : doc["paths"].GetObject()) {
    if (!path.value.IsObject()) continue;
    for (const auto& op : path.value.GetObject()) {
      std::string method = op.name.GetString();
      if (!op.value.IsObject() || method == "parameters") continue;
      if (!plugin.empty()) {
        auto tags = op.value.FindMember("tags");
        bool match = tags != op.value.MemberEnd() && tags->value.IsArray() &&
                     !tags->value.Empty() && tags->value[0].IsString() &&
                     plugin == tags->value[0].GetString();
        if (!match) continue;
      }
      for (auto& ch : method) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      write_tool(j, method, path.name.GetString(), op.value, doc);
      ++n;
    }
  }
  j.end_array().key("total").num(n).end();
  rs.json_text(j.text());
}

}  // namespace dango
