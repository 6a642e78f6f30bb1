// The list endpoints' SQL (built by the same functions the routes use) against the schema the
// plugin's migrations made: SQLite's plan must walk an index in the list's order, never sort all
// of a tenant's rows in a temporary B-tree.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "engine.hpp"
#include "events.hpp"
#include "lab.hpp"
#include "workflows.hpp"

namespace automate_test {
namespace {

using automate::ListSql;

// The EXPLAIN QUERY PLAN rows of `sql`, one "detail" per line.
std::string query_plan(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  std::string plan;
  int rc = sqlite3_prepare_v2(db, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &st, nullptr);
  EXPECT_EQ(rc, SQLITE_OK) << sqlite3_errmsg(db) << " in " << sql;
  while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    plan += reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
    plan += "\n";
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return plan;
}

void expect_index_order(const Lab& lab, const ListSql& q, const std::string& index) {
  std::string plan = query_plan(lab.sqlite_path(), automate::page_sql(q, automate::Page{3, 25}));
  EXPECT_NE(plan.find("USING INDEX " + index), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
}

TEST(automate_list_plan, WorkflowListWalksTheCreatedAtIndex) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  const std::string index = "automate_workflows_by_created";
  expect_index_order(lab, automate::workflow_list_sql("-created_at", false, false), index);
  expect_index_order(lab, automate::workflow_list_sql("-created_at", true, false), index);
  expect_index_order(lab, automate::workflow_list_sql("-created_at", true, true), index);
  expect_index_order(lab, automate::workflow_list_sql("created_at", false, false), index);
}

TEST(automate_list_plan, EventAndExecutionListsWalkTheirIndexes) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  expect_index_order(lab, automate::event_list_sql(false, false), "automate_events_by_created");
  expect_index_order(lab, automate::event_list_sql(true, true), "automate_events_by_created");
  const std::string by_created = "automate_executions_by_created";
  expect_index_order(lab, automate::execution_list_sql(false, false, false, false), by_created);
  expect_index_order(lab, automate::execution_list_sql(false, true, true, true), by_created);
  expect_index_order(lab, automate::execution_list_sql(true, false, false, false),
                     "automate_executions_by_workflow");
  expect_index_order(lab, automate::execution_list_sql(true, true, false, false),
                     "automate_executions_by_workflow");
}

// The list answers the seed's summary: no description, trigger_config, graph or graph_hash.
TEST(automate_list_plan, WorkflowListAnswersTheSummaryFieldsOnly) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  auto created = lab.create(R"({"name":"Summary","description":"d","trigger_type":"manual",
    "graph":{"nodes":[{"id":"a","type":"logging","config":{"message":"m"}}]}})");
  auto r = lab.call("GET", kWorkflows);
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = json(r);
  ASSERT_EQ(d["results"].Size(), 1u);
  std::vector<std::string> keys;
  for (const auto& m : d["results"][0].GetObject()) keys.push_back(m.name.GetString());
  EXPECT_EQ(keys, (std::vector<std::string>{"id", "name", "slug", "enabled", "trigger_type",
                                            "workflow_version", "created_at", "updated_at"}));
  const auto& row = d["results"][0];
  EXPECT_STREQ(row["id"].GetString(), created["id"].GetString());
  EXPECT_STREQ(row["slug"].GetString(), "summary");
  EXPECT_FALSE(row["enabled"].IsNull());
  EXPECT_STREQ(row["trigger_type"].GetString(), "manual");
  EXPECT_EQ(row["workflow_version"].GetInt64(), 1);
  EXPECT_STREQ(row["created_at"].GetString(), created["created_at"].GetString());
}

}  // namespace
}  // namespace automate_test
