#!/bin/sh
# Task queue throughput, no-op tasks, on SQLite (a file in /tmp) and on a throwaway PostgreSQL
# server, in one run. Usage: bench/tasks.sh [BUILD_DIR] [TASKS] [WORKERS]
set -eu
build=${1:-build/release}
tasks=${2:-2000}
workers=${3:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/plughost-taskbench-XXXXXX)
trap 'rm -rf "$dir"' EXIT
"$build/bin/task_throughput" "sqlite://$dir/bench.db" "$tasks" "$workers"
"$root/tests/scripts/with_postgres.sh" sh -c \
  "\"$build/bin/task_throughput\" \"\$PLUGHOST_TEST_POSTGRES_URL\" $tasks $workers"
