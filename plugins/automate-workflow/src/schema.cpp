#include "schema.hpp"

namespace automate {

// Times are ISO-8601 UTC text with microseconds (they sort as text); JSON columns are text.
const char* const kSchemaV1 = R"sql(
CREATE TABLE automate_workflows (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  name TEXT NOT NULL,
  slug TEXT NOT NULL,
  description TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  trigger_type TEXT NOT NULL,
  trigger_config TEXT NOT NULL,
  graph TEXT NOT NULL,
  graph_hash TEXT NOT NULL,
  workflow_version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (tenant, slug)
);
CREATE TABLE automate_workflow_versions (
  workflow_id TEXT NOT NULL,
  workflow_version INTEGER NOT NULL,
  snapshot TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (workflow_id, workflow_version)
);
CREATE TABLE automate_events (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  source TEXT NOT NULL,
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  dedupe_key TEXT,
  trace_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (tenant, dedupe_key)
);
CREATE TABLE automate_executions (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  workflow_name TEXT NOT NULL,
  workflow_version INTEGER NOT NULL,
  status TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  trigger_event_id TEXT,
  context TEXT NOT NULL,
  error_summary TEXT,
  trace_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  duration_ms BIGINT
);
CREATE INDEX automate_executions_by_tenant ON automate_executions (tenant, created_at);
CREATE TABLE automate_execution_steps (
  id TEXT PRIMARY KEY,
  execution_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  node_key TEXT NOT NULL,
  status TEXT NOT NULL,
  input_data TEXT,
  output_data TEXT,
  error TEXT,
  started_at TEXT,
  finished_at TEXT,
  duration_ms BIGINT
);
)sql";

const char* const kSchemaV2 = R"sql(
ALTER TABLE automate_executions ADD COLUMN graph TEXT;
ALTER TABLE automate_executions ADD COLUMN event TEXT;
)sql";

}  // namespace automate
