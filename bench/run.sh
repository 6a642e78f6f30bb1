#!/bin/sh
# Plugin route through plughost vs. a raw Pistache server with the same body, in one run.
# Server pinned to CPU 0, wrk to CPU 1 (taskset); one server thread each. Prints requests/s,
# p50 and p99 per server and the ratio host / raw. Absolute numbers on shared machines are noise;
# the ratio is the result.
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

start_host() {  # access_log(true|false); sets host_port
  cat >"$work/host-$1.yaml" <<YAML
version: 1
server:
  listen: 127.0.0.1:0
  threads: 1
log:
  format: json
  access: $1
auth: {enabled: false}   # the bench plugin has no authenticator; the identity pipeline still runs
rate_limits: {classes: {standard: {limit: 1000000000}}}   # counted, never refused
plugins_dir: $build/bench-plugins
plugins:
  bench: {}
YAML
  taskset -c 0 "$build/bin/plughost" run --config "$work/host-$1.yaml" >"$work/host-$1.log" 2>&1 &
  pids="$pids $!"
  host_port=$(port_from "$work/host-$1.log" 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p')
}
start_raw() {  # mode(fixed|stock); sets raw_port
  taskset -c 0 "$build/bin/raw_pistache" 0 1 "$1" >"$work/raw-$1.log" 2>&1 &
  pids="$pids $!"
  raw_port=$(port_from "$work/raw-$1.log" 's/^raw_pistache listening on \([0-9]*\)$/\1/p')
}

echo "plughost bench: ${duration}s per server, $conns connections, server on CPU 0, wrk on CPU 1"
printf '%-34s %12s %10s %10s\n' "server" "req/s" "p50" "p99"

start_raw fixed
measure "raw pistache (keep-alive fixed)" "http://127.0.0.1:$raw_port/bench" raw
start_raw stock
measure "raw pistache (stock Connection:Close)" "http://127.0.0.1:$raw_port/bench" stock
start_host false
measure "plughost plugin route (no access log)" "http://127.0.0.1:$host_port/bench" host
start_host true
measure "plughost plugin route (access log)" "http://127.0.0.1:$host_port/bench" logged

echo
awk -v h="$rps_host" -v l="$rps_logged" -v r="$rps_raw" -v s="$rps_stock" 'BEGIN {
  printf "ratio plugin route / raw pistache:              %.2fx (target >= 0.90x)\n", h / r
  printf "ratio plugin route with access log / raw:       %.2fx\n", l / r
  printf "ratio raw keep-alive fixed / stock Pistache:    %.2fx\n", r / s
}'
