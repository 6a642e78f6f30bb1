// The engine: an execution is a host task that walks a workflow's graph along its edges, running
// each node through its step connector with the node's config rendered from templates, and
// records every step (input redacted, output, status, timings). Plus the Execution API.
#pragma once

#include <plughost/plugin.hpp>
#include <string>

#include "events.hpp"
#include "services.hpp"

namespace automate {

// Task kind of one execution run; the payload is {"execution_id": "…"}.
constexpr const char* kRunExecutionTask = "run_execution";
constexpr const char* kRunExecutionKind = "automate-workflow/run_execution";

// Queues an execution of every enabled workflow `event` triggers.
void start_executions(const Services& p, const StoredEvent& event);

// The task: runs one queued execution to SUCCESS or FAILED. A failing step is an outcome, not a
// task failure; only storage errors propagate (and the host retries the task).
void run_execution(const Services& p, plughost::sdk::TaskContext& task);

// GET /api/automate/executions/ — paginated, newest first; `workflow`, `status`, `since`,
// `until` filters.
void list_executions(const Services& p, const Request& rq, Response& rs);
// GET /api/automate/executions/:id/ — with its steps.
void get_execution(const Services& p, const Request& rq, Response& rs);

// POST /api/automate/executions/:id/replay/ — 202 {execution_id, message, trace_id}: a new
// execution of the same workflow version on the same event, with the same trace id.
void replay_execution(const Services& p, const Request& rq, Response& rs);

// `input` with every top-level key that names a credential replaced by "***REDACTED***".
rapidjson::Value redact_secrets(const rapidjson::Value& input,
                                rapidjson::Document::AllocatorType& alloc);

}  // namespace automate
