// The automate-workflow plugin: the automate API's workflows (CRUD, validated graphs, versions)
// and the step connectors its engine runs. Every route and connector it offers is listed here.
#include <sodium.h>

#include <plughost/plugin.hpp>

#include "engine.hpp"
#include "events.hpp"
#include "schema.hpp"
#include "steps.hpp"
#include "workflows.hpp"

namespace automate {

using plughost::sdk::RouteSpec;

class AutomatePlugin : public plughost::sdk::Plugin {
  void init() override {
    if (sodium_init() < 0) throw plughost::sdk::Error(PH_ERR_INTERNAL, "libsodium failed to start");
    services_ = make_services();
    migration("0001_initial", kSchemaV1);
    migration("0002_execution_inputs", kSchemaV2);
    task(kRunExecutionTask, "Runs one workflow execution along its graph",
         [this](plughost::sdk::TaskContext& t) { run_execution(services_, t); });

    step("logging", "Logs a rendered message", run_logging_step);
    step("transform", "Builds a JSON object from templates", run_transform_step);

    serve("GET", "/api/automate/workflows/", "List workflows", "workflows.read", list_workflows);
    serve("POST", "/api/automate/workflows/", "Create a workflow", "workflows.write",
          create_workflow);
    serve("GET", "/api/automate/workflows/:id/", "Get a workflow", "workflows.read", get_workflow);
    serve("PUT", "/api/automate/workflows/:id/", "Update a workflow (partial; new version)",
          "workflows.write", update_workflow);
    serve("DELETE", "/api/automate/workflows/:id/", "Delete a workflow", "workflows.write",
          delete_workflow);
    events_.webhook_secrets = read_webhook_secrets(config());
    // The event is stored either way; a failure to queue its runs is logged, not answered.
    events_.on_stored = [this](const StoredEvent& e) {
      try {
        start_executions(services_, e);
      } catch (const std::exception& ex) {
        warn("automate: could not queue the executions of event " + e.id + ": " + ex.what());
      }
    };
    serve_events("POST", "/api/automate/webhooks/:source/",
                 "Ingest a signed webhook event (HMAC-SHA256 of the body)", "public",
                 ingest_webhook, PH_ROUTE_CSRF_EXEMPT);
    serve_events("POST", "/api/automate/events/", "Emit an event (dedupe_key makes it idempotent)",
                 "events.write", emit_event);
    serve("GET", "/api/automate/events/", "List stored events", "events.read", list_events);
    serve("GET", "/api/automate/executions/", "List executions", "workflows.read", list_executions);
    serve("GET", "/api/automate/executions/:id/", "Get an execution with its steps",
          "workflows.read", get_execution);
    serve("POST", "/api/automate/executions/:id/replay/",
          "Run an execution again on the same input and trace id", "workflows.write",
          replay_execution);
    serve("GET", "/api/automate/workflows/:id/versions/", "Prior versions of a workflow",
          "workflows.read", list_workflow_versions);
  }

  automate::Services make_services() {
    automate::Services s;
    s.api = api();
    s.host = host();
    s.step_types = [this] {
      std::set<std::string> out;
      for (const auto& c : connectors("step")) out.insert(c.name);
      return out;
    };
    s.run_step = [this](const std::string& type, std::string_view input) {
      return invoke_connector("step", type, "run", input);
    };
    s.enqueue = [this](const plughost::sdk::TaskRequest& r) { return enqueue(r); };
    s.log_info = [this](std::string_view line) { info(line); };
    return s;
  }

  using Handler = void (*)(const automate::Services&, const Request&, Response&);
  void serve(const char* method, const char* path, const char* summary, const char* permission,
             Handler handler, uint32_t flags = 0) {
    route(RouteSpec{method, path, summary, permission, {}, {}, {}, flags},
          [this, handler](const Request& rq, Response& rs) { handler(services_, rq, rs); });
  }

  using EventHandler = void (*)(const automate::Services&, const EventSettings&, const Request&, Response&);
  void serve_events(const char* method, const char* path, const char* summary,
                    const char* permission, EventHandler handler, uint32_t flags = 0) {
    route(
        RouteSpec{method, path, summary, permission, {}, {}, {}, flags},
        [this, handler](const Request& rq, Response& rs) { handler(services_, events_, rq, rs); });
  }

  using StepRunner = std::string (*)(std::string_view input_json);
  void step(const char* name, const char* description, StepRunner run) {
    connector(
        {"step", name, description, {}}, [run](std::string_view operation, std::string_view input) {
          if (operation != "run") {
            throw plughost::sdk::Error(PH_ERR_UNSUPPORTED, "step connectors only offer \"run\"");
          }
          return run(input);
        });
  }

  automate::Services services_;
  EventSettings events_;
};

}  // namespace automate

PLUGHOST_PLUGIN(automate::AutomatePlugin, "automate-workflow", "0.1.0",
                "Automate API: workflows, webhooks, events and executions", "alpha")
