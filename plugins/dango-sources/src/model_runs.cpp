// dbt Operations: the model list with each model's last run, and runs as host tasks that build a
// model (and, with cascade, everything downstream) in the warehouse and then run its tests.
#include <map>
#include <set>

#include "catalog_routes.hpp"
#include "replies.hpp"
#include "time_text.hpp"
#include "warehouse_read.hpp"

namespace dango {

namespace {

struct TestResult {
  std::string name;
  std::string column;
  std::string kind;
  std::string status;  // pass, fail, error
  int64_t failures = 0;
  std::string error;
};

struct ModelRunRecord {
  int64_t id = 0;
  std::string model;
  std::string status;  // running, success, tests_failed, failed, skipped
  std::string materialized;
  std::optional<int64_t> row_count;
  std::string started_at;
  std::optional<std::string> finished_at;
  std::optional<std::string> error;
  std::string tests_json = "[]";
};

std::string sql_literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// The query counting the rows that break `t` on the model's relation `rel`.
std::string test_query(CatalogContext& c, const ModelProject& project, const std::string& rel,
                       const ModelTest& t) {
  const std::string col = quote_identifier(t.column);
  if (t.kind == "not_null") return "SELECT COUNT(*) FROM " + rel + " WHERE " + col + " IS NULL";
  if (t.kind == "unique") {
    return "SELECT COUNT(*) FROM (SELECT " + col + " FROM " + rel + " WHERE " + col +
           " IS NOT NULL GROUP BY " + col + " HAVING COUNT(*) > 1) AS dups";
  }
  if (t.kind == "accepted_values") {
    std::string list;
    for (const auto& v : t.values) list += (list.empty() ? "" : ", ") + sql_literal(v);
    if (list.empty()) list = "NULL";
    return "SELECT COUNT(*) FROM " + rel + " WHERE " + col + " IS NOT NULL AND CAST(" + col +
           " AS TEXT) NOT IN (" + list + ")";
  }
  const Model* parent = project.find(t.to_model);
  const std::string parent_rel =
      c.base.warehouse.qualified(parent ? parent->layer : "marts", t.to_model);
  return "SELECT COUNT(*) FROM " + rel + " AS child WHERE child." + col +
         " IS NOT NULL AND NOT EXISTS (SELECT 1 FROM " + parent_rel + " AS parent WHERE parent." +
         quote_identifier(t.to_field) + " = child." + col + ")";
}

std::vector<TestResult> run_tests(CatalogContext& c, const ModelProject& project, const Model& m) {
  std::vector<TestResult> out;
  const std::string rel = c.base.warehouse.qualified(m.layer, m.name);
  for (const auto& t : m.tests) {
    TestResult r;
    r.name = t.kind + "_" + m.name + "_" + t.column;
    r.column = t.column;
    r.kind = t.kind;
    try {
      r.failures = select_count(c.base.warehouse, test_query(c, project, rel, t));
      r.status = r.failures == 0 ? "pass" : "fail";
    } catch (const std::exception& e) {
      r.status = "error";
      r.error = e.what();
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string tests_json(const std::vector<TestResult>& tests) {
  Json j;
  j.begin_array();
  for (const auto& t : tests) {
    j.begin()
        .key("name")
        .str(t.name)
        .key("test")
        .str(t.kind)
        .key("column")
        .str(t.column)
        .key("status")
        .str(t.status)
        .key("failures")
        .num(t.failures);
    if (!t.error.empty()) j.key("error").str(t.error);
    j.end();
  }
  j.end_array();
  return j.text();
}

// Replaces the model's relation: drop what is there (a view or a table), create it anew; one
// transaction. On PostgreSQL the drop cascades to views built on it (rebuilt by a cascade run).
void materialize(CatalogContext& c, const Model& m) {
  Warehouse& w = c.base.warehouse;
  const std::string rel = w.qualified(m.layer, m.name);
  const bool pg = w.dialect() == "postgresql";
  std::vector<std::string> statements;
  std::string kind = object_kind(w, m.layer, m.name);
  if (!kind.empty()) {
    statements.push_back(std::string(kind == "view" ? "DROP VIEW " : "DROP TABLE ") + rel +
                         (pg ? " CASCADE" : ""));
  }
  statements.push_back(std::string(m.materialized == "table" ? "CREATE TABLE " : "CREATE VIEW ") +
                       rel + " AS " + m.compiled_sql);
  execute_statements(w, statements);
}

// dbt_run_started / dbt_run_completed: `type`, its alias `event`, `model` and `source: "dbt:<m>"`
// (NOTES §3); the completion also carries `status`, `row_count` and `tests_failed`.
void publish_dbt(CatalogContext& c, const std::string& type, const std::string& model,
                 const std::optional<std::string>& status = std::nullopt,
                 std::optional<int64_t> rows = std::nullopt, int64_t tests_failed = 0) {
  Json j;
  j.begin().key("type").str(type).key("event").str(type).key("model").str(model);
  j.key("source").str("dbt:" + model);
  if (status)
    j.key("status").str(*status).key("row_count").opt(rows).key("tests_failed").num(tests_failed);
  j.key("timestamp").str(iso_utc_now()).end();
  try {
    c.base.host.publish(type, j.text(), true);
  } catch (const std::exception& e) {
    c.base.host.warn("dango-sources: could not publish " + type + ": " + e.what());
  }
}

int64_t insert_run(CatalogContext& c, const Model& m, const std::string& status,
                   std::optional<int64_t> task_id) {
  auto st = c.base.host.sql(
      "INSERT INTO dango_model_runs (model, status, materialized, started_at, task_id) VALUES"
      " (:m, :s, :mat, :at, :task) RETURNING id");
  st.bind("m", m.name)
      .bind("s", status)
      .bind("mat", m.materialized)
      .bind("at", iso_utc_now())
      .bind("task", task_id);
  if (!st.step()) throw std::runtime_error("INSERT … RETURNING gave no id");
  return st.int64(0);
}

void finish_run(CatalogContext& c, int64_t id, const std::string& status,
                std::optional<int64_t> rows, const std::optional<std::string>& error,
                const std::string& tests) {
  c.base.host
      .sql(
          "UPDATE dango_model_runs SET status = :s, row_count = :n, finished_at = :at,"
          " error = :e, tests = :t WHERE id = :id")
      .bind("s", status)
      .bind("n", rows)
      .bind("at", iso_utc_now())
      .bind("e", error)
      .bind("t", tests)
      .bind("id", id)
      .exec();
}

// Builds one model and runs its tests; returns its run status.
std::string run_one(CatalogContext& c, const ModelProject& project, const Model& m,
                    int64_t task_id) {
  int64_t id = insert_run(c, m, "running", task_id);
  publish_dbt(c, "dbt_run_started", m.name);
  std::string status;
  std::optional<int64_t> rows;
  std::optional<std::string> error;
  std::vector<TestResult> tests;
  try {
    if (!m.error.empty()) throw std::runtime_error(m.error);
    materialize(c, m);
    rows = select_count(c.base.warehouse,
                        "SELECT COUNT(*) FROM " + c.base.warehouse.qualified(m.layer, m.name));
    tests = run_tests(c, project, m);
    bool ok = std::all_of(tests.begin(), tests.end(),
                          [](const TestResult& t) { return t.status == "pass"; });
    status = ok ? "success" : "tests_failed";
  } catch (const std::exception& e) {
    status = "failed";
    error = e.what();
  }
  finish_run(c, id, status, rows, error, tests_json(tests));
  int64_t failed_tests = std::count_if(tests.begin(), tests.end(),
                                       [](const TestResult& t) { return t.status != "pass"; });
  c.base.engine.log(
      std::nullopt, status == "success" ? "info" : "error", "dbt_run_completed",
      "Model " + m.name + " " + status + (rows ? ": " + std::to_string(*rows) + " rows" : "") +
          (error ? ": " + *error : "") +
          (failed_tests ? ", " + std::to_string(failed_tests) + " test(s) failed" : ""));
  publish_dbt(c, "dbt_run_completed", m.name, status, rows, failed_tests);
  return status;
}

std::map<std::string, ModelRunRecord> last_runs(CatalogContext& c) {
  std::map<std::string, ModelRunRecord> out;
  auto st = c.base.host.sql(
      "SELECT id, model, status, materialized, row_count, started_at, finished_at, error, tests"
      " FROM dango_model_runs WHERE id IN (SELECT MAX(id) FROM dango_model_runs GROUP BY model)");
  while (st.step()) {
    ModelRunRecord r;
    r.id = st.int64(0);
    r.model = st.text(1);
    r.status = st.text(2);
    r.materialized = st.text(3);
    if (!st.is_null(4)) r.row_count = st.int64(4);
    r.started_at = st.text(5);
    r.finished_at = st.maybe_text(6);
    r.error = st.maybe_text(7);
    r.tests_json = st.maybe_text(8).value_or("[]");
    out[r.model] = std::move(r);
  }
  return out;
}

bool cascade_param(const sdk::Request& rq) {
  auto v = rq.query("cascade");
  if (!v || v->empty()) return true;
  if (*v == "true" || *v == "1") return true;
  if (*v == "false" || *v == "0") return false;
  throw error_reply(400, "DANGO-V001", "cascade must be true or false");
}

}  // namespace

ModelProject current_project(CatalogContext& c) {
  Warehouse& w = c.base.warehouse;
  return load_project(c.settings.dbt_project_dir,
                      [&w](const std::string& layer, const std::string& table) {
                        return w.qualified(layer, table);
                      });
}

void list_models(CatalogContext& c, const sdk::Request&, sdk::Response& rs) {
  ModelProject project = current_project(c);
  auto runs = last_runs(c);
  Json j;
  j.begin().key("models").begin_array();
  for (const auto& m : project.models) {
    auto run = runs.find(m.name);
    j.begin()
        .key("name")
        .str(m.name)
        .key("path")
        .str(m.path)
        .key("schema")
        .str(m.layer)
        .key("relation")
        .str(c.base.warehouse.qualified(m.layer, m.name))
        .key("materialized")
        .str(m.materialized)
        .key("description")
        .str(m.description)
        .key("depends_on")
        .begin_array();
    for (const auto& r : m.refs) j.str(r);
    j.end_array().key("sources").begin_array();
    for (const auto& s : m.sources) j.str(s.source + "." + s.table);
    j.end_array().key("test_count").num(static_cast<int64_t>(m.tests.size()));
    j.key("compile_error").opt(text_or_null(m.error));
    if (run == runs.end()) {
      j.key("status").str("not_run").key("row_count").null().key("last_run").null();
    } else {
      const auto& r = run->second;
      j.key("status").str(r.status).key("row_count").opt(r.row_count).key("last_run");
      j.begin()
          .key("id")
          .num(r.id)
          .key("status")
          .str(r.status)
          .key("materialized")
          .str(r.materialized)
          .key("started_at")
          .str(r.started_at)
          .key("finished_at")
          .opt(r.finished_at)
          .key("row_count")
          .opt(r.row_count)
          .key("error")
          .opt(r.error)
          .key("tests")
          .raw(r.tests_json)
          .end();
    }
    j.end();
  }
  j.end_array()
      .key("total")
      .num(static_cast<int64_t>(project.models.size()))
      .key("project_dir")
      .str(project.dir)
      .key("error")
      .opt(text_or_null(project.error))
      .end();
  rs.json_text(j.text());
}

void run_model(CatalogContext& c, const sdk::Request& rq, sdk::Response& rs) {
  const std::string name = model_param(rq, "name");
  bool cascade = cascade_param(rq);
  ModelProject project = current_project(c);
  if (!project.find(name)) throw detail_reply(404, "Model '" + name + "' not found");
  if (!project.error.empty()) throw error_reply(422, "DANGO-DBT-001", project.error);
  auto models = cascade ? project.downstream(name, true) : std::vector<std::string>{name};
  sdk::TaskRequest task;
  task.kind = kModelRunTask;
  task.payload_json =
      Json().begin().key("model").str(name).key("cascade").flag(cascade).end().text();
  task.max_attempts = 1;
  int64_t task_id = c.base.host.enqueue(task);
  Json j;
  j.begin()
      .key("success")
      .flag(true)
      .key("message")
      .str("Run started for " + name)
      .key("model")
      .str(name)
      .key("cascade")
      .flag(cascade)
      .key("models")
      .begin_array();
  for (const auto& m : models) j.str(m);
  j.end_array().key("task_id").num(task_id).end();
  rs.json_text(j.text(), 202);
}

namespace {

// Builds `names` (in dependency order) as task `t`; a model whose upstream failed is skipped.
std::vector<std::pair<std::string, std::string>> run_in_order(CatalogContext& c,
                                                              const ModelProject& project,
                                                              const std::vector<std::string>& names,
                                                              sdk::TaskContext& t) {
  std::vector<std::pair<std::string, std::string>> out;
  std::set<std::string> broken;
  for (size_t i = 0; i < names.size(); ++i) {
    const Model& m = *project.find(names[i]);
    std::string status;
    bool blocked = std::any_of(m.refs.begin(), m.refs.end(),
                               [&](const std::string& r) { return broken.count(r) > 0; });
    if (blocked) {
      int64_t id = insert_run(c, m, "skipped", t.id());
      finish_run(c, id, "skipped", std::nullopt, "an upstream model failed", "[]");
      status = "skipped";
    } else {
      status = run_one(c, project, m, t.id());
    }
    if (status == "failed" || status == "skipped") broken.insert(m.name);
    out.emplace_back(m.name, status);
    t.progress(static_cast<int>((i + 1) * 100 / names.size()));
  }
  return out;
}

}  // namespace

void run_models_task(CatalogContext& c, sdk::TaskContext& t) {
  rapidjson::Document p = t.payload();
  std::string model = p.HasMember("model") && p["model"].IsString() ? p["model"].GetString() : "";
  bool cascade = !p.HasMember("cascade") || !p["cascade"].IsBool() || p["cascade"].GetBool();
  ModelProject project = current_project(c);
  if (!project.error.empty()) throw std::runtime_error(project.error);
  if (!project.find(model)) throw std::runtime_error("model " + model + " is gone");
  auto names = cascade ? project.downstream(model, true) : std::vector<std::string>{model};
  Json result;
  result.begin().key("models").begin();
  for (const auto& [name, status] : run_in_order(c, project, names, t)) {
    result.key(name).str(status);
  }
  result.end().end();
  t.result(result.text());
}

std::vector<std::pair<std::string, std::string>> run_model_selection(
    CatalogContext& c, const std::vector<std::string>& selected, sdk::TaskContext& t) {
  ModelProject project = current_project(c);
  if (!project.error.empty()) throw std::runtime_error(project.error);
  std::set<std::string> wanted;
  for (const auto& name : selected) {
    if (!project.find(name)) throw std::runtime_error("no model '" + name + "' in the project");
    for (const auto& d : project.downstream(name, true)) wanted.insert(d);
  }
  std::vector<std::string> names;  // project.models is in dependency order
  for (const auto& m : project.models) {
    if (wanted.count(m.name)) names.push_back(m.name);
  }
  return run_in_order(c, project, names, t);
}

}  // namespace dango
