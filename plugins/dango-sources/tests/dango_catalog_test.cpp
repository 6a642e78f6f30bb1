// Catalog, monitoring and agent routes over HTTP against the real host and SQLite warehouse: the
// fixture project (tests/fixtures/dbt_shop) built from two CSV sources, then its lineage DAG,
// impact trees, model and source details, search, column profiles computed by a task, metric
// checks after a sync that changes row count and NULL share, the catalog summary and the tools
// generated from the host's OpenAPI document.
#include <gtest/gtest.h>

#include <plughost/json.hpp>
#include <set>

#include "lab.hpp"

namespace {

using namespace dango_test;
using plughost::sdk::to_json;

const std::string kShop = DANGO_FIXTURES_DIR "/dbt_shop";

// Runs `model` and waits until its last run (newer than `after`) finished; returns that run id.
int64_t run_and_wait(Lab& lab, const std::string& model, const std::string& query,
                     int64_t after = 0) {
  auto r = lab.post("/api/dbt/models/" + model + "/run" + query, "");
  EXPECT_EQ(r.status, 202) << r.body;
  const std::string last = json(r)["models"][json(r)["models"].Size() - 1].GetString();
  int64_t id = 0;
  eventually(
      [&] {
        auto list = json(lab.get("/api/dbt/models"));
        for (const auto& m : list["models"].GetArray()) {
          if (last != m["name"].GetString() || m["last_run"].IsNull()) continue;
          const auto& run = m["last_run"];
          if (run["id"].GetInt64() > after && std::string(run["status"].GetString()) != "running")
            id = run["id"].GetInt64();
        }
        return id > 0;
      },
      30);
  return id;
}

std::set<std::string> strings(const rapidjson::Value& list) {
  std::set<std::string> out;
  for (const auto& v : list.GetArray()) out.insert(v.GetString());
  return out;
}

class dango_catalog : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    lab_ = new Lab(LabSetup("[{name: customers, type: csv}, {name: orders, type: csv}]", false,
                            "dbt: {project_dir: \"" + kShop + "\"}"));
    ASSERT_TRUE(lab_->ready()) << lab_->host().output();
    write_text(lab_->folder("customers") + "/c.csv",
               "id,email,country\n1,ada@example.com,UK\n2,grace@example.org,US\n"
               "3,alan@example.net,UK\n");
    write_text(lab_->folder("orders") + "/o.csv",
               "order_id,customer_id,amount,status\n10,1,5,placed\n11,1,7,shipped\n"
               "12,2,9,returned\n13,3,4,placed\n");
    ASSERT_EQ(lab_->sync_and_wait("customers"), "success");
    ASSERT_EQ(lab_->sync_and_wait("orders"), "success");
    int64_t id = run_and_wait(*lab_, "stg_orders", "?cascade=false");
    run_and_wait(*lab_, "stg_customers", "", id);
  }
  static void TearDownTestSuite() {
    delete lab_;
    lab_ = nullptr;
  }
  static Lab* lab_;
};
Lab* dango_catalog::lab_ = nullptr;

TEST_F(dango_catalog, LineageIsTheRealDag) {
  auto g = json(lab_->get("/api/catalog/lineage"));
  ASSERT_TRUE(g["error"].IsNull());
  std::set<std::string> nodes;
  for (const auto& n : g["nodes"].GetArray()) nodes.insert(n["id"].GetString());
  EXPECT_EQ(nodes, (std::set<std::string>{"source.customers.customers", "source.orders.orders",
                                          "model.stg_customers", "model.stg_orders",
                                          "model.int_customer_orders", "model.customer_metrics",
                                          "model.country_summary"}));
  std::set<std::string> edges;
  for (const auto& e : g["edges"].GetArray()) {
    edges.insert(std::string(e["from"].GetString()) + ">" + e["to"].GetString());
  }
  EXPECT_EQ(edges, (std::set<std::string>{"source.customers.customers>model.stg_customers",
                                          "source.orders.orders>model.stg_orders",
                                          "model.stg_customers>model.int_customer_orders",
                                          "model.stg_orders>model.int_customer_orders",
                                          "model.int_customer_orders>model.customer_metrics",
                                          "model.customer_metrics>model.country_summary"}));
  EXPECT_EQ(g["edge_count"].GetInt64(), 6);
}

TEST_F(dango_catalog, ImpactIsTheDownstreamTree) {
  auto i = json(lab_->get("/api/catalog/impact/stg_customers"));
  ASSERT_EQ(i["downstream"].Size(), 1u) << to_json(i);
  const auto& first = i["downstream"][0];
  EXPECT_STREQ(first["name"].GetString(), "int_customer_orders");
  EXPECT_EQ(first["depth"].GetInt64(), 1);
  EXPECT_STREQ(first["children"][0]["name"].GetString(), "customer_metrics");
  EXPECT_STREQ(first["children"][0]["children"][0]["name"].GetString(), "country_summary");
  EXPECT_EQ(first["children"][0]["children"][0]["depth"].GetInt64(), 3);
  EXPECT_EQ(i["affected_count"].GetInt64(), 3);

  auto leaf = json(lab_->get("/api/catalog/impact/country_summary"));
  EXPECT_EQ(leaf["affected_count"].GetInt64(), 0);

  auto source = json(lab_->get("/api/catalog/impact/orders"));
  EXPECT_STREQ(source["type"].GetString(), "source");
  EXPECT_EQ(strings(source["affected_models"]),
            (std::set<std::string>{"stg_orders", "int_customer_orders", "customer_metrics",
                                   "country_summary"}));
  EXPECT_EQ(lab_->get("/api/catalog/impact/nothing").status, 404);
}

TEST_F(dango_catalog, ModelsAndSourcesWithDetails) {
  auto all = json(lab_->get("/api/catalog/models"));
  EXPECT_EQ(all["summary"]["model_count"].GetInt64(), 5);
  EXPECT_EQ(all["summary"]["source_count"].GetInt64(), 2);
  EXPECT_EQ(all["summary"]["table_count"].GetInt64(), 2);
  EXPECT_EQ(all["summary"]["test_count"].GetInt64(), 8);
  for (const auto& m : all["models"].GetArray()) EXPECT_TRUE(m["built"].GetBool());

  auto m = json(lab_->get("/api/catalog/models/customer_metrics"));
  EXPECT_STREQ(m["materialized"].GetString(), "table");
  EXPECT_NE(std::string(m["raw_sql"].GetString()).find("{{ ref('int_customer_orders') }}"),
            std::string::npos);
  EXPECT_NE(std::string(m["compiled_sql"].GetString()).find("\"marts__int_customer_orders\""),
            std::string::npos);
  std::set<std::string> columns;
  for (const auto& c : m["columns"].GetArray()) columns.insert(c["name"].GetString());
  EXPECT_EQ(columns,
            (std::set<std::string>{"customer_id", "country", "order_count", "total_amount"}));
  EXPECT_EQ(m["tests"].Size(), 2u);
  EXPECT_EQ(strings(m["depends_on"]["models"]), (std::set<std::string>{"int_customer_orders"}));
  EXPECT_EQ(strings(m["referenced_by"]), (std::set<std::string>{"country_summary"}));

  auto s = json(lab_->get("/api/catalog/models/customers"));
  EXPECT_STREQ(s["type"].GetString(), "source");
  ASSERT_EQ(s["tables"].Size(), 1u);
  EXPECT_EQ(s["tables"][0]["row_count"].GetInt64(), 3);
  EXPECT_EQ(strings(s["tables"][0]["referenced_by"]), (std::set<std::string>{"stg_customers"}));
  EXPECT_EQ(lab_->get("/api/catalog/models/nothing").status, 404);
}

TEST_F(dango_catalog, SearchCoversNamesDescriptionsAndColumns) {
  auto r = json(lab_->get("/api/catalog/search?q=Revenue"));
  std::set<std::string> hits;
  for (const auto& h : r["results"].GetArray()) {
    hits.insert(std::string(h["type"].GetString()) + ":" + h["name"].GetString() + ":" +
                h["matched"].GetString());
  }
  EXPECT_TRUE(hits.count("model:customer_metrics:description")) << to_json(r);
  EXPECT_TRUE(hits.count("model:country_summary:description"));
  EXPECT_TRUE(hits.count("column:country_summary:column"));
  auto e = json(lab_->get("/api/catalog/search?q=email"));
  hits.clear();
  for (const auto& h : e["results"].GetArray()) {
    hits.insert(std::string(h["type"].GetString()) + ":" + h["name"].GetString());
  }
  EXPECT_TRUE(hits.count("column:customers.customers"));
  EXPECT_TRUE(hits.count("column:stg_customers"));
  EXPECT_FALSE(hits.count("column:stg_orders"));
  EXPECT_EQ(lab_->get("/api/catalog/search").status, 422);
}

TEST_F(dango_catalog, ColumnsCarryTheProfileComputedByTheTask) {
  auto before = json(lab_->get("/api/catalog/customers/customers/columns"));
  ASSERT_TRUE(before["columns"].IsArray()) << to_json(before);
  std::map<std::string, const rapidjson::Value*> cols;
  for (const auto& c : before["columns"].GetArray()) cols[c["name"].GetString()] = &c;
  ASSERT_TRUE(cols.count("email"));
  EXPECT_STREQ((*cols["email"])["type"].GetString(), "TEXT");
  EXPECT_TRUE((*cols["email"])["nullable"].GetBool());
  EXPECT_STREQ((*cols["email"])["pii_type"].GetString(), "email");
  EXPECT_TRUE((*cols["email"])["profile"].IsNull());

  auto started = lab_->post("/api/catalog/customers/customers/profile", "");
  ASSERT_EQ(started.status, 202) << started.body;
  rapidjson::Document after;
  ASSERT_TRUE(eventually(
      [&] {
        after = json(lab_->get("/api/catalog/customers/customers/columns"));
        return !after["profiled_at"].IsNull();
      },
      20));
  EXPECT_EQ(after["row_count"].GetInt64(), 3);
  for (const auto& c : after["columns"].GetArray()) {
    const std::string name = c["name"].GetString();
    const auto& p = c["profile"];
    if (name == "country") {
      EXPECT_EQ(p["distinct_count"].GetInt64(), 2);
      EXPECT_EQ(p["null_count"].GetInt64(), 0);
      EXPECT_STREQ(p["top_values"][0]["value"].GetString(), "UK");
      EXPECT_EQ(p["top_values"][0]["count"].GetInt64(), 2);
      EXPECT_STREQ(p["min"].GetString(), "UK");
      EXPECT_STREQ(p["max"].GetString(), "US");
    }
    if (name == "id") {
      EXPECT_STREQ(p["min"].GetString(), "1");
      EXPECT_STREQ(p["max"].GetString(), "3");
      EXPECT_DOUBLE_EQ(p["null_pct"].GetDouble(), 0.0);
    }
  }
  // A model's table in a model layer, and the errors.
  auto mart = lab_->get("/api/catalog/marts/customer_metrics/columns");
  EXPECT_EQ(mart.status, 200) << mart.body;
  EXPECT_EQ(json(mart)["columns"].Size(), 4u);
  EXPECT_EQ(lab_->get("/api/catalog/customers/nothing/columns").status, 404);
  EXPECT_EQ(lab_->get("/api/catalog/nobody/customers/columns").status, 404);
  EXPECT_EQ(lab_->post("/api/catalog/customers/nothing/profile", "").status, 404);
}

TEST_F(dango_catalog, MonitoringChecksRowCountNullShareAndFreshness) {
  auto empty = json(lab_->get("/api/monitoring"));
  EXPECT_TRUE(empty["run_at"].IsNull());
  EXPECT_EQ(empty["results"].Size(), 0u);
  // New rows with no country: rows 3 → 8, the NULL share of country 0 → 5/8.
  write_text(lab_->folder("customers") + "/more.csv",
             "id,email,country\n4,a@x.io,\n5,b@x.io,\n6,c@x.io,\n7,d@x.io,\n8,e@x.io,\n");
  ASSERT_EQ(lab_->sync_and_wait("customers"), "success");
  auto started = lab_->post("/api/monitoring/run", "");
  ASSERT_EQ(started.status, 202) << started.body;
  rapidjson::Document m;
  ASSERT_TRUE(eventually(
      [&] {
        m = json(lab_->get("/api/monitoring"));
        return !m["run_at"].IsNull();
      },
      20));
  std::map<std::string, const rapidjson::Value*> checks;
  for (const auto& c : m["results"].GetArray()) {
    std::string key = std::string(c["source"].GetString()) + "/" + c["metric"].GetString();
    if (c["column"].IsString()) key += "/" + std::string(c["column"].GetString());
    checks[key] = &c;
  }
  ASSERT_TRUE(checks.count("customers/row_count_change")) << to_json(m);
  EXPECT_STREQ((*checks["customers/row_count_change"])["status"].GetString(), "warning");
  EXPECT_DOUBLE_EQ((*checks["customers/row_count_change"])["previous"].GetDouble(), 3);
  EXPECT_DOUBLE_EQ((*checks["customers/row_count_change"])["current"].GetDouble(), 8);
  ASSERT_TRUE(checks.count("customers/null_rate_change/country"));
  EXPECT_DOUBLE_EQ((*checks["customers/null_rate_change/country"])["current"].GetDouble(), 0.625);
  EXPECT_FALSE(checks.count("customers/null_rate_change/email"));
  EXPECT_STREQ((*checks["customers/freshness"])["status"].GetString(), "ok");
  EXPECT_STREQ((*checks["orders/freshness"])["status"].GetString(), "ok");
  EXPECT_FALSE(checks.count("orders/row_count_change"));  // one measurement only
  EXPECT_GE(m["summary"]["warning"].GetInt64(), 2);

  auto h = json(lab_->get("/api/monitoring/history?days=1&source=customers"));
  ASSERT_EQ(h["count"].GetInt64(), 2);
  EXPECT_EQ(h["history"][0]["row_count"].GetInt64(), 3);
  EXPECT_EQ(h["history"][1]["row_count"].GetInt64(), 8);
  auto rows_only = json(lab_->get("/api/monitoring/history?metric=row_count"));
  EXPECT_FALSE(rows_only["history"][0].HasMember("null_rates"));
  EXPECT_EQ(lab_->get("/api/monitoring/history?days=soon").status, 400);
  EXPECT_EQ(lab_->post("/api/monitoring/run?source=nobody", "").status, 404);
}

TEST_F(dango_catalog, SummaryAndToolsForAgents) {
  auto s = json(lab_->get("/api/catalog/summary"));
  EXPECT_FALSE(s["restricted"].GetBool());  // auth off: every permission
  ASSERT_EQ(s["sources"].Size(), 2u);
  EXPECT_STREQ(s["sources"][0]["freshness"]["status"].GetString(), "fresh");
  EXPECT_TRUE(s["sources"][0]["quality"]["pii_columns"].IsArray());
  EXPECT_EQ(s["models"].Size(), 5u);

  auto openapi = json(lab_->get("/openapi.json"));
  size_t operations = 0;
  for (const auto& p : openapi["paths"].GetObject()) operations += p.value.MemberCount();
  auto tools = json(lab_->get("/api/tools"));
  EXPECT_EQ(tools["total"].GetInt64(), static_cast<int64_t>(operations));
  const rapidjson::Value* details = nullptr;
  const rapidjson::Value* accept = nullptr;
  for (const auto& t : tools["tools"].GetArray()) {
    std::string path = t["path"].GetString();
    if (path == "/api/sources/{name}/details") details = &t;
    if (path == "/api/governance/drift/{source}/accept") accept = &t;
  }
  ASSERT_TRUE(details) << to_json(tools);
  EXPECT_STREQ((*details)["method"].GetString(), "GET");
  EXPECT_STREQ((*details)["parameters"]["type"].GetString(), "object");
  EXPECT_TRUE((*details)["parameters"]["properties"].HasMember("name"));
  EXPECT_STREQ((*details)["parameters"]["required"][0].GetString(), "name");
  EXPECT_FALSE(std::string((*details)["name"].GetString()).empty());
  ASSERT_TRUE(accept);
  EXPECT_STREQ((*accept)["permission"].GetString(), "governance.manage");
  EXPECT_STREQ((*accept)["plugin"].GetString(), "dango-sources");
  auto only = json(lab_->get("/api/tools?plugin=dango_test_source"));
  EXPECT_GT(only["total"].GetInt64(), 0);
  EXPECT_LT(only["total"].GetInt64(), tools["total"].GetInt64());
}

}  // namespace
