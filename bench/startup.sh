#!/bin/sh
# Cold start and RSS: time from the exec of the host to its first 200 on /healthz and on /readyz,
# with every plugin of the demo config (config/plughost.yaml as is, all on SQLite) in a fresh data
# directory each round (migrations, the bootstrap admin's password hash, datachat's demo shop, the
# rag index all made on the way), then restarted on that same directory (warm data); and the
# host's RSS once ready (and once the rag plugin's first sync of the demo corpus has finished)
# against a host with no plugin at all. The host is pinned to CPU 0, the poller
# (bench/startup/first200.py, 1 ms polls) to CPU 1. Prints min and median of ROUNDS rounds.
#
# Usage: bench/startup.sh [BUILD_DIR] [ROUNDS]   (defaults: build/release 5)
set -eu
build=${1:-build/release}
rounds=${2:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
work=$(mktemp -d /tmp/plughost-startup-XXXXXX)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
py=/usr/bin/python3
[ -x "$py" ] || py=python3

. "$root/bench/lib.sh"
. "$root/bench/demo.sh"

first200() {  # dir config [wait-for-log-text]; appends "listen health ready rss settled" to $out
  PLUGHOST_STORAGE_URL="sqlite://$1/var/plughost.db" taskset -c 1 "$py" \
    "$root/bench/startup/first200.py" "$build/bin/plughost" "$1" "$2" "$1/host-$$.log" \
    ${3:+"$3"} >>"$out"
}

demo_template "$work"
cat >"$work/none.yaml" <<YAML
version: 1
server: {listen: 127.0.0.1:0, threads: 2}
log: {format: json}
storage: {url: "\${PLUGHOST_STORAGE_URL}"}
plugins: {}
YAML

echo "startup bench: $rounds rounds, host on CPU 0, poller on CPU 1; load average $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$work/cold.txt" && : >"$work/warm.txt" && : >"$work/none.txt"
i=0
while [ "$i" -lt "$rounds" ]; do
  i=$((i + 1))
  demo_instance "$work" "$work/demo-$i"
  out=$work/cold.txt first200 "$work/demo-$i" "$root/config/plughost.yaml" "rag: synced plughost-docs"
  out=$work/warm.txt first200 "$work/demo-$i" "$root/config/plughost.yaml"
  mkdir -p "$work/none-$i/var"
  out=$work/none.txt first200 "$work/none-$i" "$work/none.yaml"
done

# min and median of column $2 of file $1
stat() { sort -n -k"$2" "$1" | awk -v c="$2" '{v[NR] = $c} END {
  m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f / %.1f", v[1], m }'; }
mb() { sort -n -k"$2" "$1" | awk -v c="$2" '{v[NR] = $c} END {
  m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f / %.1f", v[1] / 1024, m / 1024 }'; }

echo
printf '%-36s %16s %16s %16s %14s %14s\n' "min / median of $rounds" "listening ms" "/healthz 200 ms" \
  "/readyz 200 ms" "RSS ready MB" "RSS synced MB"
for kind in cold warm none; do
  case $kind in
    cold) label="all plugins, fresh data dir" ;;
    warm) label="all plugins, restart on its data" ;;
    none) label="no plugins (storage only)" ;;
  esac
  f=$work/$kind.txt
  printf '%-36s %16s %16s %16s %14s %14s\n' "$label" "$(stat "$f" 1)" "$(stat "$f" 2)" \
    "$(stat "$f" 3)" "$(mb "$f" 4)" "$(mb "$f" 5)"
done

echo
med() { sort -n -k"$2" "$1" | awk -v c="$2" '{v[NR] = $c} END {
  print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
awk -v c="$(med "$work/cold.txt" 2)" -v w="$(med "$work/warm.txt" 2)" -v n="$(med "$work/none.txt" 2)" \
  -v ra="$(med "$work/cold.txt" 5)" -v rn="$(med "$work/none.txt" 4)" 'BEGIN {
  printf "cold start to first 200, all plugins (median): fresh %.0f ms, restart %.0f ms, no plugins %.0f ms\n", c, w, n
  printf "RSS all plugins (after the rag sync) / no plugins (median): %.1f MB / %.1f MB = %.1fx (+%.1f MB)\n", ra / 1024, rn / 1024, ra / rn, (ra - rn) / 1024
}'
