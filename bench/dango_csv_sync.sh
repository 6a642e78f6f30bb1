#!/bin/sh
# A 1,000,000-row CSV synced by the dango-sources plugin through the real host (SQLite warehouse)
# vs. `sqlite3 .import --csv` of the same file, in one run: rows/s of both and their ratio, in wall
# and in CPU time, plus the host's peak memory. The two alternate ROUNDS times (each sync into a
# source of its own, each import into a fresh database) and the best of each is compared, so that
# a burst of load on a shared machine does not decide the ratio.
# Usage: bench/dango_csv_sync.sh [BUILD_DIR] [ROWS] [ROUNDS]
# DANGO_BENCH_PERF=file records a perf profile of the host over the syncs.
set -eu
build=${1:-build/release}
rows=${2:-1000000}
rounds=${3:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/plughost-dangobench-XXXXXX)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
. "$root/bench/lib.sh"

command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed"; exit 1; }
plugin=$(find "$build" -name 'plughost_dango-sources.so' | head -n1)
[ -n "$plugin" ] || { echo "no plughost_dango-sources.so under $build"; exit 1; }
mkdir -p "$work/plugins" "$work/csv"
ln -s "$(realpath "$plugin")" "$work/plugins/plughost_dango-sources.so"
csv="$work/csv/orders.csv"

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
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$1/stat"; }

sources=""
for r in $(seq "$rounds"); do
  sources="$sources{name: big$r, type: csv, options: {folder: \"$work/csv\"}}, "
done
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
    config: {data_dir: "$work/data", sources: [$sources]}
YAML
"$build/bin/plughost" run --config "$work/host.yaml" >"$work/host.log" 2>&1 &
host_pid=$!
pids="$pids $host_pid"
port=$(port_from "$work/host.log" 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p')
[ -z "${DANGO_BENCH_PERF:-}" ] || {
  perf record -g -p "$host_pid" -o "$DANGO_BENCH_PERF" 2>/dev/null &
  perf_pid=$!
}

# sqlite3's import into a fresh database: prints "wall_ms cpu_ms rows".
import_once() {
  python3 -c '
import resource, subprocess, sys, time
t = time.time()
subprocess.run(sys.argv[1:], check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(int((time.time() - t) * 1000), int((r.ru_utime + r.ru_stime) * 1000), end=" ")' \
    sqlite3 "$work/import$1.db" ".import --csv $csv t"
  sqlite3 "$work/import$1.db" "SELECT COUNT(*) FROM t"
}

# One sync as a job, polled twice a second with curl and sed only (the poller shares the CPU with
# the sync): prints "task_ms cpu_ms rows wall_ms".
sync_once() {
  cpu0=$(cpu_ms "$host_pid")
  t0=$(now_ms)
  job=$(curl -sf -X POST -H 'Content-Type: application/json' -d "{\"sources\": [\"$1\"]}" \
    "http://127.0.0.1:$port/api/sync/trigger" | sed -n 's/.*"job_id":\([0-9]*\).*/\1/p')
  status=running
  while [ "$status" = running ]; do
    sleep 0.5
    status=$(curl -sf "http://127.0.0.1:$port/api/sync/status/$job" |
      sed -n 's/^{[^{]*"status":"\([a-z]*\)".*/\1/p')
  done
  t1=$(now_ms)
  cpu1=$(cpu_ms "$host_pid")
  [ "$status" = success ] || { echo "sync $status" >&2; exit 1; }
  curl -sf "http://127.0.0.1:$port/api/sources/$1/details" | python3 -c '
import json, sys
run = json.load(sys.stdin)["sync_history"][0]
print(run["duration_ms"], sys.argv[1], run["rows_loaded"], sys.argv[2])' \
    "$((cpu1 - cpu0))" "$((t1 - t0))"
}

results=""
for r in $(seq "$rounds"); do
  results="$results
import $(import_once "$r")
sync $(sync_once "big$r")"
done
peak_kb=$(awk '/VmHWM/ {print $2}' "/proc/$host_pid/status")
[ -z "${DANGO_BENCH_PERF:-}" ] || kill -INT "$perf_pid"

echo "$results" | python3 -c '
import sys
rows, size, peak_kb = map(int, sys.argv[1:4])
imports, syncs = [], []
for line in sys.stdin:
    f = line.split()
    if f and f[0] == "import": imports.append(tuple(map(int, f[1:4])))
    if f and f[0] == "sync": syncs.append(tuple(map(int, f[1:5])))
print("dango-sources CSV sync vs sqlite3 .import: %d rows, %d MB CSV, %d alternating rounds"
      % (rows, size, len(syncs)))
print("%-46s %s" % ("", "   ms (rows/s) per round"))
def line(name, values, n):
    print("%-46s %s" % (name, "  ".join("%6d (%7.0f)" % (v, n[i] / v * 1000)
                                        for i, v in enumerate(values))))
line("sqlite3 .import --csv, wall", [i[0] for i in imports], [i[2] for i in imports])
line("dango sync, task duration", [s[0] for s in syncs], [s[2] for s in syncs])
line("dango sync, POST to done seen by the poller", [s[3] for s in syncs], [s[2] for s in syncs])
line("sqlite3 .import, CPU time", [i[1] for i in imports], [i[2] for i in imports])
line("dango host process during the sync, CPU time", [s[1] for s in syncs], [s[2] for s in syncs])
assert all(i[2] == rows for i in imports) and all(s[2] == rows for s in syncs), "row counts"
best = lambda xs: min(xs)
print("ratio dango/sqlite3, best wall (task duration): %.2fx"
      % (best(i[0] for i in imports) / best(s[0] for s in syncs)))
print("ratio dango/sqlite3, best CPU time: %.2fx"
      % (best(i[1] for i in imports) / best(s[1] for s in syncs)))
print("host peak RSS: %d MB" % (peak_kb // 1024))' "$rows" "$size" "$peak_kb"
