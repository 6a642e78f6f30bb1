// Data Catalog: columns with cached profiles, profiling as a task, models and sources, search,
// the lineage DAG from sources through models, and downstream impact.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "catalog_routes.hpp"
#include "replies.hpp"
#include "time_text.hpp"
#include "warehouse_read.hpp"

namespace dango {

namespace {

constexpr size_t kTopValues = 5;

struct TableRef {
  std::string layer;  // raw_<source>, staging or marts
  std::string table;
};

// {source}/{table} of a catalog path: a configured source (layer raw_<source>) or a model layer
// (staging, marts). 400 for a bad name, 404 for an unknown source or table.
TableRef table_path(CatalogContext& c, const sdk::Request& rq) {
  auto source = normalize_source_name(rq.param("source").value_or(""));
  auto table = normalize_source_name(rq.param("table").value_or(""));
  if (!source || !table) throw error_reply(400, "DANGO-V002", "Invalid source or table name");
  TableRef ref;
  if (find_source(c.base.settings, *source)) {
    ref.layer = "raw_" + *source;
  } else if (*source == "staging" || *source == "marts") {
    ref.layer = *source;
  } else {
    throw detail_reply(404, "Source '" + *source + "' not found");
  }
  ref.table = *table;
  if (object_kind(c.base.warehouse, ref.layer, ref.table).empty()) {
    throw detail_reply(404, "Table '" + *source + "." + *table + "' not found");
  }
  return ref;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::tolower);
  return s;
}

// The profile of one table as JSON: row count, and per column NULLs, distinct values, min, max
// and the most frequent values.
std::string compute_profile(Warehouse& w, const TableRef& ref) {
  const std::string rel = w.qualified(ref.layer, ref.table);
  const int64_t rows = select_count(w, "SELECT COUNT(*) FROM " + rel);
  Json j;
  j.begin().key("row_count").num(rows).key("profiled_at").str(iso_utc_now()).key("columns");
  j.begin();
  for (const auto& col : table_columns(w, ref.layer, ref.table)) {
    const std::string q = quote_identifier(col.name);
    j.key(col.name).begin();
    try {
      auto stats =
          select_rows(w,
                      "SELECT COUNT(*) - COUNT(" + q + "), COUNT(DISTINCT " + q + "), CAST(MIN(" +
                          q + ") AS TEXT), CAST(MAX(" + q + ") AS TEXT) FROM " + rel,
                      1);
      const auto& r = stats.rows.at(0);
      int64_t nulls = r[0] ? std::stoll(*r[0]) : 0;
      j.key("null_count")
          .num(nulls)
          .key("null_pct")
          .real(rows ? 100.0 * static_cast<double>(nulls) / static_cast<double>(rows) : 0.0)
          .key("distinct_count")
          .num(r[1] ? std::stoll(*r[1]) : 0)
          .key("min")
          .opt(r[2])
          .key("max")
          .opt(r[3]);
      auto top = select_rows(w,
                             "SELECT CAST(" + q + " AS TEXT) AS v, COUNT(*) AS n FROM " + rel +
                                 " WHERE " + q + " IS NOT NULL GROUP BY CAST(" + q +
                                 " AS TEXT) ORDER BY n DESC, v LIMIT " + std::to_string(kTopValues),
                             kTopValues);
      j.key("top_values").begin_array();
      for (const auto& t : top.rows) {
        j.begin().key("value").opt(t[0]).key("count").num(t[1] ? std::stoll(*t[1]) : 0).end();
      }
      j.end_array();
    } catch (const std::exception& e) {
      j.key("error").str(e.what());
    }
    j.end();
  }
  j.end().end();
  return j.text();
}

std::optional<std::string> cached_profile(sdk::Services host, const TableRef& ref) {
  auto st = host.sql("SELECT profile FROM dango_profiles WHERE layer = :l AND table_name = :t");
  st.bind("l", ref.layer).bind("t", ref.table);
  if (!st.step()) return std::nullopt;
  return st.text(0);
}

void store_profile(sdk::Services host, const TableRef& ref, const std::string& profile) {
  host.sql(
          "INSERT INTO dango_profiles (layer, table_name, profile, profiled_at) VALUES (:l, :t,"
          " :p, :at) ON CONFLICT (layer, table_name) DO UPDATE SET profile = excluded.profile,"
          " profiled_at = excluded.profiled_at")
      .bind("l", ref.layer)
      .bind("t", ref.table)
      .bind("p", profile)
      .bind("at", iso_utc_now())
      .exec();
}

// ---- the graph: sources' tables and models ----

std::string source_node(const std::string& source, const std::string& table) {
  return "source." + source + "." + table;
}
std::string model_node(const std::string& model) {
  return "model." + model;
}

// Models that select directly from `node` (a model name, or "source.s.t").
std::vector<std::string> children(const ModelProject& p, const std::string& node) {
  std::vector<std::string> out;
  for (const auto& m : p.models) {
    bool hit = std::find(m.refs.begin(), m.refs.end(), node) != m.refs.end();
    for (const auto& s : m.sources) hit = hit || source_node(s.source, s.table) == node;
    if (hit) out.push_back(m.name);
  }
  return out;
}

void write_impact_tree(Json& j, const ModelProject& p, const std::string& node,
                       std::set<std::string>& affected, int depth) {
  j.begin_array();
  for (const auto& child : children(p, node)) {
    affected.insert(child);
    const Model* m = p.find(child);
    j.begin()
        .key("name")
        .str(child)
        .key("type")
        .str("model")
        .key("materialized")
        .str(m ? m->materialized : "")
        .key("depth")
        .num(depth)
        .key("children");
    if (depth < 64) {
      write_impact_tree(j, p, child, affected, depth + 1);
    } else {
      j.begin_array().end_array();
    }
    j.end();
  }
  j.end_array();
}

void write_columns_of(Json& j, CatalogContext& c, const std::string& layer,
                      const std::string& table, const std::vector<ColumnDoc>& docs) {
  j.begin_array();
  auto actual = table_columns(c.base.warehouse, layer, table);
  std::set<std::string> seen;
  for (const auto& col : actual) {
    seen.insert(col.name);
    auto doc = std::find_if(docs.begin(), docs.end(),
                            [&](const ColumnDoc& d) { return d.name == col.name; });
    j.begin()
        .key("name")
        .str(col.name)
        .key("type")
        .str(col.type)
        .key("nullable")
        .flag(col.nullable)
        .key("description")
        .str(doc == docs.end() ? "" : doc->description)
        .end();
  }
  for (const auto& d : docs) {  // documented but not (yet) built
    if (seen.count(d.name)) continue;
    j.begin()
        .key("name")
        .str(d.name)
        .key("type")
        .null()
        .key("nullable")
        .null()
        .key("description")
        .str(d.description)
        .end();
  }
  j.end_array();
}

void write_model_summary(Json& j, CatalogContext& c, const Model& m) {
  j.begin()
      .key("name")
      .str(m.name)
      .key("type")
      .str("model")
      .key("schema")
      .str(m.layer)
      .key("relation")
      .str(c.base.warehouse.qualified(m.layer, m.name))
      .key("materialized")
      .str(m.materialized)
      .key("description")
      .str(m.description)
      .key("path")
      .str(m.path)
      .key("depends_on")
      .begin_array();
  for (const auto& r : m.refs) j.str(model_node(r));
  for (const auto& s : m.sources) j.str(source_node(s.source, s.table));
  j.end_array()
      .key("documented_columns")
      .num(static_cast<int64_t>(m.columns.size()))
      .key("test_count")
      .num(static_cast<int64_t>(m.tests.size()))
      .key("built")
      .flag(!object_kind(c.base.warehouse, m.layer, m.name).empty())
      .end();
}

}  // namespace

void table_columns_route(CatalogContext& c, const sdk::Request& rq, sdk::Response& rs) {
  TableRef ref = table_path(c, rq);
  auto profile = cached_profile(c.base.host, ref);
  rapidjson::Document p;
  std::string error;
  bool have = profile && sdk::parse_json(*profile, p, error) && p.IsObject();
  std::map<std::string, std::string> pii;
  if (ref.layer.rfind("raw_", 0) == 0) {
    for (const auto& f : pii_findings(c.base.host, c.settings, ref.layer.substr(4), ref.table)) {
      pii[f.finding.column] = f.finding.pii_type;
    }
  }
  Json j;
  j.begin()
      .key("source")
      .str(ref.layer.rfind("raw_", 0) == 0 ? ref.layer.substr(4) : ref.layer)
      .key("schema")
      .str(ref.layer)
      .key("table")
      .str(ref.table)
      .key("row_count")
      .opt(have && p.HasMember("row_count") ? std::optional<int64_t>(p["row_count"].GetInt64())
                                            : std::nullopt)
      .key("profiled_at")
      .opt(have && p.HasMember("profiled_at")
               ? std::optional<std::string>(p["profiled_at"].GetString())
               : std::nullopt)
      .key("columns")
      .begin_array();
  for (const auto& col : table_columns(c.base.warehouse, ref.layer, ref.table)) {
    j.begin()
        .key("name")
        .str(col.name)
        .key("type")
        .str(col.type)
        .key("nullable")
        .flag(col.nullable)
        .key("pii_type")
        .opt(pii.count(col.name) ? std::optional<std::string>(pii[col.name]) : std::nullopt)
        .key("profile");
    if (have && p["columns"].IsObject() && p["columns"].HasMember(col.name.c_str())) {
      j.raw(sdk::to_json(p["columns"][col.name.c_str()]));
    } else {
      j.null();
    }
    j.end();
  }
  j.end_array().end();
  rs.json_text(j.text());
}

void profile_table(CatalogContext& c, const sdk::Request& rq, sdk::Response& rs) {
  TableRef ref = table_path(c, rq);
  answer_task_started(
      c, rs, kProfileTask,
      Json().begin().key("layer").str(ref.layer).key("table").str(ref.table).end().text(),
      "Profiling started for " + ref.layer + "." + ref.table);
}

void profile_table_task(CatalogContext& c, sdk::TaskContext& t) {
  rapidjson::Document p = t.payload();
  TableRef ref{p["layer"].GetString(), p["table"].GetString()};
  std::string profile = compute_profile(c.base.warehouse, ref);
  store_profile(c.base.host, ref, profile);
  t.result(Json().begin().key("layer").str(ref.layer).key("table").str(ref.table).end().text());
}

void catalog_models(CatalogContext& c, const sdk::Request&, sdk::Response& rs) {
  ModelProject project = current_project(c);
  Json j;
  j.begin().key("models").begin_array();
  int64_t tests = 0;
  for (const auto& m : project.models) {
    write_model_summary(j, c, m);
    tests += static_cast<int64_t>(m.tests.size());
  }
  j.end_array().key("sources").begin_array();
  int64_t tables = 0;
  for (const auto& s : c.base.settings.sources) {
    j.begin().key("name").str(s.name).key("type").str("source").key("schema").str("raw_" + s.name);
    j.key("tables").begin_array();
    for (const auto& t : c.base.warehouse.source_tables(s.name)) {
      ++tables;
      j.begin()
          .key("name")
          .str(t.name)
          .key("id")
          .str(source_node(s.name, t.name))
          .key("row_count")
          .num(t.row_count)
          .key("column_count")
          .num(static_cast<int64_t>(table_columns(c.base.warehouse, t.schema, t.name).size()))
          .end();
    }
    j.end_array().end();
  }
  j.end_array()
      .key("summary")
      .begin()
      .key("model_count")
      .num(static_cast<int64_t>(project.models.size()))
      .key("source_count")
      .num(static_cast<int64_t>(c.base.settings.sources.size()))
      .key("table_count")
      .num(tables)
      .key("test_count")
      .num(tests)
      .end()
      .key("error")
      .opt(text_or_null(project.error))
      .end();
  rs.json_text(j.text());
}

void catalog_model(CatalogContext& c, const sdk::Request& rq, sdk::Response& rs) {
  const std::string name = model_param(rq, "model_name");
  ModelProject project = current_project(c);
  const Model* m = project.find(name);
  Json j;
  if (m) {
    j.begin()
        .key("name")
        .str(m->name)
        .key("type")
        .str("model")
        .key("schema")
        .str(m->layer)
        .key("relation")
        .str(c.base.warehouse.qualified(m->layer, m->name))
        .key("materialized")
        .str(m->materialized)
        .key("description")
        .str(m->description)
        .key("path")
        .str(m->path)
        .key("raw_sql")
        .str(m->raw_sql)
        .key("compiled_sql")
        .str(m->compiled_sql)
        .key("compile_error")
        .opt(text_or_null(m->error))
        .key("columns");
    write_columns_of(j, c, m->layer, m->name, m->columns);
    j.key("tests").begin_array();
    for (const auto& t : m->tests) {
      j.begin()
          .key("name")
          .str(t.kind + "_" + m->name + "_" + t.column)
          .key("test")
          .str(t.kind)
          .key("column")
          .str(t.column);
      if (t.kind == "accepted_values") {
        j.key("values").begin_array();
        for (const auto& v : t.values) j.str(v);
        j.end_array();
      }
      if (t.kind == "relationships") j.key("to").str(t.to_model).key("field").str(t.to_field);
      j.end();
    }
    j.end_array().key("depends_on").begin().key("models").begin_array();
    for (const auto& r : m->refs) j.str(r);
    j.end_array().key("sources").begin_array();
    for (const auto& s : m->sources) j.str(s.source + "." + s.table);
    j.end_array().end().key("referenced_by").begin_array();
    for (const auto& child : children(project, m->name)) j.str(child);
    j.end_array().key("downstream").begin_array();
    for (const auto& d : project.downstream(m->name, false)) j.str(d);
    j.end_array().end();
    rs.json_text(j.text());
    return;
  }
  const SourceConfig* s = find_source(c.base.settings, name);
  if (!s) throw detail_reply(404, "Model '" + name + "' not found");
  j.begin()
      .key("name")
      .str(s->name)
      .key("type")
      .str("source")
      .key("schema")
      .str("raw_" + s->name)
      .key("source_type")
      .str(s->type)
      .key("tables")
      .begin_array();
  for (const auto& t : c.base.warehouse.source_tables(s->name)) {
    j.begin().key("name").str(t.name).key("row_count").num(t.row_count).key("columns");
    write_columns_of(j, c, t.schema, t.name, {});
    j.key("referenced_by").begin_array();
    for (const auto& child : children(project, source_node(s->name, t.name))) j.str(child);
    j.end_array().end();
  }
  j.end_array().end();
  rs.json_text(j.text());
}

void catalog_search(CatalogContext& c, const sdk::Request& rq, sdk::Response& rs) {
  auto q = rq.query("q");
  if (!q || q->empty()) throw detail_reply(422, "Query parameter q is required");
  const std::string needle = lower(std::string(*q));
  auto hit = [&](const std::string& text) { return lower(text).find(needle) != std::string::npos; };
  ModelProject project = current_project(c);
  Json j;
  j.begin().key("query").str(*q).key("results").begin_array();
  int64_t n = 0;
  auto result = [&](const char* type, const std::string& name, const std::string& schema,
                    const char* matched, const std::string& detail) {
    ++n;
    j.begin()
        .key("type")
        .str(type)
        .key("name")
        .str(name)
        .key("schema")
        .str(schema)
        .key("matched")
        .str(matched)
        .key("match")
        .str(detail)
        .end();
  };
  for (const auto& m : project.models) {
    if (hit(m.name)) result("model", m.name, m.layer, "name", m.name);
    if (hit(m.description)) result("model", m.name, m.layer, "description", m.description);
    std::set<std::string> columns;
    for (const auto& d : m.columns) {
      if (hit(d.name) || hit(d.description)) columns.insert(d.name);
    }
    for (const auto& col : table_columns(c.base.warehouse, m.layer, m.name)) {
      if (hit(col.name)) columns.insert(col.name);
    }
    for (const auto& col : columns) result("column", m.name, m.layer, "column", col);
  }
  for (const auto& s : c.base.settings.sources) {
    if (hit(s.name)) result("source", s.name, "raw_" + s.name, "name", s.name);
    for (const auto& t : c.base.warehouse.source_tables(s.name)) {
      if (t.name != s.name && hit(t.name)) {
        result("source", s.name + "." + t.name, t.schema, "name", t.name);
      }
      for (const auto& col : table_columns(c.base.warehouse, t.schema, t.name)) {
        if (hit(col.name)) result("column", s.name + "." + t.name, t.schema, "column", col.name);
      }
    }
  }
  j.end_array().key("total").num(n).end();
  rs.json_text(j.text());
}

void catalog_lineage(CatalogContext& c, const sdk::Request&, sdk::Response& rs) {
  ModelProject project = current_project(c);
  std::set<std::string> source_nodes;
  for (const auto& s : c.base.settings.sources) {
    for (const auto& t : c.base.warehouse.source_tables(s.name)) {
      source_nodes.insert(source_node(s.name, t.name));
    }
  }
  for (const auto& m : project.models) {
    for (const auto& s : m.sources) source_nodes.insert(source_node(s.source, s.table));
  }
  Json j;
  j.begin().key("nodes").begin_array();
  for (const auto& id : source_nodes) {
    auto first = id.find('.', 7);
    std::string source = id.substr(7, first - 7);
    std::string table = id.substr(first + 1);
    j.begin()
        .key("id")
        .str(id)
        .key("type")
        .str("source")
        .key("name")
        .str(source + "." + table)
        .key("schema")
        .str("raw_" + source)
        .key("configured")
        .flag(find_source(c.base.settings, source) != nullptr)
        .end();
  }
  for (const auto& m : project.models) {
    j.begin()
        .key("id")
        .str(model_node(m.name))
        .key("type")
        .str("model")
        .key("name")
        .str(m.name)
        .key("schema")
        .str(m.layer)
        .key("materialized")
        .str(m.materialized)
        .end();
  }
  j.end_array().key("edges").begin_array();
  int64_t edges = 0;
  for (const auto& m : project.models) {
    for (const auto& s : m.sources) {
      j.begin().key("from").str(source_node(s.source, s.table)).key("to").str(model_node(m.name));
      j.end();
      ++edges;
    }
    for (const auto& r : m.refs) {
      j.begin().key("from").str(model_node(r)).key("to").str(model_node(m.name)).end();
      ++edges;
    }
  }
  j.end_array()
      .key("node_count")
      .num(static_cast<int64_t>(source_nodes.size() + project.models.size()))
      .key("edge_count")
      .num(edges)
      .key("error")
      .opt(text_or_null(project.error))
      .end();
  rs.json_text(j.text());
}

void catalog_impact(CatalogContext& c, const sdk::Request& rq, sdk::Response& rs) {
  const std::string name = model_param(rq, "model_name");
  ModelProject project = current_project(c);
  Json j;
  std::set<std::string> affected;
  if (project.find(name)) {
    j.begin().key("model").str(name).key("type").str("model").key("downstream");
    write_impact_tree(j, project, name, affected, 1);
  } else if (const SourceConfig* s = find_source(c.base.settings, name)) {
    // A source: everything built on any of its tables.
    j.begin().key("model").str(s->name).key("type").str("source").key("downstream");
    j.begin_array();
    std::set<std::string> tables;
    for (const auto& t : c.base.warehouse.source_tables(s->name)) tables.insert(t.name);
    for (const auto& m : project.models) {
      for (const auto& src : m.sources) {
        if (src.source == s->name) tables.insert(src.table);
      }
    }
    for (const auto& t : tables) {
      j.begin().key("name").str(s->name + "." + t).key("type").str("source_table");
      j.key("children");
      write_impact_tree(j, project, source_node(s->name, t), affected, 1);
      j.end();
    }
    j.end_array();
  } else {
    throw detail_reply(404, "Model '" + name + "' not found");
  }
  j.key("affected_models").begin_array();
  for (const auto& m : project.models) {  // in dependency order
    if (affected.count(m.name)) j.str(m.name);
  }
  j.end_array().key("affected_count").num(static_cast<int64_t>(affected.size())).end();
  rs.json_text(j.text());
}

}  // namespace dango
