// The engine: an execution is a host task that walks a workflow's graph (a DAG), running each
// node through its step connector with the node's config rendered from templates, and records
// every step (input redacted, output, status, attempts, timings). Plus the Execution API.
//
// Semantics (also in the README):
// - A node runs once every node with an edge into it has settled (succeeded or was skipped) and
//   at least one of those edges is taken; a node without incoming edges runs at once. An edge is
//   taken when its source succeeded and, if the edge has a `condition`, the source's output
//   `branch` equals it (a `condition` step outputs branch "true" or "false"). A node none of
//   whose incoming edges is taken is SKIPPED, and so on downstream. So a join waits for all of
//   its inputs, and after a condition it runs on whichever branch was taken.
// - Ready nodes run concurrently (up to max_parallel_steps threads inside the task).
// - A node's `retry` {max_attempts (1), backoff_seconds (1), backoff_multiplier (2),
//   max_backoff_seconds (300)} re-runs a failing step; attempt n+1 waits backoff * mult^(n-1).
// - Waits (delay steps, retry backoffs) up to short_wait_seconds happen inside the task,
//   checking cancellation; longer ones park the node (step status WAITING, resume time stored)
//   and, once nothing else can run, re-enqueue the execution as a new task with delay_seconds:
//   no worker sleeps through a long wait, and a restart loses nothing.
// - The first step that fails for good fails the execution: no new node starts, running ones
//   finish, error_summary names the step.
#pragma once

#include <plughost/plugin.hpp>
#include <string>
#include <vector>

#include "events.hpp"
#include "services.hpp"
#include "workflows.hpp"

namespace automate {

// Task kind of one execution run; the payload is {"execution_id": "…"}.
constexpr const char* kRunExecutionTask = "run_execution";
constexpr const char* kRunExecutionKind = "automate-workflow/run_execution";

struct EngineSettings {
  double short_wait_seconds = 5;
  int max_parallel_steps = 4;
};

// Inserts one QUEUED execution per workflow in `workflows` for `event` through `txn` (the
// transaction that stores the event); returns their ids, for enqueue_executions after commit.
std::vector<std::string> insert_executions(plughost::sdk::Transaction& txn,
                                           const StoredEvent& event,
                                           const std::vector<RunnableWorkflow>& workflows);

// Queues the task of each execution (idempotent per execution). Failures are logged: the
// executions stay QUEUED and requeue_pending_executions picks them up at the next start.
void enqueue_executions(const Services& p, const std::vector<std::string>& execution_ids);

// At start: queues the task of every QUEUED execution and the continuation of every RUNNING one
// parked on a wait (both idempotent), so nothing stored is left behind by a crash.
void requeue_pending_executions(const Services& p);

// The task: runs a queued execution until it succeeds, fails, or parks on a long wait. A failing
// step is an outcome, not a task failure; storage errors and interruptions (cancel, shutdown)
// propagate, and a re-run resumes after the steps already recorded.
void run_execution(const Services& p, const EngineSettings& settings,
                   plughost::sdk::TaskContext& task);

// A run_execution task reached a final status other than success (task JSON): its execution, if
// still QUEUED or RUNNING, becomes FAILED with the reason.
void fail_abandoned_execution(const Services& p, std::string_view task_json);

// GET /api/automate/executions/ — paginated, newest first; `workflow`, `status`, `since`,
// `until` filters.
void list_executions(const Services& p, const Request& rq, Response& rs);
// The executions list's SQL with or without the `workflow`, `status`, `since`, `until` filters.
ListSql execution_list_sql(bool by_workflow, bool by_status, bool since, bool until);
// GET /api/automate/executions/:id/ — with its steps.
void get_execution(const Services& p, const Request& rq, Response& rs);

// POST /api/automate/executions/:id/replay/ — 202 {execution_id, message, trace_id}: a new
// execution of the same workflow version on the same event, with the same trace id.
Reply replay_execution(const Services& p, const Request& rq);

// `input` with every top-level key that names a credential replaced by "***REDACTED***".
rapidjson::Value redact_secrets(const rapidjson::Value& input,
                                rapidjson::Document::AllocatorType& alloc);

}  // namespace automate
