// ops_migration.hpp — host-storage tables of the operations side (migration 0004_ops): schedule
// executions, notification deliveries, notebook locks and initial-sync state.
#pragma once

namespace dango {

#define DANGO_OPS_TABLES(ID, BIGINT)                                                          \
  "CREATE TABLE dango_schedule_runs (id " ID                                                  \
  ", schedule TEXT NOT NULL,"                                                                 \
  " trigger_kind TEXT NOT NULL, triggered_by TEXT NOT NULL, due_at TEXT, started_at TEXT NOT" \
  " NULL, job_id " BIGINT                                                                     \
  ", sources TEXT NOT NULL, skipped TEXT NOT NULL, models TEXT NOT NULL,"                     \
  " status TEXT NOT NULL, error TEXT);"                                                       \
  "CREATE INDEX dango_schedule_runs_schedule ON dango_schedule_runs (schedule, id);"          \
  "CREATE INDEX dango_schedule_runs_job ON dango_schedule_runs (job_id);"                     \
  "CREATE TABLE dango_notification_deliveries (id " ID                                        \
  ", target TEXT NOT NULL,"                                                                   \
  " event TEXT NOT NULL, source TEXT, status TEXT NOT NULL, attempts INTEGER NOT NULL,"       \
  " response_status INTEGER, error TEXT, payload TEXT NOT NULL, created_at TEXT NOT NULL,"    \
  " finished_at TEXT, dedupe_key TEXT UNIQUE);"                                               \
  "CREATE TABLE dango_notebook_locks (notebook TEXT PRIMARY KEY, owner_id TEXT NOT NULL,"     \
  " owner_name TEXT NOT NULL, acquired_at TEXT NOT NULL, expires_at " BIGINT                  \
  " NOT NULL);"                                                                               \
  "CREATE TABLE dango_notebooks (name TEXT PRIMARY KEY, creator_id TEXT NOT NULL,"            \
  " creator_name TEXT NOT NULL, created_at TEXT NOT NULL);"                                   \
  "CREATE TABLE dango_initial_sync (id " ID                                                   \
  ", status TEXT NOT NULL, started_at TEXT NOT NULL,"                                         \
  " finished_at TEXT, started_by TEXT NOT NULL, by_token INTEGER NOT NULL, sources TEXT NOT"  \
  " NULL, flag TEXT NOT NULL);"                                                               \
  "CREATE UNIQUE INDEX dango_initial_sync_one_running ON dango_initial_sync (status)"         \
  " WHERE status = 'running';"

constexpr const char* kOpsMigrationSqlite =
    DANGO_OPS_TABLES("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER");
constexpr const char* kOpsMigrationPostgres = DANGO_OPS_TABLES("BIGSERIAL PRIMARY KEY", "BIGINT");

#undef DANGO_OPS_TABLES

}  // namespace dango
