#!/bin/sh
# Every plugin's JSON routes against hostile bodies (tests/scripts/body_sweep.py): the host on
# config/plughost.yaml with every plugin and its demo data, auth off (every caller an anonymous
# admin, so each handler reads the body) and loopback exempt from rate limits, in a scratch
# working directory. Fails on any 5xx that is not an upstream's 502/503/504, or a host that dies.
# Usage: body_sweep.sh <plughost binary> <repository root>
set -eu
bin=$1
repo=$(cd "$2" && pwd)
work=$(mktemp -d /tmp/plughost-sweep-XXXXXX)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

mkdir -p "$work/config" "$work/var/demo/dango" "$work/plugins/rag/demo"
sed 's/exempt_loopback: false/exempt_loopback: true/' "$repo/config/plughost.yaml" \
  >"$work/config/plughost.yaml"
grep -q 'exempt_loopback: true' "$work/config/plughost.yaml" || { echo "no rate_limits block"; exit 1; }
ln -s "$repo/plugins/rag/demo/corpus" "$work/plugins/rag/demo/corpus"
mkdir -p "$work/plugins/dango-sources"
ln -s "$repo/plugins/dango-sources/demo" "$work/plugins/dango-sources/demo"  # dbt, schedules
cp -R "$repo/plugins/inspector/demo/workspace" "$work/var/demo/atlas"
rm -f "$work/var/demo/atlas/db.sqlite3"
cp -R "$repo/plugins/dango-sources/demo/sales" "$work/var/demo/dango/sales"

export PLUGHOST_AUTH=false
export PLUGHOST_SECRET_KEY="$(head -c 32 /dev/urandom | base64)"
export PLUGHOST_ADMIN_PASSWORD="sweep-$(head -c 12 /dev/urandom | base64 | tr '+/' '-_')"
export PLUGHOST_EMBED_KEY="dce_$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
export PLUGHOST_LISTEN=127.0.0.1:0
cd "$work"
"$bin" run --config config/plughost.yaml >host.log 2>&1 &
pid=$!

fail() { echo "body_sweep: $*" >&2; echo "--- host log" >&2; tail -50 host.log >&2; exit 1; }
i=0
until port=$(grep -m1 '"msg":"listening"' host.log | sed -E 's/.*"port":([0-9]+).*/\1/') && [ -n "$port" ]; do
  i=$((i + 1)); [ $i -le 1200 ] || fail "host did not start"
  kill -0 "$pid" 2>/dev/null || fail "host exited"
  sleep 0.1
done
# Path parameters the demo config defines, so handlers get past their lookups to the body.
python3 "$repo/tests/scripts/body_sweep.py" "http://127.0.0.1:$port" --max-per-route 120 \
  --param source=sales,stripe --param name=sales,stg_orders,nightly_sales --param table=sales \
  --param slug=plughost-docs --param id=1,docs --param user_id=1 --param job_id=1 \
  || fail "a plugin answered hostile JSON with a 5xx (above)"
kill -0 "$pid" 2>/dev/null || fail "host died"
