#!/bin/sh
# A 1,000,000-row CSV synced by the dango-sources plugin through the real host (SQLite warehouse)
# vs. `sqlite3 .import --csv` of the same file, in one run: rows/s of both and their ratio, plus the
# host's peak memory. Usage: bench/dango_csv_sync.sh [BUILD_DIR] [ROWS]
set -eu
build=${1:-build/release}
rows=${2:-1000000}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/plughost-dangobench-XXXXXX)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
. "$root/bench/lib.sh"

command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed"; exit 1; }
plugin=$(find "$build" -name 'plughost_dango-sources.so' | head -n1)
[ -n "$plugin" ] || { echo "no plughost_dango-sources.so under $build"; exit 1; }
mkdir -p "$work/plugins" "$work/data/uploads/big"
ln -s "$(realpath "$plugin")" "$work/plugins/plughost_dango-sources.so"
csv="$work/data/uploads/big/orders.csv"

# Orders: an integer id, text, a real, a date, a status and a note that is quoted (with the
# delimiter inside) on every tenth row and empty on every fifth.
python3 - "$csv" "$rows" <<'PY'
import random, sys
path, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)
statuses = ["paid", "refunded", "pending", "failed"]
with open(path, "w") as f:
    f.write("id,customer,amount,ordered_on,status,note\n")
    for i in range(1, n + 1):
        note = '"gift, wrapped"' if i % 10 == 0 else ("" if i % 5 == 0 else "web")
        f.write("%d,cus_%06d,%.2f,2026-%02d-%02d,%s,%s\n" % (
            i, rnd.randrange(1000000), rnd.random() * 500, 1 + i % 12, 1 + i % 28,
            statuses[i % 4], note))
PY
size=$(du -m "$csv" | cut -f1)
now_ms() { date +%s%3N; }

# sqlite3's own CSV import of the same file into a fresh database.
# Wall and CPU (user + system) milliseconds: on a shared machine CPU time is the steadier measure.
set -- $(python3 -c '
import resource, subprocess, sys, time
t = time.time()
subprocess.run(sys.argv[1:], check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(int((time.time() - t) * 1000), int((r.ru_utime + r.ru_stime) * 1000))' \
  sqlite3 "$work/import.db" ".import --csv $csv t")
import_ms=$1
import_cpu_ms=$2
imported=$(sqlite3 "$work/import.db" "SELECT COUNT(*) FROM t")

cat >"$work/host.yaml" <<YAML
version: 1
server: {listen: 127.0.0.1:0, threads: 2}
log: {format: json, access: false}
storage: {url: "sqlite://$work/host.db"}
tasks: {workers: 1, poll_interval_seconds: 0.01}
auth: {enabled: false}
rate_limits: {enabled: false}
plugins_dir: $work/plugins
plugins:
  dango-sources:
    config: {data_dir: "$work/data", sources: [{name: big, type: csv}]}
YAML
"$build/bin/plughost" run --config "$work/host.yaml" >"$work/host.log" 2>&1 &
host_pid=$!
pids="$pids $host_pid"
port=$(port_from "$work/host.log" 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p')

# DANGO_BENCH_PERF=file: a perf profile of the host during the sync.
[ -z "${DANGO_BENCH_PERF:-}" ] || { perf record -g -p "$host_pid" -o "$DANGO_BENCH_PERF" 2>/dev/null & perf_pid=$!; }
[ -z "${DANGO_BENCH_STRACE:-}" ] || { strace -f -c -o "$DANGO_BENCH_STRACE" -p "$host_pid" 2>/dev/null & strace_pid=$!; sleep 0.5; }
# One multi-source job of this one source, polled on the job status (cheap: no row counting).
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$1/stat"; }
cpu0=$(cpu_ms "$host_pid")
t0=$(now_ms)
job=$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"sources": ["big"]}' \
  "http://127.0.0.1:$port/api/sync/trigger" | python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])')
status=running
# Polled twice a second with curl and sed only: the poller shares the CPU with the sync.
while [ "$status" = running ]; do
  sleep 0.5
  status=$(curl -sf "http://127.0.0.1:$port/api/sync/status/$job" |
    sed -n 's/^{[^{]*"status":"\([a-z]*\)".*/\1/p')
done
t1=$(now_ms)
wall_ms=$((t1 - t0))
sync_cpu_ms=$(($(cpu_ms "$host_pid") - cpu0))
details=$(curl -sf "http://127.0.0.1:$port/api/sources/big/details")
sync_ms=$(echo "$details" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sync_history"][0]["duration_ms"])')
loaded=$(echo "$details" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sync_history"][0]["rows_loaded"])')
peak_kb=$(awk '/VmHWM/ {print $2}' "/proc/$host_pid/status")
[ "$status" = success ] || { echo "sync $status:"; echo "$details"; exit 1; }
[ -z "${DANGO_BENCH_PERF:-}" ] || kill -INT "$perf_pid"
[ -z "${DANGO_BENCH_STRACE:-}" ] || { kill -INT "$strace_pid"; sleep 1; }

python3 - "$rows" "$size" "$import_ms" "$imported" "$sync_ms" "$wall_ms" "$loaded" "$peak_kb" \
  "$import_cpu_ms" "$sync_cpu_ms" <<'PY'
import sys
(rows, size, import_ms, imported, sync_ms, wall_ms, loaded, peak_kb, import_cpu,
 sync_cpu) = map(int, sys.argv[1:])
print("dango-sources CSV sync vs sqlite3 .import: %d rows, %d MB CSV, one run" % (rows, size))
print("%-44s %9s %12s" % ("", "ms", "rows/s"))
print("%-44s %9d %12.0f" % ("sqlite3 .import --csv (%d rows)" % imported, import_ms, imported / import_ms * 1000))
print("%-44s %9d %12.0f" % ("dango sync, task duration (%d rows)" % loaded, sync_ms, loaded / sync_ms * 1000))
print("%-44s %9d %12.0f" % ("dango sync, POST to status polled done", wall_ms, loaded / wall_ms * 1000))
print("%-44s %9d %12.0f" % ("sqlite3 .import, CPU time", import_cpu, imported / import_cpu * 1000))
print("%-44s %9d %12.0f" % ("dango host process during the sync, CPU time", sync_cpu, loaded / sync_cpu * 1000))
print("ratio dango/sqlite3 (task duration): %.2fx" % (import_ms / sync_ms))
print("ratio dango/sqlite3 (CPU time): %.2fx" % (import_cpu / sync_cpu))
print("ratio dango/sqlite3 (wall, incl. polling): %.2fx" % (import_ms / wall_ms))
print("host peak RSS: %d MB" % (peak_kb // 1024))
PY
