#!/bin/sh
# Accepted webhooks/s: plughost's automate-workflow route vs a FastAPI + uvicorn handler doing
# the same work (HMAC-SHA256 check, JSON parse, one SQLite insert committed before the 202), in
# one run. Each server is pinned to CPU 0 with one worker, wrk to CPU 1; each gets a fresh SQLite
# file (WAL, synchronous=NORMAL). Prints requests/s, p50, p99 and the ratio plughost / FastAPI.
# plughost also looks up the workflows the event triggers (none here) in the same request.
#
# Usage: bench/webhooks.sh [BUILD_DIR] [DURATION_SECONDS] [CONNECTIONS]
# Needs wrk, python3-fastapi, python3-uvicorn (scripts/install-deps.sh).
set -eu
build=${1:-build/release}
duration=${2:-10}
conns=${3:-32}
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
work=$(mktemp -d /tmp/plughost-webhook-bench-XXXXXX)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is not installed (scripts/install-deps.sh)"; exit 1; }
# Debian's python3 (python3-fastapi lives there), not a pyenv/venv one earlier on PATH.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" -c 'import fastapi, uvicorn' 2>/dev/null ||
  { echo "python3-fastapi / python3-uvicorn are not installed (scripts/install-deps.sh)"; exit 1; }

secret=bench-secret
BODY='{"event_type":"order.created","data":{"order_id":"ORD-123","amount":99.99,"customer_name":"John Doe"}}'
SIGNATURE=$(BODY="$BODY" SECRET="$secret" "$py" -c \
  'import hmac, hashlib, os; print(hmac.new(os.environ["SECRET"].encode(), os.environ["BODY"].encode(), hashlib.sha256).hexdigest())')
export BODY SIGNATURE

. "$root/bench/lib.sh"

stored() {  # sqlite file
  sqlite3 "$1" "SELECT COUNT(*) FROM automate_events"
}

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
  automate-workflow:
    config:
      webhooks:
        bench: {secret: "$secret"}
YAML

echo "webhook bench: ${duration}s per server, $conns connections, server on CPU 0, wrk on CPU 1"
printf '%-34s %12s %10s %10s\n' "server" "req/s" "p50" "p99"

taskset -c 0 "$build/bin/plughost" run --config "$work/plughost.yaml" >"$work/plughost.log" 2>&1 &
pids="$pids $!"
host_port=$(port_from "$work/plughost.log" 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p')
measure "plughost automate-workflow" "http://127.0.0.1:$host_port/api/automate/webhooks/bench/" host \
  -s "$root/bench/webhooks/post.lua"
kill $pids; pids=""

taskset -c 0 "$py" "$root/bench/webhooks/fastapi_app.py" "$work/fastapi.db" "$secret" \
  >"$work/fastapi.log" 2>&1 &
pids="$pids $!"
py_port=$(port_from "$work/fastapi.log" 's/^fastapi listening on \([0-9]*\)$/\1/p')
measure "FastAPI + uvicorn (1 worker)" "http://127.0.0.1:$py_port/api/automate/webhooks/bench/" py \
  -s "$root/bench/webhooks/post.lua"

echo
echo "events stored: plughost $(stored "$work/plughost.db"), FastAPI $(stored "$work/fastapi.db")"
awk -v h="$rps_host" -v p="$rps_py" 'BEGIN {
  printf "ratio accepted webhooks/s plughost / FastAPI: %.2fx\n", h / p
}'
