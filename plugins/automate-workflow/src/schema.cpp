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

const char* const kSchemaV3 = R"sql(
ALTER TABLE automate_execution_steps ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE automate_execution_steps ADD COLUMN retries TEXT;
ALTER TABLE automate_execution_steps ADD COLUMN resume_at DOUBLE PRECISION;
CREATE UNIQUE INDEX automate_execution_steps_by_node
  ON automate_execution_steps (execution_id, node_key);
CREATE INDEX automate_executions_by_status ON automate_executions (status);
CREATE TABLE automate_request_keys (
  scope TEXT PRIMARY KEY,
  body_hash TEXT NOT NULL,
  status INTEGER NOT NULL,
  body TEXT,
  expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX automate_request_keys_by_expiry ON automate_request_keys (expires_at);
)sql";

// Each list reads one page of a tenant's rows newest first (ORDER BY created_at DESC, id DESC):
// these indexes give that order, so a page reads its rows instead of sorting all of them.
// (The executions one replaces automate_executions_by_tenant, which lacked the id tie-break.)
const char* const kSchemaV4 = R"sql(
CREATE INDEX automate_workflows_by_created ON automate_workflows (tenant, created_at, id);
CREATE INDEX automate_events_by_created ON automate_events (tenant, created_at, id);
DROP INDEX automate_executions_by_tenant;
CREATE INDEX automate_executions_by_created ON automate_executions (tenant, created_at, id);
CREATE INDEX automate_executions_by_workflow
  ON automate_executions (tenant, workflow_id, created_at, id);
)sql";

}  // namespace automate
