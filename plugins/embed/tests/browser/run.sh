#!/bin/sh
# The embed widget in a real browser: starts plughost (embed + a RAG source) on loopback, serves a
# test page from an allowed site (http://127.0.0.1:<port>) and the same page from a site the embed
# does not allow (http://localhost:<port>), and drives Debian's headless Chromium over both with
# Playwright (widget_browser.mjs). Leaves a screenshot in <work dir>/widget.png.
# Usage: run.sh <plughost> <work dir> <rag yaml | -> <plugin.so>...
#   <rag yaml>: a file with the `plugins:` entries (2-space indent) that provide the `docs` RAG
#   endpoint; `-`: the embed tests' fake sources plugin. The plugin libraries (embed's and the
#   RAG provider's) are linked into a plugins dir of the run. EXPECTED_ANSWER / QUESTION set what
#   is asked and what the answer must contain.
set -eu
bin=$1
work=$2
rag_yaml=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
run=$(mktemp -d "$work/run.XXXXXX")
plugins="$run/plugins"
mkdir -p "$plugins"
for so in "$@"; do ln -s "$(cd "$(dirname "$so")" && pwd)/$(basename "$so")" "$plugins/"; done
host_pid=""
web_pid=""
cleanup() {
  [ -n "$host_pid" ] && kill "$host_pid" 2>/dev/null || true
  [ -n "$web_pid" ] && kill "$web_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# Playwright (the npm package only; the browser is Debian's /usr/bin/chromium).
if [ ! -d "$work/node_modules/playwright-core" ] || ! cmp -s "$here/package-lock.json" "$work/package-lock.json"; then
  cp "$here/package.json" "$here/package-lock.json" "$work/"
  (cd "$work" && npm ci --no-audit --no-fund --loglevel=error)
fi

# Waits (up to 30 s) until $2 matches a line of file $1; prints that line.
await_line() {
  i=0
  while [ $i -lt 300 ]; do
    if line=$(grep -m1 -E "$2" "$1" 2>/dev/null); then echo "$line"; return 0; fi
    i=$((i + 1))
    sleep 0.1
  done
  echo "timed out waiting for /$2/ in $1:" >&2
  cat "$1" >&2
  return 1
}

# The site: one static server, reached as two origins.
mkdir -p "$run/site"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$run/site" >"$run/web.log" 2>&1 &
web_pid=$!
web_port=$(await_line "$run/web.log" 'port [0-9]+' | sed -E 's/.*port ([0-9]+).*/\1/')

key="dce_$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
if [ "$rag_yaml" = "-" ]; then
  rag_entries="  embed_fake_sources: {}"
else
  rag_entries=$(cat "$rag_yaml")
fi
cat >"$run/plughost.yaml" <<YAML
version: 1
server: {listen: 127.0.0.1:0}
log: {format: json, access: true}
storage: {url: "sqlite://$run/host.db"}
plugins_dir: $plugins
plugins:
$rag_entries
  embed:
    required: true
    config:
      embeds:
        - id: help
          title: Help Desk
          primary_color: "#112233"
          welcome_message: Welcome to the help desk!
          placeholder: Ask about the docs
          api_key: "$key"
          allowed_origins: ["http://127.0.0.1:*"]
          answer: {source: rag, endpoint: docs}
YAML
"$bin" run --config "$run/plughost.yaml" >"$run/host.log" 2>&1 &
host_pid=$!
host_port=$(await_line "$run/host.log" '"msg":"listening"' | sed -E 's/.*"port":([0-9]+).*/\1/')
await_line "$run/host.log" '"msg":"ready"|"msg":"listening"' >/dev/null

# ES modules resolve packages next to the script: run it from the work dir.
cp "$here/widget_browser.mjs" "$work/"
sed -e "s#__WIDGET_URL__#http://127.0.0.1:$host_port/api/embed/help/widget.js#" -e "s#__KEY__#$key#" \
  "$here/page.html" >"$run/site/page.html"

QUESTION=${QUESTION:-How is the webhook signature computed?} \
EXPECTED_ANSWER=${EXPECTED_ANSWER:-The signature is an HMAC-SHA256 of the raw body} \
  node "$work/widget_browser.mjs" "http://127.0.0.1:$web_port/page.html" \
    "http://localhost:$web_port/page.html" "http://127.0.0.1:$host_port/api/embed/help/chat/" \
    "$key" "$work/widget.png" || { echo "--- host log"; cat "$run/host.log"; exit 1; }
rm -rf "$run"
