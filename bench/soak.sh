#!/bin/sh
# Soak: the real host with every plugin of the demo config (config/plughost.yaml, all on SQLite,
# in a temporary directory, rate limits raised out of reach) under a mixed wrk load for SECONDS
# at CONNECTIONS connections, split evenly over four routes, each driven by its own wrk process
# so each route's latency distribution is wrk's own (a single wrk mixing routes in Lua only has
# the latency of all requests together, and wrk's Lua has no clock fine enough to time requests
# itself):
#   health   GET  /healthz
#   list     GET  /api/automate/workflows/                         (X-API-Key)
#   webhook  POST /api/automate/webhooks/stripe/   signed order.created, runs the demo workflow
#   rag      POST /api/rag/endpoints/plughost-docs/query/           (X-API-Key, demo corpus)
# The API key is made the way a client would: a token for the bootstrap admin
# (POST /api/auth/token/), then POST /api/auth/api-keys. The server is pinned to CPU 0, the four
# wrk processes to CPU 1. Prints per route requests, req/s, p50, p99 and statuses, the total, RSS
# before and after (sampled every 5 s in between) and the peaks (VmHWM) of start-up and of the
# soak itself. Exits 1 on any 5xx, any other unexpected status, any socket error (connect, read,
# write, timeout of 10 s), a webhook answered 202 whose event is not in the database, or a host
# that is not ready afterwards.
#
# Usage: bench/soak.sh [BUILD_DIR] [SECONDS] [CONNECTIONS]   (defaults: build/release 60 100)
set -eu
build=${1:-build/release}
seconds=${2:-60}
conns=${3:-100}
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
work=$(mktemp -d /tmp/plughost-soak-XXXXXX)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v wrk >/dev/null || { echo "wrk is not installed (scripts/install-deps.sh)"; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed (scripts/install-deps.sh)"; exit 1; }
py=/usr/bin/python3
[ -x "$py" ] || py=python3
per=$((conns / 4))
[ "$per" -ge 1 ] || { echo "soak: at least 4 connections"; exit 1; }

. "$root/bench/lib.sh"
. "$root/bench/demo.sh"

json_field() { "$py" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
status_of() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
# Polls (bounded: 300 x 0.2 s) until the command prints the wanted text.
wait_until() {  # what wanted command...
  what=$1 wanted=$2
  shift 2
  for _ in $(seq 300); do
    [ "$("$@" 2>/dev/null || true)" = "$wanted" ] && return 0
    sleep 0.2
  done
  echo "soak: $what did not happen; host log:" >&2
  tail -n 20 "$work/soak/host.log" >&2
  exit 1
}

demo_template "$work"
demo_instance "$work" "$work/soak"
demo_config_unlimited "$work/plughost.yaml"
demo_start "$work/soak" "$work/plughost.yaml"
base=http://127.0.0.1:$host_port
wait_until "readiness" 200 status_of "$base/readyz"

access=$(curl -sf -X POST "$base/api/auth/token/" -H 'Content-Type: application/json' \
  -d "{\"email\":\"$PLUGHOST_ADMIN_EMAIL\",\"password\":\"$PLUGHOST_ADMIN_PASSWORD\"}" |
  json_field access)
API_KEY=$(curl -sf -X POST "$base/api/auth/api-keys" -H "Authorization: Bearer $access" \
  -H 'Content-Type: application/json' -d '{"name":"soak"}' | json_field key)
rag_chunks() {
  curl -sf -H "X-API-Key: $API_KEY" "$base/api/rag/endpoints/plughost-docs/health/" |
    "$py" -c 'import json, sys; print("ingested" if json.load(sys.stdin)["chunk_count"] > 0 else "not yet")'
}
wait_until "rag ingestion of the demo corpus" ingested rag_chunks

webhook_body='{"event_type":"order.created","data":{"order_id":"ORD-1","amount":250,"customer_name":"Ada"}}'
webhook_signature=$(BODY="$webhook_body" SECRET="$AUTOMATE_STRIPE_SECRET" "$py" -c \
  'import hmac, hashlib, os; print(hmac.new(os.environ["SECRET"].encode(), os.environ["BODY"].encode(), hashlib.sha256).hexdigest())')
rag_body='{"query":"How do I write a plugin and register its routes?"}'
list_path=/api/automate/workflows/
hook_path=/api/automate/webhooks/stripe/
rag_path=/api/rag/endpoints/plughost-docs/query/

# Each route answers as expected once before the load (and is warm).
check() {  # route expected status...
  route=$1 want=$2
  shift 2
  got=$(status_of "$@")
  [ "$got" = "$want" ] || { echo "soak: $route answered $got, not $want" >&2; exit 1; }
}
check health 200 "$base/healthz"
check list 200 -H "X-API-Key: $API_KEY" "$base$list_path"
check webhook 202 -X POST -H 'Content-Type: application/json' \
  -H "X-Webhook-Signature: sha256=$webhook_signature" -d "$webhook_body" "$base$hook_path"
check rag 200 -X POST -H 'Content-Type: application/json' -H "X-API-Key: $API_KEY" \
  -d "$rag_body" "$base$rag_path"

rss_start=$(rss_kb "$host_pid")
hwm_startup=$(hwm_kb "$host_pid")
# Writing 5 to clear_refs resets VmHWM to the current RSS, so the peak below is the soak's own.
echo 5 >"/proc/$host_pid/clear_refs"
echo "soak: ${seconds}s, $conns connections ($per per route), host with every demo plugin on CPU 0,"
echo "wrk x4 on CPU 1; load average $(cut -d' ' -f1-3 /proc/loadavg)"

wrk_pids=""
drive() {  # name path method body expect api-key signature
  METHOD=$3 BODY=$4 EXPECT=$5 API_KEY=$6 SIGNATURE=$7 taskset -c 1 wrk -t1 -c"$per" \
    -d"${seconds}s" --timeout 10s --latency -s "$root/bench/soak/route.lua" "$base$2" \
    >"$work/wrk-$1.txt" 2>&1 &
  wrk_pids="$wrk_pids $!"
  pids="$pids $!"
}
drive health /healthz GET "" 200 "" ""
drive list "$list_path" GET "" 200 "$API_KEY" ""
drive webhook "$hook_path" POST "$webhook_body" 202 "" "$webhook_signature"
drive rag "$rag_path" POST "$rag_body" 200 "$API_KEY" ""

samples="$rss_start"
running() { for p in $wrk_pids; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
while running; do
  sleep 5
  running && samples="$samples $(rss_kb "$host_pid")"
done
for p in $wrk_pids; do wait "$p" || { echo "soak: wrk failed:"; cat "$work"/wrk-*.txt; exit 1; }; done
rss_end=$(rss_kb "$host_pid")
hwm=$(hwm_kb "$host_pid")

echo
printf '%-8s %6s %10s %10s %10s %10s %8s %6s %6s %s\n' route conns requests "req/s" p50 p99 \
  expected other 5xx "socket errors"
total=0 bad=0
for r in health list webhook rag; do
  f=$work/wrk-$r.txt
  n=$(awk '/requests in/ {print $1}' "$f")
  rps=$(awk '/Requests\/sec/ {print $2}' "$f")
  p50=$(awk '$1=="50%" {print $2}' "$f")
  p99=$(awk '$1=="99%" {print $2}' "$f")
  set -- $(awk '/^statuses:/ {print $3, $5, $7}' "$f")
  sock=$(awk '/Socket errors/ {s = $4 + $6 + $8 + $10; print s}' "$f")
  sock=${sock:-0}
  printf '%-8s %6s %10s %10s %10s %10s %8s %6s %6s %s\n' "$r" "$per" "$n" "$rps" "$p50" "$p99" \
    "$1" "$2" "$3" "$sock"
  total=$((total + n))
  [ "$r" = webhook ] && accepted=$1
  [ "$2" -eq 0 ] && [ "$3" -eq 0 ] && [ "$sock" -eq 0 ] || bad=$((bad + 1))
done
ready=$(status_of "$base/readyz")
# Every 202 is an event stored before the answer: the soak's plus the one of the check above,
# and at most one per webhook connection more (answered as wrk stopped, so not counted by it).
stored=$(sqlite3 "$work/soak/var/plughost.db" "SELECT COUNT(*) FROM automate_events")
executions=$(sqlite3 "$work/soak/var/plughost.db" "SELECT COUNT(*) FROM automate_executions")
[ "$stored" -ge $((accepted + 1)) ] && [ "$stored" -le $((accepted + 1 + per)) ] ||
  bad=$((bad + 1))
errors_logged=$(grep -c '"level":"error"' "$work/soak/host.log" || true)
echo
echo "total requests: $total in ${seconds}s; host /readyz afterwards: $ready; error log lines: $errors_logged"
echo "webhook events stored: $stored for $((accepted + 1)) answers 202 counted; demo workflow executions so far: $executions"
awk -v s="$rss_start" -v e="$rss_end" -v h="$hwm" -v hs="$hwm_startup" -v all="$samples" 'BEGIN {
  n = split(all, x, " "); line = ""
  for (i = 1; i <= n; i++) line = line sprintf("%s%.1f", i > 1 ? " " : "", x[i] / 1024)
  printf "RSS start %.1f MB, end %.1f MB (%+.1f MB), peak during the soak (VmHWM) %.1f MB\n", s / 1024, e / 1024, (e - s) / 1024, h / 1024
  printf "peak before the soak (start-up and rag ingestion, VmHWM) %.1f MB\n", hs / 1024
  printf "RSS every 5 s (MB): %s\n", line
}'
if [ "$bad" -ne 0 ] || [ "$ready" != 200 ]; then
  echo "soak: FAILED (unexpected statuses, 5xx, socket errors, lost events or host not ready)"
  exit 1
fi
echo "soak: passed (no 5xx, no unexpected status, no socket error)"
