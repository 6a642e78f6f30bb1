#!/bin/sh
# Every benchmark in one run, each against its peer in the same run, with short defaults (about
# five minutes on the shared 2-core machine): the plugin route vs raw Pistache, the workflow list
# vs FastAPI and Django REST framework, webhook ingest vs FastAPI, cold start and RSS, the
# mixed-load soak (60 s at 100 connections, as issue 15 asks), the task queue on SQLite and
# PostgreSQL, the dango CSV sync vs sqlite3 .import and the rag retrieval core. Each one's full
# output is printed as it runs; a summary of the ratio and result lines follows. Exits 1 if any
# benchmark failed (the soak fails on any 5xx or socket error).
#
# Usage: bench/all.sh [BUILD_DIR]
set -eu
build=${1:-build/release}
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
work=$(mktemp -d /tmp/plughost-all-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

failed=""
n=0
bench() {  # name command...
  name=$1
  shift
  n=$((n + 1))
  echo "=== $name: $* (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  if "$@" >"$work/$n.out" 2>&1; then
    cat "$work/$n.out"
  else
    cat "$work/$n.out"
    echo "=== $name FAILED"
    failed="$failed $name"
  fi
  echo "$name" >"$work/$n.name"
  echo
}

started=$(date -u '+%Y-%m-%d %H:%M UTC')
bench "plugin route vs raw Pistache" "$root/bench/run.sh" "$build" 5 32
bench "workflow list vs FastAPI and Django" "$root/bench/workflow_list.sh" "$build" 5 32
bench "webhook ingest vs FastAPI" "$root/bench/webhooks.sh" "$build" 5 32
bench "cold start and RSS" "$root/bench/startup.sh" "$build" 3
bench "soak" "$root/bench/soak.sh" "$build" 60 100
bench "task queue" "$root/bench/tasks.sh" "$build" 1000 2
bench "dango CSV sync vs sqlite3" "$root/bench/dango_csv_sync.sh" "$build" 200000 1
if [ -x "$build/bin/rag_query" ]; then
  bench "rag retrieval core" "$build/bin/rag_query" 10000
fi

echo "=== summary (started $started, load average now $(cut -d' ' -f1-3 /proc/loadavg))"
i=0
while [ "$i" -lt "$n" ]; do
  i=$((i + 1))
  echo "$(cat "$work/$i.name"):"
  grep -E '^ratio|ratio |^cold start|^RSS|^total requests|^soak:|enqueue|hnsw recall|FAILED' \
    "$work/$i.out" | sed 's/^/  /' || true
done
if [ -n "$failed" ]; then
  echo "failed:$failed"
  exit 1
fi
