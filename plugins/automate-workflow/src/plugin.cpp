// The automate-workflow plugin: the automate API's workflows (CRUD, validated graphs, versions),
// webhooks and events, executions, and the step connectors its engine runs. Every route, task
// and connector it offers is listed here.
#include <sodium.h>

#include <plughost/plugin.hpp>

#include "engine.hpp"
#include "events.hpp"
#include "idempotency.hpp"
#include "schema.hpp"
#include "steps.hpp"
#include "workflows.hpp"

namespace automate {

using plughost::sdk::RouteSpec;

class AutomatePlugin : public plughost::sdk::Plugin {
  void init() override {
    if (sodium_init() < 0) throw plughost::sdk::Error(PH_ERR_INTERNAL, "libsodium failed to start");
    read_settings();
    migration("0001_initial", kSchemaV1);
    migration("0002_execution_inputs", kSchemaV2);
    migration("0003_retries_waits_request_keys", kSchemaV3);
    migration("0004_list_order_indexes", kSchemaV4);

    task(kRunExecutionTask, "Runs one workflow execution along its graph",
         [this](plughost::sdk::TaskContext& t) { run_execution(services(), engine_, t); });
    task("purge_request_keys", "Deletes expired X-Request-ID answers",
         [this](plughost::sdk::TaskContext&) { purge_expired_request_keys(services()); });
    schedule("automate-workflow.purge_request_keys", "@hourly",
             "automate-workflow/purge_request_keys");
    for (const char* outcome : {"task.failed", "task.cancelled", "task.timed_out"}) {
      subscribe(outcome, [this](std::string_view, std::string_view task_json) {
        fail_abandoned_execution(services(), task_json);
      });
    }
    // `plughost check` inits plugins without storage: nothing to recover or seed then.
    const bool has_storage = !dialect().empty();
    if (has_storage) requeue_pending_executions(services());

    step("logging", "Logs a rendered message", run_logging_step);
    step("transform", "Builds a JSON object from templates", run_transform_step);
    step("condition", "Evaluates an expression; edges follow its branch (true/false)",
         run_condition_step);
    step("delay", "Waits; long waits park the execution durably", run_delay_step);
    step("http.request", "Calls an HTTP endpoint (libcurl; timeout, retries)",
         run_http_request_step);
    step("slack.send_message", "Posts to the configured Slack incoming webhook",
         [this](std::string_view in) { return run_slack_step(in, slack_url_, slack_timeout_); });
    step(kRagQueryStep, "Queries a RAG endpoint (connector retriever/rag)",
         [this](std::string_view in) { return run_rag_query_step(services(), in); });
    step(kDatachatAskStep, "Asks DataChat a question (connector datachat/datachat)",
         [this](std::string_view in) { return run_datachat_ask_step(services(), in); });
    // Our own step connectors are not listed until init returns: name them for the check.
    auto step_types = available_step_types(services());
    for (const auto& name : own_steps_) {
      if (name != kRagQueryStep && name != kDatachatAskStep) step_types.insert(name);
    }
    if (has_storage && config().HasMember("workflows")) {
      seed_workflows(services(), config()["workflows"], step_types);
    }

    serve("GET", "/api/automate/workflows/", "List workflows", "workflows.read", list_workflows);
    mutate("POST", "/api/automate/workflows/", "Create a workflow", "workflows.write",
           create_workflow);
    serve("GET", "/api/automate/workflows/:id/", "Get a workflow", "workflows.read", get_workflow);
    mutate("PUT", "/api/automate/workflows/:id/", "Update a workflow (partial; new version)",
           "workflows.write", update_workflow);
    mutate("DELETE", "/api/automate/workflows/:id/", "Delete a workflow", "workflows.write",
           delete_workflow);
    serve("GET", "/api/automate/workflows/:id/versions/", "Prior versions of a workflow",
          "workflows.read", list_workflow_versions);
    route(RouteSpec{"POST",
                    "/api/automate/webhooks/:source/",
                    "Ingest a signed webhook event (HMAC-SHA256 of the body)",
                    "public",
                    {},
                    {},
                    {},
                    PH_ROUTE_CSRF_EXEMPT},
          [this](const Request& rq, Response& rs) {
            answer_idempotently(services(), idempotency_, rq, rs,
                                [&] { return ingest_webhook(services(), events_, rq); });
          });
    mutate("POST", "/api/automate/events/", "Emit an event (dedupe_key makes it idempotent)",
           "events.write", emit_event);
    serve("GET", "/api/automate/events/", "List stored events", "events.read", list_events);
    serve("GET", "/api/automate/executions/", "List executions", "workflows.read", list_executions);
    serve("GET", "/api/automate/executions/:id/", "Get an execution with its steps",
          "workflows.read", get_execution);
    mutate("POST", "/api/automate/executions/:id/replay/",
           "Run an execution again on the same input and trace id", "workflows.write",
           replay_execution);

    // The seed's schema paths: the host's own OpenAPI document (the whole host's, this API's
    // routes included) and its Swagger UI and ReDoc pages.
    route(
        RouteSpec{
            "GET", "/api/schema/", "OpenAPI 3.0 document of the host", "public", {}, {}, {}, 0},
        [this](const Request&, Response& rs) {
          rs.content_type("application/json");
          rs.status(200).body(describe_host("openapi"));
        });
    for (auto [path, target] : {std::pair{"/api/schema/swagger-ui/", "/api/docs"},
                                std::pair{"/api/schema/redoc/", "/api/redoc"}}) {
      route(
          RouteSpec{
              "GET", path, "Interactive API documentation (redirect)", "public", {}, {}, {}, 0},
          [target = std::string(target)](const Request&, Response& rs) {
            rs.header("Location", target);
            rs.status(302).body("");
          });
    }
  }

  void read_settings() {
    const auto& c = config();
    events_.webhook_secrets = read_webhook_secrets(c);
    auto number = [&](const char* section, const char* key, double fallback) {
      if (!c.HasMember(section) || !c[section].IsObject() || !c[section].HasMember(key) ||
          !c[section][key].IsNumber()) {
        return fallback;
      }
      return c[section][key].GetDouble();
    };
    if (c.HasMember("slack") && c["slack"].IsObject() && c["slack"].HasMember("webhook_url") &&
        c["slack"]["webhook_url"].IsString()) {
      slack_url_ = c["slack"]["webhook_url"].GetString();
    }
    slack_timeout_ = number("slack", "timeout_seconds", 10);
    engine_.short_wait_seconds = number("engine", "short_wait_seconds", 5);
    engine_.max_parallel_steps = static_cast<int>(number("engine", "max_parallel_steps", 4));
    idempotency_.ttl_seconds = number("idempotency", "ttl_seconds", 86400);
  }

  using Handler = void (*)(const Services&, const Request&, Response&);
  void serve(const char* method, const char* path, const char* summary, const char* permission,
             Handler handler) {
    route(RouteSpec{method, path, summary, permission, {}, {}, {}, 0},
          [this, handler](const Request& rq, Response& rs) { handler(services(), rq, rs); });
  }

  // A mutation: X-Request-ID makes it idempotent.
  using Mutation = Reply (*)(const Services&, const Request&);
  void mutate(const char* method, const char* path, const char* summary, const char* permission,
              Mutation handler) {
    route(RouteSpec{method, path, summary, permission, {}, {}, {}, 0},
          [this, handler](const Request& rq, Response& rs) {
            answer_idempotently(services(), idempotency_, rq, rs,
                                [&] { return handler(services(), rq); });
          });
  }

  using StepRunner = std::function<std::string(std::string_view input_json)>;
  void step(const char* name, const char* description, StepRunner run) {
    own_steps_.insert(name);
    connector({"step", name, description, {}}, [run = std::move(run)](std::string_view operation,
                                                                      std::string_view input) {
      if (operation != "run") {
        throw plughost::sdk::Error(PH_ERR_UNSUPPORTED, "step connectors only offer \"run\"");
      }
      return run(input);
    });
  }

  EventSettings events_;
  EngineSettings engine_;
  IdempotencySettings idempotency_;
  std::string slack_url_;
  double slack_timeout_ = 10;
  std::set<std::string> own_steps_;
};

}  // namespace automate

PLUGHOST_PLUGIN(automate::AutomatePlugin, "automate-workflow", "0.2.0",
                "Automate API: workflows, webhooks, events and executions", "alpha")
