// The automate-workflow plugin over real HTTP: the plughost binary loads the plugin and a test
// authenticator ("Bearer <role>") on a fresh SQLite file per test.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <regex>
#include <string>

#include "lab.hpp"

namespace automate_test {
namespace {

using plughost::testing::http;
using plughost::testing::json;

const char* kOrderProcessor = R"({
  "name": "Order Processor", "description": "Process incoming orders", "enabled": true,
  "trigger_type": "webhook", "trigger_config": {"event_type": "order.created"},
  "graph": {"nodes": [{"id": "step_1", "type": "logging",
                       "config": {"message": "Order received: {{ event.payload.order_id }}"}}]}})";

TEST(automate_workflows, CreateGetUpdateDeleteKeepsPriorVersions) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  auto created = lab.create(kOrderProcessor);
  std::string id = created["id"].GetString();
  EXPECT_TRUE(std::regex_match(
      id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  EXPECT_STREQ(created["slug"].GetString(), "order-processor");
  EXPECT_EQ(created["workflow_version"].GetInt(), 1);
  EXPECT_EQ(created["graph"]["edges"].Size(), 0u);
  EXPECT_EQ(created["graph_hash"].GetStringLength(), 64u);

  auto got = lab.call("GET", kWorkflows + id + "/");
  ASSERT_EQ(got.status, 200);
  EXPECT_STREQ(json(got)["trigger_config"]["event_type"].GetString(), "order.created");

  auto put = lab.call("PUT", kWorkflows + id + "/", R"({"name":"Updated Name","enabled":false})");
  ASSERT_EQ(put.status, 200) << put.body;
  auto updated = json(put);
  EXPECT_STREQ(updated["name"].GetString(), "Updated Name");
  EXPECT_FALSE(updated["enabled"].GetBool());
  EXPECT_STREQ(updated["description"].GetString(), "Process incoming orders");
  EXPECT_STREQ(updated["slug"].GetString(), "order-processor");
  EXPECT_EQ(updated["workflow_version"].GetInt(), 2);

  auto versions = json(lab.call("GET", kWorkflows + id + "/versions/"));
  ASSERT_EQ(versions.Size(), 1u);
  EXPECT_EQ(versions[0]["workflow_version"].GetInt(), 1);
  EXPECT_STREQ(versions[0]["snapshot"]["name"].GetString(), "Order Processor");

  EXPECT_EQ(lab.call("DELETE", kWorkflows + id + "/").status, 204);
  auto gone = lab.call("GET", kWorkflows + id + "/");
  ASSERT_EQ(gone.status, 404);
  EXPECT_STREQ(json(gone)["error"]["code"].GetString(), "NOT_FOUND");
  EXPECT_EQ(lab.call("DELETE", kWorkflows + id + "/").status, 404);
}

TEST(automate_workflows, SlugClashesGetSuffixesAndDuplicateExplicitSlugIsRejected) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  EXPECT_STREQ(lab.create(named("My Flow"))["slug"].GetString(), "my-flow");
  EXPECT_STREQ(lab.create(named("My Flow"))["slug"].GetString(), "my-flow-1");
  EXPECT_STREQ(lab.create(named("my  flow!"))["slug"].GetString(), "my-flow-2");
  expect_validation_error(lab.call("POST", kWorkflows, R"({"name":"x","slug":"my-flow"})"),
                          {"slug"});
  auto other = lab.create(R"({"name":"Other","slug":"other"})");
  expect_validation_error(lab.call("PUT", kWorkflows + std::string(other["id"].GetString()) + "/",
                                   R"({"slug":"my-flow-1"})"),
                          {"slug"});
}

TEST(automate_workflows, InvalidBodiesAnswerValidationErrorPerField) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  expect_validation_error(lab.call("POST", kWorkflows, R"({"trigger_type":"sometimes"})"),
                          {"name", "trigger_type"});
  expect_validation_error(
      lab.call("POST", kWorkflows,
               R"({"name":"g","graph":{"nodes":[{"id":"a","type":"logging"},
                   {"id":"a","type":"no.such.step"},{"id":"b"}],
                   "edges":[{"source":"a","target":"ghost"}]}})"),
      {"graph.nodes[1].id", "graph.nodes[1].type", "graph.nodes[2].type", "graph.edges[0].target"});
  expect_validation_error(lab.call("POST", kWorkflows,
                                   R"({"name":"loop","graph":{"nodes":[{"id":"a","type":"logging"},
                   {"id":"b","type":"transform"}],"edges":[{"source":"a","target":"b"},
                   {"source":"b","target":"a"}]}})"),
                          {"graph.edges"});
  auto bad_json = lab.call("POST", kWorkflows, "{not json");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(json(lab.call("GET", kWorkflows))["count"].GetInt(), 0);
}

TEST(automate_workflows, ListPaginatesAndClampsPageSize) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  for (int i = 0; i < 101; ++i) lab.create(named("flow " + std::to_string(i)));
  auto first = json(lab.call("GET", std::string(kWorkflows) + "?page_size=1000"));
  EXPECT_EQ(first["count"].GetInt(), 101);
  EXPECT_EQ(first["results"].Size(), 100u);
  EXPECT_STREQ(first["next"].GetString(), "/api/automate/workflows/?page=2&page_size=1000");
  EXPECT_TRUE(first["previous"].IsNull());
  auto last = json(lab.call("GET", std::string(kWorkflows) + "?page=2&page_size=1000"));
  EXPECT_EQ(last["results"].Size(), 1u);
  EXPECT_TRUE(last["next"].IsNull());
  EXPECT_STREQ(last["previous"].GetString(), "/api/automate/workflows/?page=1&page_size=1000");
  // Newest first by default: the last one created leads.
  EXPECT_STREQ(first["results"][0]["name"].GetString(), "flow 100");
  EXPECT_EQ(json(lab.call("GET", kWorkflows))["results"].Size(), 25u);
  expect_validation_error(lab.call("GET", std::string(kWorkflows) + "?page=0"), {"page"});
  expect_validation_error(lab.call("GET", std::string(kWorkflows) + "?page_size=abc"),
                          {"page_size"});
}

TEST(automate_workflows, ListFiltersByEnabledSearchAndOrders) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  lab.create(R"({"name":"Beta Sync","enabled":false})");
  lab.create(named("Alpha Orders"));
  lab.create(named("Gamma Orders"));
  auto disabled = json(lab.call("GET", std::string(kWorkflows) + "?enabled=false"));
  ASSERT_EQ(disabled["count"].GetInt(), 1);
  EXPECT_STREQ(disabled["results"][0]["slug"].GetString(), "beta-sync");
  auto orders = json(lab.call("GET", std::string(kWorkflows) + "?search=ORDERS&ordering=name"));
  ASSERT_EQ(orders["count"].GetInt(), 2);
  EXPECT_STREQ(orders["results"][0]["name"].GetString(), "Alpha Orders");
  auto desc = json(lab.call("GET", std::string(kWorkflows) + "?ordering=-name"));
  EXPECT_STREQ(desc["results"][0]["name"].GetString(), "Gamma Orders");
  expect_validation_error(lab.call("GET", std::string(kWorkflows) + "?ordering=secret"),
                          {"ordering"});
  expect_validation_error(lab.call("GET", std::string(kWorkflows) + "?enabled=maybe"), {"enabled"});
}

TEST(automate_workflows, TenantsSeeOnlyTheirOwnWorkflows) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  auto a = lab.create(named("Shared Name"), "acme");
  std::string path = kWorkflows + std::string(a["id"].GetString()) + "/";
  EXPECT_EQ(lab.call("GET", path, {}, "admin", "acme").status, 200);
  EXPECT_EQ(lab.call("GET", path, {}, "admin", "globex").status, 404);
  EXPECT_EQ(lab.call("GET", path).status, 404);  // the "default" tenant
  EXPECT_EQ(lab.call("PUT", path, named("stolen"), "admin", "globex").status, 404);
  EXPECT_EQ(lab.call("DELETE", path, {}, "admin", "globex").status, 404);
  EXPECT_EQ(json(lab.call("GET", kWorkflows, {}, "admin", "globex"))["count"].GetInt(), 0);
  EXPECT_STREQ(lab.create(named("Shared Name"), "globex")["slug"].GetString(), "shared-name");
}

TEST(automate_workflows, ReadsNeedWorkflowsReadAndWritesWorkflowsWrite) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  EXPECT_EQ(lab.call("GET", kWorkflows, {}, "").status, 401);
  EXPECT_EQ(lab.call("GET", kWorkflows, {}, "viewer").status, 200);
  EXPECT_EQ(lab.call("POST", kWorkflows, named("v"), "viewer").status, 403);
  EXPECT_EQ(lab.call("POST", kWorkflows, named("e"), "editor").status, 201);
  EXPECT_EQ(json(lab.call("GET", kWorkflows, {}, "viewer"))["count"].GetInt(), 1);
}

TEST(automate_workflows, SchemaPathsServeTheHostsOpenApiDocument) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  auto doc = http(lab.port(), "GET", "/api/schema/", {}, "");
  ASSERT_EQ(doc.status, 200);
  auto d = json(doc);
  ASSERT_TRUE(d.IsObject());
  EXPECT_STREQ(d["openapi"].GetString(), "3.0.3");
  EXPECT_TRUE(d["paths"].HasMember("/api/automate/workflows/{id}/"));
  EXPECT_EQ(doc.body, http(lab.port(), "GET", "/openapi.json", {}, "").body);
  auto ui = http(lab.port(), "GET", "/api/schema/swagger-ui/", {}, "");
  EXPECT_EQ(ui.status, 302);
  EXPECT_EQ(ui.header("location"), "/api/docs");
  EXPECT_EQ(http(lab.port(), "GET", "/api/schema/redoc/", {}, "").header("location"), "/api/redoc");
}

}  // namespace
}  // namespace automate_test
