#!/bin/sh
# Plugin route through plughost vs. a raw Pistache server with the same body, in one run.
# Server pinned to CPU 0, wrk to CPU 1 (taskset); one server thread each. Prints requests/s,
# p50, p99 and the server's CPU microseconds per request per server, and the ratios host / raw.
# Absolute numbers on shared machines are noise; the ratios are the result, and the CPU ratio
# (raw CPU per request / host CPU per request) is the one other load moves least.
#
# The host is measured twice: as shipped (server.request_timeout_seconds 30: each plugin handler
# runs on a handler thread, so a hung one is answered 504 and never holds the HTTP thread) and
# with request_timeout_seconds: 0 (handlers on the HTTP thread; no hang protection).
#
# Usage: bench/run.sh [BUILD_DIR] [DURATION_SECONDS] [CONNECTIONS]
set -eu
build=${1:-build/release}
duration=${2:-10}
conns=${3:-32}
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
work=$(mktemp -d /tmp/plughost-bench-XXXXXX)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is not installed (scripts/install-deps.sh)"; exit 1; }
. "$root/bench/lib.sh"

start_host() {  # access_log(true|false) request_timeout_seconds; sets host_port, server_pid
  cat >"$work/host-$1-$2.yaml" <<YAML
version: 1
server:
  listen: 127.0.0.1:0
  threads: 1
  request_timeout_seconds: $2
log:
  format: json
  access: $1
auth: {enabled: false}   # the bench plugin has no authenticator; the identity pipeline still runs
rate_limits: {classes: {standard: {limit: 1000000000}}}   # counted, never refused
plugins_dir: $build/bench-plugins
plugins:
  bench: {}
YAML
  taskset -c 0 "$build/bin/plughost" run --config "$work/host-$1-$2.yaml" \
    >"$work/host-$1-$2.log" 2>&1 &
  server_pid=$!
  pids="$pids $!"
  host_port=$(port_from "$work/host-$1-$2.log" 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p')
}
start_raw() {  # mode(fixed|stock); sets raw_port, server_pid
  taskset -c 0 "$build/bin/raw_pistache" 0 1 "$1" >"$work/raw-$1.log" 2>&1 &
  server_pid=$!
  pids="$pids $!"
  raw_port=$(port_from "$work/raw-$1.log" 's/^raw_pistache listening on \([0-9]*\)$/\1/p')
}

echo "plughost bench: ${duration}s per server, $conns connections, server on CPU 0, wrk on CPU 1"
printf '%-34s %12s %10s %10s %10s\n' "server" "req/s" "p50" "p99" "cpu/req"

start_raw fixed
measure "raw pistache (keep-alive fixed)" "http://127.0.0.1:$raw_port/bench" raw
start_raw stock
measure "raw pistache (stock Connection:Close)" "http://127.0.0.1:$raw_port/bench" stock
start_host false 30
measure "plughost plugin route (no access log)" "http://127.0.0.1:$host_port/bench" host
start_host true 30
measure "plughost plugin route (access log)" "http://127.0.0.1:$host_port/bench" logged
start_host false 0
measure "plughost, request_timeout_seconds: 0" "http://127.0.0.1:$host_port/bench" inline

echo
awk -v h="$rps_host" -v l="$rps_logged" -v i="$rps_inline" -v r="$rps_raw" -v s="$rps_stock" \
  -v ch="$cpu_host" -v ci="$cpu_inline" -v cr="$cpu_raw" 'BEGIN {
  printf "ratio plugin route / raw pistache:              %.2fx req/s, %.2fx CPU per request\n", h / r, cr / ch
  printf "ratio plugin route with access log / raw:       %.2fx\n", l / r
  printf "ratio plugin route, no handler pool / raw:      %.2fx req/s, %.2fx CPU per request\n", i / r, cr / ci
  printf "ratio raw keep-alive fixed / stock Pistache:    %.2fx\n", r / s
}'
