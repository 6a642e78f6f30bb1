#!/bin/sh
# The automate workflow list — one page of 25 of 10,000 workflows, newest first — served by
# plughost's automate-workflow plugin, by FastAPI + uvicorn and by Django + Django REST framework
# + gunicorn (Debian packages), in one run. All three read copies of the same SQLite file (the
# plugin's own schema, 10,000 rows from bench/workflow_list/seed.sql); each server is pinned to
# CPU 0 with one worker (plughost: one HTTP thread), wrk to CPU 1 with the same settings. Before
# measuring, bench/workflow_list/check_shape.py asserts the peers answer what plughost answers
# (fields, types, values, count, page sizes, links) and the script stops if they do not. Prints
# requests/s, p50, p99 and the ratios plughost / FastAPI and plughost / Django.
#
# Usage: bench/workflow_list.sh [BUILD_DIR] [DURATION_SECONDS] [CONNECTIONS]
# Needs wrk, sqlite3, python3-fastapi, python3-uvicorn, python3-django,
# python3-djangorestframework, gunicorn (scripts/install-deps.sh).
set -eu
build=${1:-build/release}
duration=${2:-10}
conns=${3:-32}
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
here=$root/bench/workflow_list
work=$(mktemp -d /tmp/plughost-list-bench-XXXXXX)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v wrk >/dev/null || { echo "wrk is not installed (scripts/install-deps.sh)"; exit 1; }
command -v gunicorn >/dev/null || { echo "gunicorn is not installed (scripts/install-deps.sh)"; exit 1; }
py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" -c 'import fastapi, uvicorn, django, rest_framework' 2>/dev/null || {
  echo "python3-fastapi / -uvicorn / -django / -djangorestframework missing (scripts/install-deps.sh)"
  exit 1
}

. "$root/bench/lib.sh"

stop() { kill $pids 2>/dev/null || true; for p in $pids; do wait "$p" 2>/dev/null || true; done; pids=""; }

mkdir -p "$work/plugins"
ln -s "$build/plugins/plughost_automate-workflow.so" "$work/plugins/"
cat >"$work/plughost.yaml" <<YAML
version: 1
server:
  listen: 127.0.0.1:0
  threads: 1
log:
  format: json
  access: false
auth: {enabled: false}
rate_limits: {classes: {standard: {limit: 1000000000}}}   # counted, never refused
storage: {url: "sqlite://$work/plughost.db"}
tasks: {workers: 0}
plugins_dir: $work/plugins
plugins:
  automate-workflow: {}
YAML

start_host() {  # log name
  taskset -c 0 "$build/bin/plughost" run --config "$work/plughost.yaml" >"$work/$1.log" 2>&1 &
  pids="$pids $!"
  host_port=$(port_from "$work/$1.log" 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p')
}
# The plugin's migrations make the table; the rows go in with sqlite3, then each peer gets a copy.
start_host plughost
sqlite3 "$work/plughost.db" <"$here/seed.sql"
sqlite3 "$work/plughost.db" ".backup '$work/fastapi.db'"
sqlite3 "$work/plughost.db" ".backup '$work/django.db'"

taskset -c 0 "$py" "$here/fastapi_app.py" "$work/fastapi.db" >"$work/fastapi.log" 2>&1 &
pids="$pids $!"
fastapi_port=$(port_from "$work/fastapi.log" 's/^fastapi listening on \([0-9]*\)$/\1/p')
WORKFLOW_DB="$work/django.db" taskset -c 0 gunicorn --workers 1 --bind 127.0.0.1:0 \
  --chdir "$here" --error-logfile - --log-level info django_app:application >"$work/django.log" 2>&1 &
pids="$pids $!"
django_port=$(port_from "$work/django.log" 's/.*Listening at: http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p')

path=/api/automate/workflows/
"$py" "$here/check_shape.py" "http://127.0.0.1:$host_port" "http://127.0.0.1:$fastapi_port" \
  "http://127.0.0.1:$django_port"
stop

echo "workflow list bench: GET $path (25 of 10,000), ${duration}s per server, $conns connections,"
echo "server on CPU 0 (one worker), wrk on CPU 1; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "SQLite plan of the page query: $(sqlite3 "$work/plughost.db" "EXPLAIN QUERY PLAN SELECT id, \
  name, slug, enabled, trigger_type, workflow_version, created_at, updated_at FROM \
  automate_workflows WHERE tenant = 'default' ORDER BY created_at DESC, id DESC LIMIT 25" |
  sed '1d; s/^[^A-Z]*//' | tr '\n' ' ')"

# One server at a time, so none competes with another for CPU 0. Sets rps_host_<tag> etc.
round() {  # tag
  start_host "plughost-$1"
  measure "plughost automate-workflow" "http://127.0.0.1:$host_port$path" "host_$1" --timeout 10s
  stop
  taskset -c 0 "$py" "$here/fastapi_app.py" "$work/fastapi.db" >"$work/fastapi-$1.log" 2>&1 &
  pids="$pids $!"
  fastapi_port=$(port_from "$work/fastapi-$1.log" 's/^fastapi listening on \([0-9]*\)$/\1/p')
  measure "FastAPI + uvicorn (1 worker)" "http://127.0.0.1:$fastapi_port$path" "fastapi_$1" \
    --timeout 10s
  stop
  WORKFLOW_DB="$work/django.db" taskset -c 0 gunicorn --workers 1 --bind 127.0.0.1:0 \
    --chdir "$here" --error-logfile - --log-level info django_app:application \
    >"$work/django-$1.log" 2>&1 &
  pids="$pids $!"
  django_port=$(port_from "$work/django-$1.log" \
    's/.*Listening at: http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p')
  measure "Django + DRF + gunicorn, 1 worker" "http://127.0.0.1:$django_port$path" \
    "django_$1" --timeout 10s
  stop
}

# The plugin's migrations (0004) index automate_workflows on (tenant, created_at, id), the list's
# filter and order, and the copies carry that index: every server reads one page of rows in
# index order, none sorts the 10,000. (Before that migration a second round added the index
# here; it is no longer needed.)
echo
printf '%-34s %12s %10s %10s\n' "server" "req/s" "p50" "p99"
round indexed
echo
awk -v h="$rps_host_indexed" -v f="$rps_fastapi_indexed" -v d="$rps_django_indexed" 'BEGIN {
  printf "ratio workflow list req/s plughost / FastAPI: %.2fx\n", h / f
  printf "ratio workflow list req/s plughost / Django:  %.2fx\n", h / d
}'
