// run_execution: the graph walk of one execution (see engine.hpp for the semantics).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "basics.hpp"
#include "engine.hpp"
#include "graph.hpp"
#include "steps.hpp"
#include "templates.hpp"

namespace automate {

using plughost::sdk::TaskContext;
using Alloc = rapidjson::Document::AllocatorType;
using Clock = std::chrono::steady_clock;

namespace {

double unix_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  if (d.HasParseError()) d.SetObject();
  return d;
}

struct Retry {
  int max_attempts = 1;
  double backoff_seconds = 1, multiplier = 2, max_backoff_seconds = 300;
  double wait_after(int attempt) const {
    return std::min(max_backoff_seconds, backoff_seconds * std::pow(multiplier, attempt - 1));
  }
};

struct Node {
  std::string id, type;
  const rapidjson::Value* config = nullptr;
  Retry retry;
  std::vector<size_t> in_edges;
};

struct Edge {
  std::string source, target;
  std::optional<std::string> branch;
};

// What is recorded of a node so far (one row per node).
struct StepRow {
  std::string status;  // SUCCESS, FAILED, SKIPPED, WAITING
  std::string output, started_at;
  int attempt = 1;
  std::string retries = "[]";
  double resume_at = 0;
  int64_t seq = 0;
};

enum class State { kPending, kRunning, kSucceeded, kSkipped, kFailed, kParked };

struct Outcome {
  State state = State::kFailed;
  std::string output;  // kSucceeded
  std::string error;   // kFailed
  double resume_at = 0;
  bool interrupted = false;
};

Retry read_retry(const rapidjson::Value& node) {
  Retry r;
  if (!node.HasMember("retry") || !node["retry"].IsObject()) return r;
  const auto& v = node["retry"];
  auto num = [&](const char* k, double fallback) {
    return v.HasMember(k) && v[k].IsNumber() ? v[k].GetDouble() : fallback;
  };
  r.max_attempts = std::clamp(static_cast<int>(num("max_attempts", 1)), 1, 10);
  r.backoff_seconds = std::max(0.0, num("backoff_seconds", 1));
  r.multiplier = std::max(1.0, num("backoff_multiplier", 2));
  r.max_backoff_seconds = std::max(0.0, num("max_backoff_seconds", 300));
  return r;
}

std::optional<std::string> edge_branch(const rapidjson::Value& e) {
  if (!e.HasMember("condition") || e["condition"].IsNull()) return std::nullopt;
  if (e["condition"].IsBool()) return e["condition"].GetBool() ? "true" : "false";
  if (e["condition"].IsString()) return std::string(e["condition"].GetString());
  return std::nullopt;
}

class Run {
 public:
  Run(const Services& p, const EngineSettings& settings, TaskContext& task, std::string id,
      std::string tenant, const std::string& graph, const std::string& event)
      : p_(p), settings_(settings), task_(task), id_(std::move(id)), tenant_(std::move(tenant)) {
    graph_ = parse(graph);
    auto& a = context_.GetAllocator();
    context_.SetObject();
    context_.AddMember("event", rapidjson::Value(parse(event), a), a);
    context_.AddMember("steps", rapidjson::Value(rapidjson::kObjectType), a);
    static const rapidjson::Value kEmpty(rapidjson::kObjectType);
    for (const auto& n : graph_["nodes"].GetArray()) {
      Node node{n["id"].GetString(),
                n["type"].GetString(),
                n.HasMember("config") ? &n["config"] : &kEmpty,
                read_retry(n),
                {}};
      index_[node.id] = nodes_.size();
      nodes_.push_back(std::move(node));
    }
    if (graph_.HasMember("edges") && graph_["edges"].IsArray()) {
      for (const auto& e : graph_["edges"].GetArray()) {
        edges_.push_back({e["source"].GetString(), e["target"].GetString(), edge_branch(e)});
        nodes_[index_[edges_.back().target]].in_edges.push_back(edges_.size() - 1);
      }
    }
    state_.assign(nodes_.size(), State::kPending);
    branch_.assign(nodes_.size(), std::nullopt);
  }

  // Returns the failure summary (nullopt: success or parked; see parked_until()).
  std::optional<std::string> walk() {
    load_recorded_steps();
    std::vector<std::thread> threads;
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      try {
        if (!fatal_) skip_unreachable();
      } catch (const std::exception& e) {
        fatal_ = std::string(e.what());  // running steps still finish before the walk ends
      }
      if (!failure_ && !interrupted_ && !fatal_ && !task_.cancelled()) {
        for (size_t i = 0; i < nodes_.size() && running_ < settings_.max_parallel_steps; ++i) {
          if (state_[i] != State::kPending || !inputs_ready(i)) continue;
          state_[i] = State::kRunning;
          ++running_;
          int64_t seq = rows_.count(nodes_[i].id) ? rows_[nodes_[i].id].seq : next_seq_++;
          threads.emplace_back([this, i, seq] { run_guarded(i, seq); });
        }
      }
      if (running_ == 0) break;
      changed_.wait(lock);
    }
    lock.unlock();
    for (auto& t : threads) t.join();
    if (fatal_)
      throw plughost::sdk::Error(PH_ERR_INTERNAL, "execution step not recorded: " + *fatal_);
    bool unfinished = std::count(state_.begin(), state_.end(), State::kPending) > 0;
    if (interrupted_ || (task_.cancelled() && !failure_ && unfinished)) {
      throw plughost::sdk::Error(PH_ERR_WRONG_STATE, "execution interrupted (cancel or shutdown)");
    }
    return failure_;
  }

  // The earliest resume time of a parked node, when the walk stopped on waits.
  std::optional<double> parked_until() const {
    std::optional<double> at;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (state_[i] == State::kParked) at = std::min(at.value_or(resume_at_[i]), resume_at_[i]);
    }
    return at;
  }

 private:
  void load_recorded_steps() {
    resume_at_.assign(nodes_.size(), 0);
    auto st = p_.sql(
        "SELECT node_key, status, output_data, attempt, retries, resume_at, seq, started_at, error "
        "FROM automate_execution_steps WHERE execution_id = :id");
    st.bind(":id", id_);
    while (st.step()) {
      StepRow row{st.text(1),
                  st.maybe_text(2).value_or("{}"),
                  st.maybe_text(7).value_or(now_iso()),
                  static_cast<int>(st.int64(3)),
                  st.maybe_text(4).value_or("[]"),
                  st.is_null(5) ? 0 : st.real(5),
                  st.int64(6)};
      next_seq_ = std::max(next_seq_, row.seq + 1);
      auto it = index_.find(st.text(0));
      if (it == index_.end()) continue;
      size_t i = it->second;
      if (row.status == "SUCCESS") {
        publish_output(i, row.output);
        state_[i] = State::kSucceeded;
      } else if (row.status == "SKIPPED") {
        state_[i] = State::kSkipped;
      } else if (row.status == "FAILED") {
        state_[i] = State::kFailed;
        failure_ = "Step " + nodes_[i].id + " failed: " + st.maybe_text(8).value_or("failed");
      } else if (row.status == "WAITING" && row.resume_at > unix_now() + 0.001 &&
                 row.resume_at - unix_now() > settings_.short_wait_seconds) {
        state_[i] = State::kParked;  // woken too early (a recovery pass): stay parked
        resume_at_[i] = row.resume_at;
      }
      rows_[st.text(0)] = std::move(row);
    }
  }

  // Under mu_. Settled inputs, at least one taken (or none at all).
  bool inputs_ready(size_t i) const {
    if (nodes_[i].in_edges.empty()) return true;
    bool taken = false;
    for (size_t e : nodes_[i].in_edges) {
      size_t s = index_.at(edges_[e].source);
      if (state_[s] != State::kSucceeded && state_[s] != State::kSkipped) return false;
      taken = taken || edge_taken(e);
    }
    return taken;
  }
  bool edge_taken(size_t e) const {
    size_t s = index_.at(edges_[e].source);
    if (state_[s] != State::kSucceeded) return false;
    return !edges_[e].branch || branch_[s] == edges_[e].branch;
  }

  // Under mu_: marks SKIPPED every pending node whose inputs all settled without a taken edge.
  void skip_unreachable() {
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t i = 0; i < nodes_.size(); ++i) {
        if (state_[i] != State::kPending || nodes_[i].in_edges.empty()) continue;
        bool settled = true, taken = false;
        for (size_t e : nodes_[i].in_edges) {
          State s = state_[index_.at(edges_[e].source)];
          settled = settled && (s == State::kSucceeded || s == State::kSkipped);
          taken = taken || edge_taken(e);
        }
        if (!settled || taken) continue;
        state_[i] = State::kSkipped;
        std::string now = now_iso();
        record(nodes_[i].id, next_seq_++, "SKIPPED", "{}", std::nullopt,
               std::string("No incoming edge was taken"), now, 0, 1, "[]", std::nullopt);
        changed = true;
      }
    }
  }

  void publish_output(size_t i, const std::string& output) {
    auto& a = context_.GetAllocator();
    rapidjson::Value entry(rapidjson::kObjectType);
    rapidjson::Value out = parse_into(output, a);
    if (out.IsObject() && out.HasMember("branch") && out["branch"].IsString()) {
      branch_[i] = std::string(out["branch"].GetString());
    }
    entry.AddMember("output", out, a);
    auto& steps = context_["steps"];
    if (steps.HasMember(nodes_[i].id.c_str())) steps.RemoveMember(nodes_[i].id.c_str());
    steps.AddMember(str(nodes_[i].id, a), entry, a);
  }

  // A step thread: nothing may escape it. A storage failure while recording ends the walk and
  // fails the task (which runs again and resumes after what was recorded).
  void run_guarded(size_t i, int64_t seq) {
    try {
      finish_node(i, run_node(i, seq));
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!fatal_) fatal_ = std::string(e.what());
      state_[i] = State::kPending;
      --running_;
      changed_.notify_all();
    }
  }

  void finish_node(size_t i, Outcome outcome) {
    std::lock_guard<std::mutex> lock(mu_);
    state_[i] = outcome.state;
    if (outcome.state == State::kSucceeded) publish_output(i, outcome.output);
    if (outcome.state == State::kFailed && !failure_) {
      failure_ = "Step " + nodes_[i].id + " failed: " + outcome.error;
    }
    if (outcome.state == State::kParked) resume_at_[i] = outcome.resume_at;
    if (outcome.interrupted) {
      interrupted_ = true;
      state_[i] = State::kPending;
    }
    --running_;
    changed_.notify_all();
  }

  // Waits `seconds` checking cancellation every 50 ms; false when interrupted.
  bool wait_cooperatively(double seconds) {
    auto until = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < until) {
      if (task_.cancelled()) return false;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(50)));
    }
    return !task_.cancelled();
  }

  rapidjson::Document snapshot() {
    rapidjson::Document d;
    std::lock_guard<std::mutex> lock(mu_);
    d.CopyFrom(context_, d.GetAllocator());
    return d;
  }

  // Runs node i (attempts, waits) on its own thread; records its row.
  Outcome run_node(size_t i, int64_t seq) {
    const Node& node = nodes_[i];
    StepRow prior;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (rows_.count(node.id)) prior = rows_[node.id];
    }
    bool resuming = prior.status == "WAITING";
    int attempt = resuming ? prior.attempt : 1;
    rapidjson::Document retries = parse(resuming ? prior.retries : "[]");
    if (!retries.IsArray()) retries.SetArray();
    std::string started = resuming ? prior.started_at : now_iso();
    if (resuming && node.type != "delay") {
      // Parked between attempts: the wait is over, run the next attempt.
      double left = prior.resume_at - unix_now();
      if (left > 0 && !wait_cooperatively(left)) return interrupted();
      ++attempt;
    }
    for (;; ++attempt) {
      if (task_.cancelled()) return interrupted();
      auto clock = Clock::now();
      std::string shown = "{}", error;
      std::optional<std::string> output;
      std::optional<double> park_until;
      // Only the step's own work is inside the try: a failure to record (storage) is not a step
      // failure, it propagates and the task runs again.
      try {
        rapidjson::Document context = snapshot();
        rapidjson::Document input(rapidjson::kObjectType);
        auto& a = input.GetAllocator();
        shown = plughost::sdk::to_json(redact_secrets(*node.config, a));
        if (node.type == "condition") {
          // The expression is evaluated as is: never template-rendered, so no value can inject
          // syntax into it.
          input.CopyFrom(*node.config, a);
          input.AddMember("context", rapidjson::Value(context, a), a);
          output = p_.invoke_connector("step", node.type, "run", plughost::sdk::to_json(input));
        } else {
          rapidjson::Value rendered = render_templates(*node.config, context, a);
          shown = plughost::sdk::to_json(redact_secrets(rendered, a));
          if (node.type == kRagQueryStep || node.type == kDatachatAskStep) {
            if (rendered.HasMember("tenant")) rendered.RemoveMember("tenant");
            rendered.AddMember("tenant", str(tenant_, a), a);  // always the execution's tenant
          }
          output = p_.invoke_connector("step", node.type, "run", plughost::sdk::to_json(rendered));
          if (node.type == "delay") {
            auto planned = parse(*output);
            double seconds = planned.HasMember("seconds") && planned["seconds"].IsNumber()
                                 ? planned["seconds"].GetDouble()
                                 : 0;
            double due = resuming ? prior.resume_at : unix_now() + seconds;
            double left = due - unix_now();
            if (left > settings_.short_wait_seconds) {
              park_until = due;
            } else {
              if (left > 0 && !wait_cooperatively(left)) return interrupted();
              output = std::string(R"({"seconds":)") +
                       plughost::sdk::to_json(rapidjson::Value(seconds)) + R"(,"deferred":)" +
                       (resuming ? "true" : "false") + "}";
            }
          }
        }
      } catch (const std::exception& e) {
        if (task_.cancelled()) return interrupted();
        output.reset();
        error = e.what();
        std::string prefix = "step/" + node.type + ": ";  // added by invoke_connector
        if (error.rfind(prefix, 0) == 0) error.erase(0, prefix.size());
      }
      if (park_until) {  // a long delay
        record(node.id, seq, "WAITING", shown, std::nullopt, std::nullopt, started, 0, attempt,
               plughost::sdk::to_json(retries), *park_until);
        return parked(*park_until);
      }
      if (output) {
        record(node.id, seq, "SUCCESS", shown, *output, std::nullopt, started, elapsed_ms(clock),
               attempt, plughost::sdk::to_json(retries), std::nullopt);
        return {State::kSucceeded, *output, {}, 0, false};
      }
      if (attempt >= node.retry.max_attempts) {
        std::string final_error =
            node.retry.max_attempts > 1 ? "Max retries reached. Error: " + error : error;
        record(node.id, seq, "FAILED", shown, std::nullopt, final_error, started, elapsed_ms(clock),
               attempt, plughost::sdk::to_json(retries), std::nullopt);
        return {State::kFailed, {}, final_error, 0, false};
      }
      auto& a = retries.GetAllocator();
      rapidjson::Value failed(rapidjson::kObjectType);
      failed.AddMember("attempt", attempt, a);
      failed.AddMember("error", str(error + " (Retrying...)", a), a);
      failed.AddMember("failed_at", str(now_iso(), a), a);
      retries.PushBack(failed, a);
      double wait = node.retry.wait_after(attempt);
      if (wait > settings_.short_wait_seconds) {
        double due = unix_now() + wait;
        record(node.id, seq, "WAITING", shown, std::nullopt, error + " (Retrying...)", started,
               elapsed_ms(clock), attempt, plughost::sdk::to_json(retries), due);
        return parked(due);
      }
      if (!wait_cooperatively(wait)) return interrupted();
    }
  }

  static Outcome parked(double due) { return {State::kParked, {}, {}, due, false}; }
  static Outcome interrupted() { return {State::kPending, {}, {}, 0, true}; }
  static int64_t elapsed_ms(Clock::time_point since) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
  }

  void record(const std::string& node, int64_t seq, const char* status, const std::string& input,
              const std::optional<std::string>& output, const std::optional<std::string>& error,
              const std::string& started, int64_t duration_ms, int attempt,
              const std::string& retries, std::optional<double> resume_at) {
    auto st = p_.sql(
        "INSERT INTO automate_execution_steps (id, execution_id, seq, node_key, status, "
        "input_data, output_data, error, started_at, finished_at, duration_ms, attempt, retries, "
        "resume_at) VALUES (:id, :execution, :seq, :node, :status, :input, :output, :error, "
        ":started, :finished, :ms, :attempt, :retries, :resume) "
        "ON CONFLICT (execution_id, node_key) DO UPDATE SET status = excluded.status, "
        "input_data = excluded.input_data, output_data = excluded.output_data, "
        "error = excluded.error, finished_at = excluded.finished_at, "
        "duration_ms = excluded.duration_ms, attempt = excluded.attempt, "
        "retries = excluded.retries, resume_at = excluded.resume_at");
    st.bind(":id", new_uuid())
        .bind(":execution", id_)
        .bind(":seq", seq)
        .bind(":node", node)
        .bind(":status", status)
        .bind(":input", input)
        .bind(":output", output)
        .bind(":error", error)
        .bind(":started", started)
        .bind(":finished", now_iso())
        .bind(":ms", duration_ms)
        .bind(":attempt", attempt)
        .bind(":retries", retries)
        .bind(":resume", resume_at)
        .exec();
  }

  const Services& p_;
  const EngineSettings& settings_;
  TaskContext& task_;
  std::string id_, tenant_;
  rapidjson::Document graph_;
  std::vector<Node> nodes_;
  std::vector<Edge> edges_;
  std::map<std::string, size_t> index_;
  std::map<std::string, StepRow> rows_;

  std::mutex mu_;  // guards everything below
  std::condition_variable changed_;
  rapidjson::Document context_;
  std::vector<State> state_;
  std::vector<std::optional<std::string>> branch_;
  std::vector<double> resume_at_;
  std::optional<std::string> failure_;
  bool interrupted_ = false;
  std::optional<std::string> fatal_;
  int running_ = 0;
  int64_t next_seq_ = 0;
};

}  // namespace

void run_execution(const Services& p, const EngineSettings& settings, TaskContext& task) {
  auto payload = task.payload();
  if (!payload.HasMember("execution_id") || !payload["execution_id"].IsString()) return;
  std::string id = payload["execution_id"].GetString();
  std::string tenant, graph, event, status;
  {
    auto st = p.sql("SELECT tenant, graph, event, status FROM automate_executions WHERE id = :id");
    st.bind(":id", id);
    if (!st.step()) return;
    tenant = st.text(0);
    graph = st.maybe_text(1).value_or("{}");
    event = st.maybe_text(2).value_or("{}");
    status = st.text(3);
  }
  if (status == "SUCCESS" || status == "FAILED") return;  // a duplicate delivery
  auto clock = Clock::now();
  p.sql(
       "UPDATE automate_executions SET status = 'RUNNING', started_at = COALESCE(started_at, "
       ":now), attempt = CASE WHEN attempt < :attempt THEN :attempt2 ELSE attempt END "
       "WHERE id = :id")
      .bind(":now", now_iso())
      .bind(":attempt", task.attempt())
      .bind(":attempt2", task.attempt())
      .bind(":id", id)
      .exec();
  Run run(p, settings, task, id, tenant, graph, event);
  auto failure = run.walk();
  auto parked = run.parked_until();
  if (!failure && parked) {
    double delay = std::max(0.0, *parked - unix_now());
    auto micros = static_cast<long long>(*parked * 1e6);
    p.enqueue({kRunExecutionKind, R"({"execution_id":")" + id + R"("})",
               "execution:" + id + "@" + std::to_string(micros), delay});
    return;
  }
  int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - clock).count();
  p.sql(
       "UPDATE automate_executions SET status = :status, finished_at = :now, duration_ms = "
       "COALESCE(duration_ms, 0) + :ms, error_summary = :error WHERE id = :id")
      .bind(":status", failure ? "FAILED" : "SUCCESS")
      .bind(":now", now_iso())
      .bind(":ms", ms)
      .bind(":error", failure)
      .bind(":id", id)
      .exec();
}

}  // namespace automate
