// The engine's step types and graph semantics over real HTTP: http.request and
// slack.send_message against a local stub server, condition branches, parallel branches and
// joins, per-node retries, short and durable delays, and the rag.query / datachat.ask bridges.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <plughost/json.hpp>
#include <string>

#include "lab.hpp"
#include "stub_server.hpp"

namespace automate_test {
namespace {

using plughost::testing::eventually;

// Emits an event of type `type` and returns the single execution it triggered, finished.
rapidjson::Document run_one(Lab& lab, const std::string& type, const std::string& payload,
                            int expected_total = 1) {
  auto r = lab.call("POST", "/api/automate/events/",
                    R"({"type":")" + type + R"(","payload":)" + payload + "}");
  EXPECT_EQ(r.status, 201) << r.body;
  auto list = finished_executions(lab, expected_total);
  std::string event_id = json(r)["event_id"].GetString();
  for (const auto& e : list["results"].GetArray()) {
    if (event_id == e["trigger_event_id"].GetString()) return execution(lab, e["id"].GetString());
  }
  ADD_FAILURE() << "no execution for event " << event_id;
  return rapidjson::Document();
}

std::string workflow(const std::string& type, const std::string& nodes,
                     const std::string& edges = "[]") {
  return R"({"name":")" + type + R"(","trigger_type":"event","trigger_config":{"event_type":")" +
         type + R"("},"graph":{"nodes":)" + nodes + R"(,"edges":)" + edges + "}}";
}

TEST(automate_steps, HttpRequestSendsJsonAndRetriesServerErrors) {
  ScriptedStub stub;
  stub.script("/orders", {{503, "busy"}, {500, "oops"}, {201, R"({"accepted":true,"n":7})"}});
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  lab.create(workflow("call", R"([{"id":"post","type":"http.request","config":{
      "url":")" + stub.url("/orders") +
                                  R"(","headers":{"X-Order":"{{ event.payload.id }}"},
      "json":{"order":"{{ event.payload.id }}","amount":"{{ event.payload.amount }}"},
      "retries":2,"timeout_seconds":5}}])"));
  auto detail = run_one(lab, "call", R"({"id":"ORD-9","amount":12.5})");
  ASSERT_STREQ(detail["status"].GetString(), "SUCCESS") << plughost::sdk::to_json(detail);
  const auto& out = step_of(detail, "post")["output_data"];
  EXPECT_EQ(out["status"].GetInt(), 201);
  EXPECT_EQ(out["attempts"].GetInt(), 3);
  EXPECT_TRUE(out["body"]["accepted"].GetBool());
  auto seen = stub.requests("/orders");
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[2].method, "POST");
  EXPECT_EQ(seen[2].header("x-order"), "ORD-9");
  EXPECT_EQ(seen[2].header("content-type"), "application/json");
  auto sent = json({200, {}, seen[2].body});
  EXPECT_STREQ(sent["order"].GetString(), "ORD-9");
  EXPECT_DOUBLE_EQ(sent["amount"].GetDouble(), 12.5);
}

TEST(automate_steps, FailingStepRetriesWithBackoffThenSucceedsOrGivesUp) {
  ScriptedStub stub;
  stub.script("/flaky", {{500, "first"}, {500, "second"}, {200, R"({"ok":1})"}});
  stub.script("/down", {{500, "always down"}});
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  lab.create(workflow("flaky",
                      R"([{"id":"call","type":"http.request",
      "retry":{"max_attempts":3,"backoff_seconds":0.05,"backoff_multiplier":2},
      "config":{"url":")" +
                          stub.url("/flaky") + R"("}},
      {"id":"after","type":"logging","config":{"message":"got {{ steps.call.output.body.ok }}"}}])",
                      R"([{"source":"call","target":"after"}])"));
  auto detail = run_one(lab, "flaky", "{}");
  ASSERT_STREQ(detail["status"].GetString(), "SUCCESS") << plughost::sdk::to_json(detail);
  const auto& call = step_of(detail, "call");
  EXPECT_EQ(call["attempt"].GetInt(), 3);
  ASSERT_EQ(call["retries"].Size(), 2u);
  EXPECT_STREQ(call["retries"][0]["error"].GetString(), "HTTP 500: first (Retrying...)");
  EXPECT_STREQ(call["retries"][1]["error"].GetString(), "HTTP 500: second (Retrying...)");
  EXPECT_STREQ(step_of(detail, "after")["output_data"]["message"].GetString(), "got 1");
  EXPECT_EQ(stub.requests("/flaky").size(), 3u);

  lab.create(workflow("down", R"([{"id":"call","type":"http.request",
      "retry":{"max_attempts":2,"backoff_seconds":0},"config":{"url":")" +
                                  stub.url("/down") + R"("}}])"));
  auto failed = run_one(lab, "down", "{}", 2);
  EXPECT_STREQ(failed["status"].GetString(), "FAILED");
  EXPECT_STREQ(step_of(failed, "call")["error"].GetString(),
               "Max retries reached. Error: HTTP 500: always down");
  EXPECT_STREQ(failed["error_summary"].GetString(),
               "Step call failed: Max retries reached. Error: HTTP 500: always down");
}

TEST(automate_steps, SlackMessagePostsAnIncomingWebhookPayload) {
  ScriptedStub stub;
  stub.script("/services/T0/B0/xyz", {{200, "ok", "text/plain"}});
  Lab lab(R"({"slack": {"webhook_url": ")" + stub.url("/services/T0/B0/xyz") + R"("}})");
  ASSERT_TRUE(lab.ready()) << lab.output();
  lab.create(workflow("order", R"([{"id":"notify","type":"slack.send_message",
      "config":{"channel":"#orders","message":"New order {{ event.payload.id }}"}}])"));
  auto detail = run_one(lab, "order", R"({"id":"ORD-1"})");
  ASSERT_STREQ(detail["status"].GetString(), "SUCCESS") << plughost::sdk::to_json(detail);
  EXPECT_TRUE(step_of(detail, "notify")["output_data"]["ok"].GetBool());
  auto seen = stub.requests("/services/T0/B0/xyz");
  ASSERT_EQ(seen.size(), 1u);
  auto payload = json({200, {}, seen[0].body});
  EXPECT_STREQ(payload["text"].GetString(), "New order ORD-1");
  EXPECT_STREQ(payload["channel"].GetString(), "#orders");
  EXPECT_EQ(lab.output().find("/services/T0/B0/xyz"), std::string::npos);  // URL never logged
}

// start -> check (condition) -> big (true) | small (false); start -> side; big, small, side ->
// join.
const char* kBranches = R"J([
  {"id":"start","type":"logging","config":{"message":"order {{ event.payload.id }}"}},
  {"id":"check","type":"condition",
   "config":{"expression":"event.payload.amount > 100 and not (event.payload.tier in ['free', 'trial'])"}},
  {"id":"big","type":"transform","config":{"output":{"lane":"priority"}}},
  {"id":"small","type":"transform","config":{"output":{"lane":"standard"}}},
  {"id":"side","type":"transform","config":{"output":{"audit":"{{ event.payload.id }}"}}},
  {"id":"join","type":"logging","config":{"message":"{{ steps.side.output.audit }} done"}}])J";
const char* kBranchEdges = R"([
  {"source":"start","target":"check"},
  {"source":"check","target":"big","condition":"true"},
  {"source":"check","target":"small","condition":false},
  {"source":"start","target":"side"},
  {"source":"big","target":"join"},{"source":"small","target":"join"},{"source":"side","target":"join"}])";

TEST(automate_steps, ConditionPicksABranchAndTheJoinWaitsForAllInputs) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  lab.create(workflow("order", kBranches, kBranchEdges));
  auto big = run_one(lab, "order", R"({"id":"A","amount":250,"tier":"pro"})");
  ASSERT_STREQ(big["status"].GetString(), "SUCCESS") << plughost::sdk::to_json(big);
  EXPECT_TRUE(step_of(big, "check")["output_data"]["result"].GetBool());
  EXPECT_STREQ(step_of(big, "big")["status"].GetString(), "SUCCESS");
  EXPECT_STREQ(step_of(big, "small")["status"].GetString(), "SKIPPED");
  EXPECT_STREQ(step_of(big, "join")["status"].GetString(), "SUCCESS");
  EXPECT_STREQ(step_of(big, "join")["output_data"]["message"].GetString(), "A done");
  // The join ran last: after every one of its inputs settled.
  EXPECT_EQ(std::string(big["steps"][big["steps"].Size() - 1]["node_key"].GetString()), "join");

  auto small = run_one(lab, "order", R"({"id":"B","amount":250,"tier":"free"})", 2);
  EXPECT_FALSE(step_of(small, "check")["output_data"]["result"].GetBool());
  EXPECT_STREQ(step_of(small, "big")["status"].GetString(), "SKIPPED");
  EXPECT_STREQ(step_of(small, "small")["output_data"]["lane"].GetString(), "standard");
  EXPECT_STREQ(step_of(small, "join")["status"].GetString(), "SUCCESS");

  // A condition over a missing key fails the step, naming the key.
  auto missing = run_one(lab, "order", R"({"id":"C","tier":"pro"})", 3);
  EXPECT_STREQ(missing["status"].GetString(), "FAILED");
  EXPECT_NE(std::string(step_of(missing, "check")["error"].GetString())
                .find("missing key 'event.payload.amount'"),
            std::string::npos);
}

TEST(automate_steps, ConditionExpressionsAreCheckedWhenSaved) {
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  expect_validation_error(
      lab.call("POST", kWorkflows,
               workflow("x", R"([{"id":"c","type":"condition","config":{"expression":"1 +"}},
                                 {"id":"d","type":"condition","config":{}},
                                 {"id":"e","type":"logging","retry":{"max_attempts":0}}])",
                        R"([{"source":"c","target":"e","condition":{"x":1}}])")),
      {"graph.nodes[0].config.expression", "graph.nodes[1].config.expression",
       "graph.nodes[2].retry.max_attempts", "graph.edges[0].condition"});
  expect_validation_error(
      lab.call("POST", kWorkflows, workflow("x", R"J([{"id":"c","type":"condition",
                                  "config":{"expression":"__import__('os').system('id')"}}])J")),
      {"graph.nodes[0].config.expression"});
}

// Two stub servers (each serves one connection at a time on its own thread) whose handlers wait
// for each other: both answer {"together": true} only if both calls were in flight at once.
class Rendezvous {
 public:
  StubReply arrive() {
    std::unique_lock<std::mutex> lock(mu_);
    ++arrived_;
    cv_.notify_all();
    bool together = cv_.wait_for(lock, std::chrono::seconds(10), [&] { return arrived_ >= 2; });
    return StubReply(200, std::string(R"({"together":)") + (together ? "true" : "false") + "}");
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
};

TEST(automate_steps, IndependentBranchesRunConcurrently) {
  Rendezvous meet;
  plughost::testing::StubServer left([&](const StubRequest&) { return meet.arrive(); });
  plughost::testing::StubServer right([&](const StubRequest&) { return meet.arrive(); });
  Lab lab;
  ASSERT_TRUE(lab.ready()) << lab.output();
  auto call = [](const std::string& id, const std::string& url) {
    return R"({"id":")" + id + R"(","type":"http.request","config":{"url":")" + url +
           R"(/meet","timeout_seconds":20}})";
  };
  lab.create(workflow("fan", "[" + call("a", left.url()) + "," + call("b", right.url()) + R"(,
      {"id":"join","type":"transform","config":{"output":{
         "a":"{{ steps.a.output.body.together }}","b":"{{ steps.b.output.body.together }}"}}}])",
                      R"([{"source":"a","target":"join"},{"source":"b","target":"join"}])"));
  auto detail = run_one(lab, "fan", "{}");
  ASSERT_STREQ(detail["status"].GetString(), "SUCCESS") << plughost::sdk::to_json(detail);
  EXPECT_TRUE(step_of(detail, "join")["output_data"]["a"].GetBool());
  EXPECT_TRUE(step_of(detail, "join")["output_data"]["b"].GetBool());
}

TEST(automate_steps, ShortDelaysWaitInlineLongOnesParkTheExecution) {
  Lab lab(R"({"engine": {"short_wait_seconds": 0.3}})");
  ASSERT_TRUE(lab.ready()) << lab.output();
  lab.create(workflow(
      "wait", R"([{"id":"pause","type":"delay","config":{"seconds":"{{ event.payload.s }}"}},
      {"id":"after","type":"logging","config":{"message":"waited {{ steps.pause.output.seconds }}"}}])",
      R"([{"source":"pause","target":"after"}])"));
  auto quick = run_one(lab, "wait", R"({"s":0.1})");
  ASSERT_STREQ(quick["status"].GetString(), "SUCCESS") << plughost::sdk::to_json(quick);
  EXPECT_FALSE(step_of(quick, "pause")["output_data"]["deferred"].GetBool());
  EXPECT_STREQ(step_of(quick, "after")["output_data"]["message"].GetString(), "waited 0.1");

  // 1.5 s is over the 0.3 s inline limit: the step parks (WAITING) and the task ends; a delayed
  // continuation task finishes the execution.
  auto r = lab.call("POST", "/api/automate/events/", R"({"type":"wait","payload":{"s":1.5}})");
  ASSERT_EQ(r.status, 201);
  std::string id;
  bool parked = eventually(
      [&] {
        auto list = json(lab.call("GET", executions_path("?status=RUNNING")));
        if (list["count"].GetInt() != 1) return false;
        id = list["results"][0]["id"].GetString();
        auto d = execution(lab, id);
        return d["steps"].Size() == 1 &&
               std::string(d["steps"][0]["status"].GetString()) == "WAITING";
      },
      10);
  ASSERT_TRUE(parked);
  auto list = finished_executions(lab, 2);
  auto slow = execution(lab, id);
  ASSERT_STREQ(slow["status"].GetString(), "SUCCESS") << plughost::sdk::to_json(slow);
  EXPECT_TRUE(step_of(slow, "pause")["output_data"]["deferred"].GetBool());
  EXPECT_STREQ(step_of(slow, "after")["output_data"]["message"].GetString(), "waited 1.5");
}

TEST(automate_steps, LongRetryBackoffParksAndResumesWithTheNextAttempt) {
  ScriptedStub stub;
  stub.script("/later", {{502, "not yet"}, {200, R"({"ok":true})"}});
  Lab lab(R"({"engine": {"short_wait_seconds": 0.3}})");
  ASSERT_TRUE(lab.ready()) << lab.output();
  lab.create(workflow("retry", R"([{"id":"call","type":"http.request",
      "retry":{"max_attempts":2,"backoff_seconds":1},"config":{"url":")" +
                                   stub.url("/later") + R"("}}])"));
  auto r = lab.call("POST", "/api/automate/events/", R"({"type":"retry"})");
  ASSERT_EQ(r.status, 201);
  bool waiting = eventually(
      [&] {
        auto list = json(lab.call("GET", executions_path("?status=RUNNING")));
        if (list["count"].GetInt() != 1) return false;
        auto d = execution(lab, list["results"][0]["id"].GetString());
        return d["steps"].Size() == 1 &&
               std::string(d["steps"][0]["status"].GetString()) == "WAITING";
      },
      10);
  ASSERT_TRUE(waiting);
  auto list = finished_executions(lab, 1);
  auto detail = execution(lab, list["results"][0]["id"].GetString());
  ASSERT_STREQ(detail["status"].GetString(), "SUCCESS") << plughost::sdk::to_json(detail);
  const auto& call = step_of(detail, "call");
  EXPECT_EQ(call["attempt"].GetInt(), 2);
  ASSERT_EQ(call["retries"].Size(), 1u);
  EXPECT_STREQ(call["retries"][0]["error"].GetString(), "HTTP 502: not yet (Retrying...)");
  EXPECT_EQ(stub.requests("/later").size(), 2u);
}

TEST(automate_steps, RagAndDatachatStepsExistOnlyWithTheirConnectors) {
  const std::string nodes = R"([
      {"id":"docs","type":"rag.query","config":{"endpoint":"support","query":"{{ event.payload.q }}",
                                                "top_k":3,"filters":{"category":"support"},
                                                "tenant":"someone-else"}},
      {"id":"ask","type":"datachat.ask","config":{"question":"How many orders?",
                                                  "context":{"tables":["orders"]}}}])";
  {
    Lab without;
    ASSERT_TRUE(without.ready()) << without.output();
    expect_validation_error(without.call("POST", kWorkflows, workflow("q", nodes)),
                            {"graph.nodes[0].type", "graph.nodes[1].type"});
  }
  Lab lab("{}", LabOptions{true});
  ASSERT_TRUE(lab.ready()) << lab.output();
  auto created = lab.call("POST", kWorkflows, workflow("q", nodes), "admin", "acme");
  ASSERT_EQ(created.status, 201) << created.body;
  auto r = lab.call("POST", "/api/automate/events/", R"({"type":"q","payload":{"q":"refunds?"}})",
                    "admin", "acme");
  ASSERT_EQ(r.status, 201);
  auto list = finished_executions(lab, 1, "acme");
  auto detail =
      json(lab.call("GET", executions_path(std::string(list["results"][0]["id"].GetString()) + "/"),
                    {}, "admin", "acme"));
  ASSERT_STREQ(detail["status"].GetString(), "SUCCESS") << plughost::sdk::to_json(detail);
  const auto& rag = step_of(detail, "docs")["output_data"];
  EXPECT_STREQ(rag["results"][0]["id"].GetString(), "doc-1");
  EXPECT_STREQ(rag["asked"]["query"].GetString(), "refunds?");
  EXPECT_STREQ(rag["asked"]["endpoint"].GetString(), "support");
  EXPECT_EQ(rag["asked"]["top_k"].GetInt(), 3);
  EXPECT_STREQ(rag["asked"]["filters"]["category"].GetString(), "support");
  // Always the execution's tenant, whatever the config says.
  EXPECT_EQ(std::string(rag["asked"]["tenant"].GetString()), lab.tenant_header("acme"));
  const auto& chat = step_of(detail, "ask")["output_data"];
  EXPECT_STREQ(chat["answer"].GetString(), "There were 3 orders.");
  EXPECT_STREQ(chat["asked"]["question"].GetString(), "How many orders?");
  EXPECT_STREQ(chat["asked"]["context"]["tables"][0].GetString(), "orders");
  EXPECT_EQ(std::string(chat["asked"]["tenant"].GetString()), lab.tenant_header("acme"));
}

TEST(automate_steps, WorkflowsDeclaredInTheConfigAreCreatedOnceAndRun) {
  Lab lab(R"({"workflows": [
      {"name": "Router", "trigger_type": "event", "trigger_config": {"event_type": "order"},
       "graph": {"nodes": [{"id": "big", "type": "condition",
                            "config": {"expression": "event.payload.amount >= 100"}},
                           {"id": "vip", "type": "logging", "config": {"message": "vip"}}],
                 "edges": [{"source": "big", "target": "vip", "condition": "true"}]}},
      {"name": "Broken", "graph": {"nodes": [{"id": "x", "type": "nope"}]}}]})");
  ASSERT_TRUE(lab.ready()) << lab.output();
  auto list = json(lab.call("GET", kWorkflows));
  ASSERT_EQ(list["count"].GetInt(), 1) << plughost::sdk::to_json(list);
  EXPECT_STREQ(list["results"][0]["slug"].GetString(), "router");
  EXPECT_NE(lab.output().find("workflow 'Broken' in the config is invalid"), std::string::npos);
  auto small = run_one(lab, "order", R"({"amount":5})");
  EXPECT_STREQ(step_of(small, "vip")["status"].GetString(), "SKIPPED");

  // An edited seeded workflow is left alone at the next start.
  std::string id = list["results"][0]["id"].GetString();
  ASSERT_EQ(lab.call("PUT", std::string(kWorkflows) + id + "/", R"({"enabled":false})").status,
            200);
  lab.kill();
  ASSERT_TRUE(lab.start()) << lab.output();
  auto again = json(lab.call("GET", kWorkflows));
  ASSERT_EQ(again["count"].GetInt(), 1);
  EXPECT_FALSE(again["results"][0]["enabled"].GetBool());
}

}  // namespace
}  // namespace automate_test
