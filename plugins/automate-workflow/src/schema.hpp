// The plugin's tables (one SQL text for SQLite and PostgreSQL), registered as host migrations.
#pragma once

namespace automate {

// Migration 0001: workflows, their prior versions, events, executions and execution steps.
extern const char* const kSchemaV1;
// Migration 0002: an execution keeps the graph it runs and the event that started it.
extern const char* const kSchemaV2;

}  // namespace automate
