// The plugin's tables (one SQL text for SQLite and PostgreSQL), registered as host migrations.
#pragma once

namespace automate {

// Migration 0001: workflows, their prior versions, events, executions and execution steps.
extern const char* const kSchemaV1;
// Migration 0002: an execution keeps the graph it runs and the event that started it.
extern const char* const kSchemaV2;
// Step retries and durable waits (one row per node, upserted), queued-execution recovery, and the
// X-Request-ID idempotency records.
extern const char* const kSchemaV3;

// Indexes in the lists' order (tenant, created_at, id) for workflows, events and executions, and
// (tenant, workflow_id, created_at, id) for one workflow's executions.
extern const char* const kSchemaV4;

}  // namespace automate
