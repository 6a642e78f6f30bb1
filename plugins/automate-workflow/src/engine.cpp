#include "engine.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include "basics.hpp"
#include "graph.hpp"
#include "pagination.hpp"
#include "templates.hpp"
#include "workflows.hpp"

namespace automate {

using plughost::sdk::HttpError;
using plughost::sdk::Statement;
using Alloc = rapidjson::Document::AllocatorType;
using Clock = std::chrono::steady_clock;

namespace {

int64_t millis_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  if (d.HasParseError()) d.SetObject();
  return d;
}

struct Execution {
  std::string id, tenant, graph, event;
};

std::optional<Execution> load_execution(const Services& p, const std::string& id) {
  auto st = p.sql("SELECT tenant, graph, event FROM automate_executions WHERE id = :id");
  st.bind(":id", id);
  if (!st.step()) return std::nullopt;
  return Execution{id, st.text(0), st.maybe_text(1).value_or("{}"),
                   st.maybe_text(2).value_or("{}")};
}

void record_step(const Services& p, const std::string& execution_id, int seq,
                 const std::string& node, const std::string& status, const std::string& input,
                 const std::optional<std::string>& output, const std::optional<std::string>& error,
                 const std::string& started, int64_t duration_ms) {
  p.sql(
       "INSERT INTO automate_execution_steps (id, execution_id, seq, node_key, status, "
       "input_data, output_data, error, started_at, finished_at, duration_ms) VALUES (:id, "
       ":execution, :seq, :node, :status, :input, :output, :error, :started, :finished, :ms)")
      .bind(":id", new_uuid())
      .bind(":execution", execution_id)
      .bind(":seq", seq)
      .bind(":node", node)
      .bind(":status", status)
      .bind(":input", input)
      .bind(":output", output)
      .bind(":error", error)
      .bind(":started", started)
      .bind(":finished", now_iso())
      .bind(":ms", duration_ms)
      .exec();
}

// Runs the nodes in edge order; returns the error summary of the first failing step, if any.
std::optional<std::string> walk_graph(const Services& p, const Execution& ex) {
  auto graph = parse(ex.graph);
  rapidjson::Document context(rapidjson::kObjectType);
  auto& a = context.GetAllocator();
  context.AddMember("event", rapidjson::Value(parse(ex.event), a), a);
  context.AddMember("steps", rapidjson::Value(rapidjson::kObjectType), a);
  std::map<std::string, const rapidjson::Value*> nodes;
  for (const auto& n : graph["nodes"].GetArray()) nodes[n["id"].GetString()] = &n;
  int seq = 0;
  for (const auto& id : run_order(graph)) {
    const auto& node = *nodes[id];
    std::string started = now_iso();
    auto clock = Clock::now();
    rapidjson::Document input(rapidjson::kObjectType);
    std::string shown_input = "{}";
    try {
      rapidjson::Value empty(rapidjson::kObjectType);
      const auto& config = node.HasMember("config") ? node["config"] : empty;
      shown_input = plughost::sdk::to_json(redact_secrets(config, input.GetAllocator()));
      rapidjson::Value rendered = render_templates(config, context, input.GetAllocator());
      shown_input = plughost::sdk::to_json(redact_secrets(rendered, input.GetAllocator()));
      std::string output = p.run_step(node["type"].GetString(), plughost::sdk::to_json(rendered));
      record_step(p, ex.id, seq++, id, "SUCCESS", shown_input, output, std::nullopt, started,
                  millis_since(clock));
      rapidjson::Value entry(rapidjson::kObjectType);
      entry.AddMember("output", rapidjson::Value(parse(output), a), a);
      context["steps"].AddMember(str(id, a), entry, a);
    } catch (const std::exception& e) {
      record_step(p, ex.id, seq++, id, "FAILED", shown_input, std::nullopt, std::string(e.what()),
                  started, millis_since(clock));
      return "Step " + id + " failed: " + e.what();
    }
  }
  return std::nullopt;
}

const std::set<std::string> kStatuses = {"QUEUED", "RUNNING", "SUCCESS", "FAILED"};

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

rapidjson::Value execution_json(const Statement& st, Alloc& a) {
  rapidjson::Value o(rapidjson::kObjectType);
  auto text_or_null = [&](int col) {
    return st.is_null(col) ? rapidjson::Value() : str(st.text(col), a);
  };
  o.AddMember("id", str(st.text(0), a), a);
  o.AddMember("workflow_id", str(st.text(1), a), a);
  o.AddMember("workflow_name", str(st.text(2), a), a);
  o.AddMember("workflow_version", st.int64(3), a);
  o.AddMember("status", str(st.text(4), a), a);
  o.AddMember("attempt", st.int64(5), a);
  o.AddMember("trigger_event_id", text_or_null(6), a);
  o.AddMember("trace_id", str(st.text(7), a), a);
  o.AddMember("created_at", str(st.text(8), a), a);
  o.AddMember("started_at", text_or_null(9), a);
  o.AddMember("finished_at", text_or_null(10), a);
  o.AddMember("duration_ms", st.is_null(11) ? rapidjson::Value() : rapidjson::Value(st.int64(11)),
              a);
  o.AddMember("error_summary", text_or_null(12), a);
  o.AddMember("context", parse_into(st.text(13), a), a);
  return o;
}

constexpr const char* kExecutionSelect =
    "SELECT id, workflow_id, workflow_name, workflow_version, status, attempt, trigger_event_id, "
    "trace_id, created_at, started_at, finished_at, duration_ms, error_summary, context";

}  // namespace

rapidjson::Value redact_secrets(const rapidjson::Value& input, Alloc& alloc) {
  static const char* kMarkers[] = {"token", "key", "secret", "password", "authorization", "auth"};
  rapidjson::Value out(input, alloc);
  if (!out.IsObject()) return out;
  for (auto& m : out.GetObject()) {
    std::string name = m.name.GetString();
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    for (const char* marker : kMarkers) {
      if (name.find(marker) != std::string::npos) {
        m.value.SetString("***REDACTED***", alloc);
        break;
      }
    }
  }
  return out;
}

void start_executions(const Services& p, const StoredEvent& event) {
  rapidjson::Document ev(rapidjson::kObjectType);
  auto& a = ev.GetAllocator();
  ev.AddMember("id", str(event.id, a), a);
  ev.AddMember("type", str(event.type, a), a);
  ev.AddMember("source", str(event.source, a), a);
  ev.AddMember("payload", parse_into(event.payload, a), a);
  rapidjson::Document context(rapidjson::kObjectType);
  context.AddMember("source", str(event.source, context.GetAllocator()), context.GetAllocator());
  context.AddMember("event_type", str(event.type, context.GetAllocator()), context.GetAllocator());
  for (const auto& w : workflows_triggered_by(p, event.tenant, event.source, event.type)) {
    std::string id = new_uuid();
    p.sql(
         "INSERT INTO automate_executions (id, tenant, workflow_id, workflow_name, "
         "workflow_version, status, attempt, trigger_event_id, context, trace_id, created_at, "
         "graph, event) VALUES (:id, :tenant, :workflow, :name, :version, 'QUEUED', 1, :event_id, "
         ":context, :trace, :now, :graph, :event)")
        .bind(":id", id)
        .bind(":tenant", event.tenant)
        .bind(":workflow", w.id)
        .bind(":name", w.name)
        .bind(":version", w.version)
        .bind(":event_id", event.id)
        .bind(":context", plughost::sdk::to_json(context))
        .bind(":trace", event.trace_id)
        .bind(":now", now_iso())
        .bind(":graph", w.graph)
        .bind(":event", plughost::sdk::to_json(ev))
        .exec();
    p.enqueue({kRunExecutionKind, R"({"execution_id":")" + id + R"("})", "execution:" + id});
  }
}

void replay_execution(const Services& p, const Request& rq, Response& rs) {
  std::string original(rq.param("id").value_or("")), id = new_uuid();
  int64_t copied =
      p.sql(
           "INSERT INTO automate_executions (id, tenant, workflow_id, workflow_name, "
           "workflow_version, status, attempt, trigger_event_id, context, trace_id, created_at, "
           "graph, event) SELECT :id, tenant, workflow_id, workflow_name, workflow_version, "
           "'QUEUED', 1, trigger_event_id, context, trace_id, :now, graph, event "
           "FROM automate_executions WHERE tenant = :tenant AND id = :original")
          .bind(":id", id)
          .bind(":now", now_iso())
          .bind(":tenant", rq.tenant())
          .bind(":original", original)
          .exec();
  if (copied == 0) throw HttpError(404, "NOT_FOUND", "Execution not found");
  std::string trace;
  {
    auto st = p.sql("SELECT trace_id FROM automate_executions WHERE id = :id");
    st.bind(":id", id);
    if (st.step()) trace = st.text(0);
  }
  p.enqueue({kRunExecutionKind, R"({"execution_id":")" + id + R"("})", "execution:" + id});
  rapidjson::Document out(rapidjson::kObjectType);
  auto& a = out.GetAllocator();
  out.AddMember("execution_id", str(id, a), a);
  out.AddMember("message", "Execution queued for replay", a);
  out.AddMember("trace_id", str(trace, a), a);
  rs.json(out, 202);
}

void run_execution(const Services& p, plughost::sdk::TaskContext& task) {
  auto payload = task.payload();
  if (!payload.HasMember("execution_id") || !payload["execution_id"].IsString()) return;
  auto ex = load_execution(p, payload["execution_id"].GetString());
  if (!ex) return;
  auto clock = Clock::now();
  p.sql("DELETE FROM automate_execution_steps WHERE execution_id = :id").bind(":id", ex->id).exec();
  p.sql(
       "UPDATE automate_executions SET status = 'RUNNING', started_at = :now, attempt = :attempt "
       "WHERE id = :id")
      .bind(":now", now_iso())
      .bind(":attempt", task.attempt())
      .bind(":id", ex->id)
      .exec();
  auto failure = walk_graph(p, *ex);
  p.sql(
       "UPDATE automate_executions SET status = :status, finished_at = :now, duration_ms = :ms, "
       "error_summary = :error WHERE id = :id")
      .bind(":status", failure ? "FAILED" : "SUCCESS")
      .bind(":now", now_iso())
      .bind(":ms", millis_since(clock))
      .bind(":error", failure)
      .bind(":id", ex->id)
      .exec();
}

void list_executions(const Services& p, const Request& rq, Response& rs) {
  Page page = read_page(rq);
  auto workflow = rq.query("workflow");
  std::optional<std::string> status;
  if (auto s = rq.query("status")) {
    status = upper(*s);
    if (!kStatuses.count(*status)) {
      throw HttpError(400, "VALIDATION_ERROR", "Invalid input",
                      {{"status", "Must be one of QUEUED, RUNNING, SUCCESS, FAILED"}});
    }
  }
  auto since = rq.query("since");
  auto until = rq.query("until");
  std::string where = " WHERE tenant = :tenant";
  if (workflow) where += " AND workflow_id = :workflow";
  if (status) where += " AND status = :status";
  if (since) where += " AND created_at >= :since";
  if (until) where += " AND created_at <= :until";
  auto bind = [&](Statement& st) {
    st.bind(":tenant", rq.tenant());
    if (workflow) st.bind(":workflow", *workflow);
    if (status) st.bind(":status", *status);
    if (since) st.bind(":since", *since);
    if (until) st.bind(":until", *until);
  };
  answer_page(p, rq, rs, page, kExecutionSelect, "FROM automate_executions" + where,
              "created_at DESC, id DESC", bind, execution_json);
}

void get_execution(const Services& p, const Request& rq, Response& rs) {
  std::string id(rq.param("id").value_or(""));
  rapidjson::Document doc;
  auto& a = doc.GetAllocator();
  {
    auto st = p.sql(std::string(kExecutionSelect) +
                    " FROM automate_executions WHERE tenant = :tenant AND id = :id");
    st.bind(":tenant", rq.tenant()).bind(":id", id);
    if (!st.step()) throw HttpError(404, "NOT_FOUND", "Execution not found");
    static_cast<rapidjson::Value&>(doc) = execution_json(st, a);
  }
  rapidjson::Value steps(rapidjson::kArrayType);
  auto st = p.sql(
      "SELECT id, node_key, status, input_data, output_data, error, started_at, finished_at, "
      "duration_ms FROM automate_execution_steps WHERE execution_id = :id ORDER BY seq");
  st.bind(":id", id);
  while (st.step()) {
    rapidjson::Value s(rapidjson::kObjectType);
    s.AddMember("id", str(st.text(0), a), a);
    s.AddMember("node_key", str(st.text(1), a), a);
    s.AddMember("status", str(st.text(2), a), a);
    s.AddMember("input_data", st.is_null(3) ? rapidjson::Value() : parse_into(st.text(3), a), a);
    s.AddMember("output_data", st.is_null(4) ? rapidjson::Value() : parse_into(st.text(4), a), a);
    s.AddMember("error", st.is_null(5) ? rapidjson::Value() : str(st.text(5), a), a);
    s.AddMember("started_at", str(st.text(6), a), a);
    s.AddMember("finished_at", str(st.text(7), a), a);
    s.AddMember("duration_ms", st.int64(8), a);
    steps.PushBack(s, a);
  }
  doc.AddMember("steps", steps, a);
  rs.json(doc);
}

}  // namespace automate
