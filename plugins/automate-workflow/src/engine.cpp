#include "engine.hpp"

#include <algorithm>
#include <chrono>
#include <set>
#include <vector>

#include "basics.hpp"
#include "graph.hpp"
#include "pagination.hpp"
#include "templates.hpp"
#include "workflows.hpp"

namespace automate {

using plughost::sdk::HttpError;
using plughost::sdk::Statement;
using Alloc = rapidjson::Document::AllocatorType;

namespace {

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

std::vector<std::string> insert_executions(plughost::sdk::Transaction& txn,
                                           const StoredEvent& event,
                                           const std::vector<RunnableWorkflow>& workflows) {
  std::vector<std::string> ids;
  if (workflows.empty()) return ids;
  rapidjson::Document ev(rapidjson::kObjectType);
  auto& a = ev.GetAllocator();
  ev.AddMember("id", str(event.id, a), a);
  ev.AddMember("type", str(event.type, a), a);
  ev.AddMember("source", str(event.source, a), a);
  ev.AddMember("payload", parse_into(event.payload, a), a);
  rapidjson::Document context(rapidjson::kObjectType);
  context.AddMember("source", str(event.source, context.GetAllocator()), context.GetAllocator());
  context.AddMember("event_type", str(event.type, context.GetAllocator()), context.GetAllocator());
  std::string event_json = plughost::sdk::to_json(ev),
              context_json = plughost::sdk::to_json(context);
  std::string now = now_iso();
  for (const auto& w : workflows) {
    std::string id = new_uuid();
    txn.sql(
           "INSERT INTO automate_executions (id, tenant, workflow_id, workflow_name, "
           "workflow_version, status, attempt, trigger_event_id, context, trace_id, created_at, "
           "graph, event) VALUES (:id, :tenant, :workflow, :name, :version, 'QUEUED', 1, "
           ":event_id, :context, :trace, :now, :graph, :event)")
        .bind(":id", id)
        .bind(":tenant", event.tenant)
        .bind(":workflow", w.id)
        .bind(":name", w.name)
        .bind(":version", w.version)
        .bind(":event_id", event.id)
        .bind(":context", context_json)
        .bind(":trace", event.trace_id)
        .bind(":now", now)
        .bind(":graph", w.graph)
        .bind(":event", event_json)
        .exec();
    ids.push_back(std::move(id));
  }
  return ids;
}

namespace {

void enqueue_execution(const Services& p, const std::string& id) {
  p.enqueue({kRunExecutionKind, R"({"execution_id":")" + id + R"("})", "execution:" + id});
}

}  // namespace

void enqueue_executions(const Services& p, const std::vector<std::string>& execution_ids) {
  for (const auto& id : execution_ids) {
    try {
      enqueue_execution(p, id);
    } catch (const std::exception& e) {
      p.warn("automate: execution " + id + " stays QUEUED until the next start: " + e.what());
    }
  }
}

void requeue_pending_executions(const Services& p) {
  std::vector<std::string> queued;
  {
    auto st = p.sql("SELECT id FROM automate_executions WHERE status = 'QUEUED'");
    while (st.step()) queued.push_back(st.text(0));
  }
  for (const auto& id : queued) enqueue_execution(p, id);
  std::vector<std::pair<std::string, double>> parked;
  {
    auto st = p.sql(
        "SELECT e.id, MIN(s.resume_at) FROM automate_executions e JOIN automate_execution_steps "
        "s ON s.execution_id = e.id WHERE e.status = 'RUNNING' AND s.status = 'WAITING' "
        "GROUP BY e.id");
    while (st.step()) parked.emplace_back(st.text(0), st.real(1));
  }
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (const auto& [id, at] : parked) {
    p.enqueue({kRunExecutionKind, R"({"execution_id":")" + id + R"("})",
               "execution:" + id + "@" + std::to_string(static_cast<long long>(at * 1e6)),
               std::max(0.0, at - now)});
  }
  if (!queued.empty() || !parked.empty()) {
    p.info("automate: re-queued " + std::to_string(queued.size()) + " queued and " +
           std::to_string(parked.size()) + " waiting executions");
  }
}

void fail_abandoned_execution(const Services& p, std::string_view task_json) {
  rapidjson::Document task;
  task.Parse(task_json.data(), task_json.size());
  if (task.HasParseError() || !task.IsObject() || !task.HasMember("kind") ||
      !task["kind"].IsString() || std::string(task["kind"].GetString()) != kRunExecutionKind ||
      !task.HasMember("payload") || !task["payload"].IsObject() ||
      !task["payload"].HasMember("execution_id") || !task["payload"]["execution_id"].IsString()) {
    return;
  }
  std::string status =
      task.HasMember("status") && task["status"].IsString() ? task["status"].GetString() : "failed";
  std::string error =
      task.HasMember("error") && task["error"].IsString() ? task["error"].GetString() : status;
  p.sql(
       "UPDATE automate_executions SET status = 'FAILED', finished_at = :now, error_summary = "
       ":error WHERE id = :id AND status IN ('QUEUED', 'RUNNING')")
      .bind(":now", now_iso())
      .bind(":error", "Execution task " + status + ": " + error)
      .bind(":id", task["payload"]["execution_id"].GetString())
      .exec();
}

Reply replay_execution(const Services& p, const Request& rq) {
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
  enqueue_executions(p, {id});
  rapidjson::Document out(rapidjson::kObjectType);
  auto& a = out.GetAllocator();
  out.AddMember("execution_id", str(id, a), a);
  out.AddMember("message", "Execution queued for replay", a);
  out.AddMember("trace_id", str(trace, a), a);
  return {202, plughost::sdk::to_json(out)};
}

ListSql execution_list_sql(bool by_workflow, bool by_status, bool since, bool until) {
  ListSql q{kExecutionSelect, "FROM automate_executions WHERE tenant = :tenant",
            "created_at DESC, id DESC"};
  if (by_workflow) q.from_where += " AND workflow_id = :workflow";
  if (by_status) q.from_where += " AND status = :status";
  if (since) q.from_where += " AND created_at >= :since";
  if (until) q.from_where += " AND created_at <= :until";
  return q;
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
  auto bind = [&](Statement& st) {
    st.bind(":tenant", rq.tenant());
    if (workflow) st.bind(":workflow", *workflow);
    if (status) st.bind(":status", *status);
    if (since) st.bind(":since", *since);
    if (until) st.bind(":until", *until);
  };
  answer_page(p, rq, rs, page,
              execution_list_sql(workflow.has_value(), status.has_value(), since.has_value(),
                                 until.has_value()),
              bind, execution_json);
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
      "duration_ms, attempt, retries, resume_at FROM automate_execution_steps "
      "WHERE execution_id = :id ORDER BY seq");
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
    s.AddMember("attempt", st.int64(9), a);
    s.AddMember(
        "retries",
        st.is_null(10) ? rapidjson::Value(rapidjson::kArrayType) : parse_into(st.text(10), a), a);
    steps.PushBack(s, a);
  }
  doc.AddMember("steps", steps, a);
  rs.json(doc);
}

}  // namespace automate
