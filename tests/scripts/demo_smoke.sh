#!/bin/sh
# The README's run command, end to end: the host on config/plughost.yaml with every plugin and its
# demo data (in a scratch working directory, not the repository's var/), then one real request per
# plugin demo — sign-in and a token, the inspector's sample workspace, a workflow, a DataChat
# question, a RAG query, a message to the embed widget's chat endpoint, and a sync of the Dango
# sample CSV source.
# Usage: demo_smoke.sh <plughost binary> <repository root>
set -eu
bin=$1
repo=$(cd "$2" && pwd)
work=$(mktemp -d /tmp/plughost-demo-XXXXXX)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The working directory the config's relative paths resolve against, as scripts/run.sh sets it up.
mkdir -p "$work/config" "$work/var/demo" "$work/plugins/rag/demo"
cp "$repo/config/plughost.yaml" "$work/config/"
ln -s "$repo/plugins/rag/demo/corpus" "$work/plugins/rag/demo/corpus"
cp -R "$repo/plugins/inspector/demo/workspace" "$work/var/demo/atlas"
rm -f "$work/var/demo/atlas/db.sqlite3"
(cd "$work/var/demo/atlas" && /usr/bin/python3 manage.py migrate ops 0001 >/dev/null)
mkdir -p "$work/var/demo/dango"
cp -R "$repo/plugins/dango-sources/demo/sales" "$work/var/demo/dango/sales"

export PLUGHOST_SECRET_KEY="$(head -c 32 /dev/urandom | base64)"
export PLUGHOST_ADMIN_PASSWORD="demo-$(head -c 12 /dev/urandom | base64 | tr '+/' '-_')"
export PLUGHOST_EMBED_KEY="dce_$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
export PLUGHOST_LISTEN=127.0.0.1:0
cd "$work"
"$bin" check --config config/plughost.yaml
# The plugins folder next to the binary's bin/ folder (the config leaves plugins_dir out).
"$bin" run --config config/plughost.yaml >host.log 2>&1 &
pid=$!

fail() { echo "demo_smoke: $*" >&2; echo "--- host log" >&2; tail -50 host.log >&2; exit 1; }
i=0
until port=$(grep -m1 '"msg":"listening"' host.log | sed -E 's/.*"port":([0-9]+).*/\1/') && [ -n "$port" ]; do
  i=$((i + 1)); [ $i -le 1200 ] || fail "host did not start"
  kill -0 "$pid" 2>/dev/null || fail "host exited"
  sleep 0.1
done
base="http://127.0.0.1:$port"
# JSON field of stdin by a Python expression on `d`.
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# Every plugin up.
i=0
until curl -sf "$base/readyz" >/dev/null; do
  i=$((i + 1)); [ $i -le 1200 ] || fail "readyz never 200: $(curl -s "$base/readyz")"
  sleep 0.1
done

token=$(curl -sf -X POST "$base/api/auth/token/" -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin@example.com\",\"password\":\"$PLUGHOST_ADMIN_PASSWORD\"}" | field 'd["access"]') \
  || fail "no token for the bootstrap admin"
auth="Authorization: Bearer $token"

# The apps come from the start-up schema scan, a task that may still be running (slow under
# AddressSanitizer): polled, bounded.
i=0
until apps=$(curl -sf "$base/api/workspaces/atlas/status/" -H "$auth" | field 'len(d["apps"])') \
    && [ "$apps" -ge 1 ]; do
  i=$((i + 1)); [ $i -le 600 ] || fail "inspector: no apps after the start-up scan (${apps:-no answer})"
  sleep 0.1
done

curl -sf "$base/api/automate/workflows/" -H "$auth" | grep -q demo-order-router || fail "automate: demo workflow missing"

answer=$(curl -sf -X POST "$base/api/datachat/chat/" -H "$auth" -H 'Content-Type: application/json' \
  -d '{"question":"How many customers are there?"}' | field 'd["answer"]') || fail "datachat"
echo "$answer" | grep -q "customers" || fail "datachat answer: $answer"

# RAG ingests at start as a host task: wait until the endpoint has documents.
i=0
until docs=$(curl -sf "$base/api/rag/endpoints/plughost-docs/health/" -H "$auth" | field 'd["document_count"]') && [ "${docs:-0}" -gt 0 ]; do
  i=$((i + 1)); [ $i -le 1200 ] || fail "rag never ingested the demo corpus"
  sleep 0.1
done
hits=$(curl -sf -X POST "$base/api/rag/endpoints/plughost-docs/query/" -H "$auth" \
  -H 'Content-Type: application/json' -d '{"query":"how do I write a plugin","top_k":3}' \
  | field 'len(d["results"])') || fail "rag query"
[ "$hits" -ge 1 ] || fail "rag: no results"

curl -sf "$base/api/embed/docs/demo/" | grep -q 'widget.js' || fail "embed demo page"
reply=$(curl -sf -X POST "$base/api/embed/docs/chat/" -H "X-API-Key: $PLUGHOST_EMBED_KEY" \
  -H 'Origin: http://localhost:3000' -H 'Content-Type: application/json' \
  -d '{"message":"How do I write a plugin?"}') || fail "embed chat"
echo "$reply" | field 'len(d["sources"])' | grep -qv '^0$' || fail "embed: no sources in $reply"

# 200 "Sync started", or 409 when a sync of the source (e.g. a scheduled one) is already running.
code=$(curl -s -o sync.json -w '%{http_code}' -X POST "$base/api/sources/sales/sync" -H "$auth" \
  -H 'Content-Type: application/json' -d '{}')
case "$code" in
  200) grep -q 'Sync started for sales' sync.json || fail "dango-sources: $(cat sync.json)" ;;
  409) ;;
  *) fail "dango-sources: sync answered $code: $(cat sync.json)" ;;
esac
i=0
until rows=$(curl -sf "$base/api/sources" -H "$auth" | field '[s["row_count"] for s in d if s["name"] == "sales" and s["status"] == "synced"][0]' 2>/dev/null) && [ "${rows:-0}" -eq 7 ]; do
  i=$((i + 1)); [ $i -le 1200 ] || fail "dango-sources: the sample CSV files never synced: $(curl -s "$base/api/sources" -H "$auth")"
  sleep 0.1
done

echo "demo_smoke: every plugin's demo answered"
