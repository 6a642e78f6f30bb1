// The engine over real HTTP: stored events run the workflows they trigger as host tasks, along
// the graph's edges, with templates rendered and each step recorded.
#include <gtest/gtest.h>
#include <sodium.h>

#include <plughost/json.hpp>
#include <string>

#include "lab.hpp"
#include "signature.hpp"

namespace automate_test {
namespace {

const char* kStripeConfig = R"({"webhooks": {"stripe": {"secret": "whsec_test"}}})";

// Two steps joined by an edge, listed target first so that only the edge orders them.
const char* kNotifyOrders = R"({
  "name": "Notify Orders", "trigger_type": "webhook",
  "trigger_config": {"source": "stripe", "event_type": "order.created"},
  "graph": {
    "nodes": [
      {"id": "step_2", "type": "transform",
       "config": {"api_key": "sk-live-123",
                  "output": {"order": "{{ event.payload.order_id }}",
                             "amount": "{{ event.payload.amount }}",
                             "said": "{{ steps.step_1.output.message }}",
                             "again": "{{ previous.step_1.logged }}"}}},
      {"id": "step_1", "type": "logging",
       "config": {"message": "Order {{ event.payload.order_id }} from {{ event.type }}"}}],
    "edges": [{"source": "step_1", "target": "step_2"}]}})";

TEST(automate_engine, SignedWebhookRunsTheMatchingWorkflowAlongItsEdges) {
  ASSERT_GE(sodium_init(), 0);
  Lab lab(kStripeConfig);
  ASSERT_TRUE(lab.ready()) << lab.output();
  std::string workflow_id = lab.create(kNotifyOrders)["id"].GetString();
  // Neither of these matches: disabled, or another event type.
  std::string disabled(kNotifyOrders);
  disabled.replace(disabled.find("\"Notify Orders\""), 15, "\"Off\", \"enabled\": false");
  lab.create(disabled);
  lab.create(R"({"name":"Refunds","trigger_type":"webhook",
                 "trigger_config":{"source":"stripe","event_type":"refund.created"}})");

  std::string body =
      R"({"event_type":"order.created","data":{"order_id":"ORD-123","amount":99.99}})";
  auto accepted = lab.call(
      "POST", "/api/automate/webhooks/stripe/", body, "", {},
      {{"X-Webhook-Signature", "sha256=" + automate::webhook_signature("whsec_test", body)},
       {"X-Trace-ID", "trace-e2e"}});
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  std::string event_id = json(accepted)["event_id"].GetString();

  auto list = finished_executions(lab, 1);
  ASSERT_EQ(list["results"].Size(), 1u);
  const auto& summary = list["results"][0];
  EXPECT_STREQ(summary["workflow_id"].GetString(), workflow_id.c_str());
  EXPECT_STREQ(summary["workflow_name"].GetString(), "Notify Orders");
  EXPECT_STREQ(summary["status"].GetString(), "SUCCESS");
  EXPECT_STREQ(summary["trigger_event_id"].GetString(), event_id.c_str());
  EXPECT_STREQ(summary["trace_id"].GetString(), "trace-e2e");

  auto detail =
      json(lab.call("GET", executions_path(std::string(summary["id"].GetString()) + "/")));
  EXPECT_STREQ(detail["context"]["source"].GetString(), "stripe");
  EXPECT_STREQ(detail["context"]["event_type"].GetString(), "order.created");
  EXPECT_TRUE(detail["error_summary"].IsNull());
  const auto& steps = detail["steps"];
  ASSERT_EQ(steps.Size(), 2u);
  EXPECT_STREQ(steps[0]["node_key"].GetString(), "step_1");
  EXPECT_STREQ(steps[0]["output_data"]["message"].GetString(), "Order ORD-123 from order.created");
  EXPECT_STREQ(steps[1]["node_key"].GetString(), "step_2");
  EXPECT_STREQ(steps[1]["status"].GetString(), "SUCCESS");
  const auto& out = steps[1]["output_data"];
  EXPECT_STREQ(out["order"].GetString(), "ORD-123");
  EXPECT_DOUBLE_EQ(out["amount"].GetDouble(), 99.99);  // a whole-string template keeps the type
  EXPECT_STREQ(out["said"].GetString(), "Order ORD-123 from order.created");
  EXPECT_TRUE(out["again"].GetBool());
  EXPECT_STREQ(steps[1]["input_data"]["api_key"].GetString(), "***REDACTED***");
  EXPECT_TRUE(steps[1]["started_at"].IsString());
  EXPECT_TRUE(steps[1]["duration_ms"].IsInt64());

  // Filters and tenant isolation.
  EXPECT_EQ(json(lab.call("GET", executions_path("?status=failed")))["count"].GetInt(), 0);
  EXPECT_EQ(json(lab.call("GET", executions_path("?workflow=" + workflow_id)))["count"].GetInt(),
            1);
  EXPECT_EQ(json(lab.call("GET", executions_path(), {}, "admin", "globex"))["count"].GetInt(), 0);
  EXPECT_EQ(lab.call("GET", executions_path(std::string(summary["id"].GetString()) + "/"), {},
                     "admin", "globex")
                .status,
            404);
  expect_validation_error(lab.call("GET", executions_path("?status=DONE")), {"status"});
}

TEST(automate_engine, MissingTemplateKeyFailsTheStepNamingIt) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  lab.create(R"({"name":"Broken","trigger_type":"event","trigger_config":{"event_type":"ping"},
                 "graph":{"nodes":[{"id":"a","type":"logging","config":{"message":"ok"}},
                                   {"id":"b","type":"transform",
                                    "config":{"output":{"x":"{{ event.payload.nope }}"}}},
                                   {"id":"c","type":"logging","config":{"message":"never"}}],
                          "edges":[{"source":"a","target":"b"},{"source":"b","target":"c"}]}})");
  auto emitted =
      lab.call("POST", "/api/automate/events/", R"({"type":"ping","payload":{"here":1}})");
  ASSERT_EQ(emitted.status, 201) << emitted.body;
  // An event of another type runs nothing.
  ASSERT_EQ(lab.call("POST", "/api/automate/events/", R"({"type":"pong"})").status, 201);

  auto list = finished_executions(lab, 1);
  ASSERT_EQ(list["results"].Size(), 1u);
  EXPECT_STREQ(list["results"][0]["status"].GetString(), "FAILED");
  auto detail = json(
      lab.call("GET", executions_path(std::string(list["results"][0]["id"].GetString()) + "/")));
  ASSERT_TRUE(detail["error_summary"].IsString());
  EXPECT_NE(std::string(detail["error_summary"].GetString()).find("event.payload.nope"),
            std::string::npos);
  const auto& steps = detail["steps"];
  ASSERT_EQ(steps.Size(), 2u);  // c never ran
  EXPECT_STREQ(steps[0]["status"].GetString(), "SUCCESS");
  EXPECT_STREQ(steps[1]["node_key"].GetString(), "b");
  EXPECT_STREQ(steps[1]["status"].GetString(), "FAILED");
  EXPECT_NE(std::string(steps[1]["error"].GetString()).find("missing key 'event.payload.nope'"),
            std::string::npos);

  // A replay is a new execution on the same input and trace id.
  std::string first_id = list["results"][0]["id"].GetString();
  auto replay = lab.call("POST", executions_path(first_id + "/replay/"));
  ASSERT_EQ(replay.status, 202) << replay.body;
  auto queued = json(replay);
  EXPECT_STREQ(queued["message"].GetString(), "Execution queued for replay");
  EXPECT_STREQ(queued["trace_id"].GetString(), detail["trace_id"].GetString());
  EXPECT_NE(queued["execution_id"].GetString(), first_id);
  finished_executions(lab, 2);
  auto again =
      json(lab.call("GET", executions_path(std::string(queued["execution_id"].GetString()) + "/")));
  EXPECT_STREQ(again["status"].GetString(), "FAILED");
  EXPECT_STREQ(again["trigger_event_id"].GetString(), detail["trigger_event_id"].GetString());
  EXPECT_EQ(again["steps"].Size(), 2u);
  EXPECT_EQ(lab.call("POST", executions_path(first_id + "/replay/"), {}, "viewer").status, 403);
  EXPECT_EQ(lab.call("POST", executions_path(first_id + "/replay/"), {}, "admin", "globex").status,
            404);
}

}  // namespace
}  // namespace automate_test
