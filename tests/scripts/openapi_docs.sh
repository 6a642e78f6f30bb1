#!/bin/sh
# The OpenAPI document and the docs UIs of the real binary with every built plugin (plus the
# fixture_good plugin, whose routes declare schemas) loaded from the demo config:
#   - `plughost openapi` and GET /openapi.json give the same document;
#   - two npm validators accept it (tests/openapi, installed with npm ci, pinned by its lock);
#   - every route of `plughost routes --json` is in it with its parameters, permission, security;
#   - /api/docs, /api/redoc and their assets are served with their content types and a strict CSP.
# usage: openapi_docs.sh SOURCE_DIR BUILD_DIR PLUGHOST_BIN   (UPDATE_DOCS=1: rewrite docs/api/)
set -eu
src=$1 build=$2 bin=$3
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# -- validators (npm ci only when the lock changed) ----------------------------------------------
val=$build/openapi-validator
mkdir -p "$val"
if ! cmp -s "$src/tests/openapi/package-lock.json" "$val/package-lock.json" || [ ! -d "$val/node_modules" ]; then
  cp "$src/tests/openapi/package.json" "$src/tests/openapi/package-lock.json" "$val/"
  (cd "$val" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
cp "$src/tests/openapi/validate.mjs" "$val/"

# -- a plugins dir with every built plugin and fixture_good; the demo config for those ------------
mkdir -p "$work/plugins"
for so in "$build"/plugins/plughost_*.so "$build"/test-plugins/plughost_fixture_good.so; do
  ln -s "$so" "$work/plugins/"
done
python3 - "$src/config/plughost.yaml" "$work" >"$work/plughost.yaml" <<'PY'
import os, sys, yaml
config_path, work = sys.argv[1], sys.argv[2]
with open(config_path) as f:
    config = yaml.safe_load(f)
built = {n[len("plughost_"):-3] for n in os.listdir(work + "/plugins")}
plugins = {k: v for k, v in (config.get("plugins") or {}).items() if k in built}
plugins["fixture_good"] = {"config": {"greeting": "hi"}}
config["plugins"] = plugins
config["plugins_dir"] = work + "/plugins"
config["server"]["listen"] = "127.0.0.1:0"
config["storage"]["url"] = "sqlite://" + work + "/plughost.db"
config["log"]["format"] = "json"
# Strings stay quoted ("${X:-}" must not become an empty, hence null, plain scalar), except a
# lone interpolation with a default, which the demo relies on being re-typed (threads, enabled).
import re
retyped = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*:-[^}]+\}$")
yaml.SafeDumper.add_representer(
    str, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s,
                                         style=None if retyped.match(s) else '"'))
print(yaml.safe_dump(config, sort_keys=False))
PY
export PLUGHOST_SECRET_KEY="$(head -c 32 /dev/urandom | base64)"
export PLUGHOST_ADMIN_PASSWORD="openapi-test-$(head -c 9 /dev/urandom | base64 | tr '+/' '-_')"
export PLUGHOST_EMBED_KEY="dce_$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
export PLUGHOST_DEMO_WORKSPACE="$src/plugins/inspector/demo/workspace"

"$bin" openapi --config "$work/plughost.yaml" >"$work/cli.json" 2>"$work/cli.log" || {
  echo "FAIL: plughost openapi exited $?"; cat "$work/cli.log"; exit 1; }
"$bin" routes --json --config "$work/plughost.yaml" >"$work/routes.json" 2>/dev/null

# -- the running host ---------------------------------------------------------------------------
"$bin" run --config "$work/plughost.yaml" >"$work/run.log" 2>&1 &
pid=$!
port=""
for _ in $(seq 1 200); do
  port=$(sed -n 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p' "$work/run.log" | head -1)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "FAIL: host exited"; cat "$work/run.log"; exit 1; }
  sleep 0.05
done
[ -n "$port" ] || { echo "FAIL: host did not report its port"; cat "$work/run.log"; exit 1; }
base="http://127.0.0.1:$port"
curl -sf "$base/openapi.json" -o "$work/served.json"
curl -s "$base/readyz" -o "$work/readyz.json"

cmp "$work/cli.json" "$work/served.json" || { echo "FAIL: plughost openapi differs from /openapi.json"; exit 1; }
node "$val/validate.mjs" "$work/served.json"

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
doc = json.load(open(work + "/served.json"))
routes = json.load(open(work + "/routes.json"))
ready = json.load(open(work + "/readyz.json"))
fail = []
def check(cond, msg):
    if not cond: fail.append(msg)

check(ready["status"] == "ready", "host not ready: %s" % ready)
check(doc["openapi"] == "3.0.3", "openapi version")
plugins = {r["plugin"] for r in routes}
tags = {t["name"] for t in doc["tags"]}
check(plugins <= tags, "plugins without a tag: %s" % (plugins - tags))
def oa_path(p):
    segs = []
    for s in p.split("/"):
        segs.append("{%s}" % s[1:] if s.startswith(":") else "{rest}" if s == "*" else s)
    return "/".join(segs)
for r in routes:
    path = oa_path(r["path"])
    op = doc["paths"].get(path, {}).get(r["method"].lower())
    if op is None:
        fail.append("missing %s %s" % (r["method"], path)); continue
    check(op["tags"] == [r["plugin"]], "%s %s tag" % (r["method"], path))
    check(op.get("summary", "") == r["summary"], "%s %s summary" % (r["method"], path))
    want = r["permission"] or "authenticated"
    check(op["x-plughost-permission"] == want, "%s %s permission %s" % (r["method"], path, op["x-plughost-permission"]))
    names = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
    check(names == [s.strip("{}") for s in path.split("/") if s.startswith("{")],
          "%s %s path params %s" % (r["method"], path, names))
    if want == "public":
        check(op["security"] == [], "%s %s public but secured" % (r["method"], path))
    else:
        schemes = sorted(k for req in op["security"] for k in req)
        check(schemes == ["apiKey", "bearerAuth", "sessionCookie"], "%s %s security %s" % (r["method"], path, schemes))
        check("401" in op["responses"], "%s %s no 401" % (r["method"], path))

echo = doc["paths"]["/api/good/echo"]["post"]
schema = echo["requestBody"]["content"]["application/json"]["schema"]
check("$schema" not in schema and "$defs" not in schema, "draft keywords left in: %s" % schema)
check(schema["properties"]["note"] == {"type": "string", "nullable": True}, "type list: %s" % schema["properties"]["note"])
check(schema["properties"]["kind"] == {"enum": ["echo"]}, "const: %s" % schema["properties"]["kind"])
check(schema["properties"]["tags"]["items"] == {"$ref": "#/components/schemas/fixture_good.Tag"}, "ref: %s" % schema["properties"]["tags"])
check(doc["components"]["schemas"]["fixture_good.Tag"] == {"type": "string", "pattern": "^[a-z]+$"}, "hoisted $defs")
check(echo["x-plughost-permission"] == "good.write" and "403" in echo["responses"], "echo permission/403")
check(echo["responses"]["2XX"]["content"]["application/json"]["schema"] == {"type": "object", "additionalProperties": True, "example": {"name": "x"}}, "response schema: %s" % echo["responses"]["2XX"])
check(echo["x-plughost-rate-limit"] == {"class": "standard", "limit": 120, "window_seconds": 60.0}, "rate: %s" % echo["x-plughost-rate-limit"])
files = doc["paths"]["/api/good/files/{rest}"]["get"]
check([p["name"] for p in files["parameters"]] == ["rest"], "wildcard parameter")
items = doc["paths"]["/api/good/items/{id}"]["get"]
check(items["parameters"][0] == {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}, "path param: %s" % items["parameters"])
for host_path in ["/healthz", "/readyz", "/metrics", "/openapi.json", "/api/events/stream", "/api/docs", "/api/redoc"]:
    check(host_path in doc["paths"] and doc["paths"][host_path]["get"]["tags"] == ["host"], "host route %s" % host_path)
check(doc["paths"]["/healthz"]["get"]["security"] == [], "healthz is public")
check(set(doc["components"]["securitySchemes"]) == {"sessionCookie", "bearerAuth", "apiKey"}, "schemes")
check(doc["components"]["securitySchemes"]["apiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}, "api key scheme")
if fail:
    print("FAIL:\n  " + "\n  ".join(fail)); sys.exit(1)
print("openapi: %d routes of %d plugins checked" % (len(routes), len(plugins)))
PY

# The committed API reference pages of the plugins present match this document
# (UPDATE_DOCS=1 rewrites them instead: how docs/api/ is regenerated).
if [ "${UPDATE_DOCS:-}" = 1 ]; then
  python3 "$src/scripts/gen_docs.py" api-reference "$work/served.json"
else
  python3 "$src/scripts/gen_docs.py" api-reference "$work/served.json" --check
fi

# -- docs UIs -----------------------------------------------------------------------------------
ui=$build/share/plughost/ui
expect_asset() {  # PATH CONTENT_TYPE_PREFIX [FILE whose bytes must be served]
  curl -s -D "$work/h" -o "$work/b" "$base$1"
  tr -d '\r' <"$work/h" >"$work/headers"
  grep -q '^HTTP/1.1 200' "$work/headers" || { echo "FAIL: $1: $(head -1 "$work/headers")"; exit 1; }
  grep -qi "^content-type: $2" "$work/headers" || { echo "FAIL: $1 content type"; cat "$work/headers"; exit 1; }
  grep -qi "^content-security-policy: default-src 'none'; script-src 'self';" "$work/headers" || {
    echo "FAIL: $1 has no strict CSP"; cat "$work/headers"; exit 1; }
  grep -qi '^x-content-type-options: nosniff' "$work/headers" || { echo "FAIL: $1 nosniff"; exit 1; }
  if [ $# -ge 3 ]; then cmp -s "$work/b" "$3" || { echo "FAIL: $1 body differs from $3"; exit 1; }; fi
}
expect_asset /api/docs text/html "$ui/docs.html"
grep -q 'docs/assets/swagger-ui-bundle.js' "$work/b"
! grep -q 'https\?://' "$work/b" || { echo "FAIL: /api/docs refers to another site"; exit 1; }
expect_asset /api/docs/assets/swagger-ui-bundle.js text/javascript "$ui/swagger-ui/swagger-ui-bundle.js"
expect_asset /api/docs/assets/swagger-ui.css text/css "$ui/swagger-ui/swagger-ui.css"
expect_asset /api/docs/assets/swagger-init.js text/javascript "$ui/swagger-init.js"
expect_asset /api/redoc text/html "$ui/redoc.html"
grep -q '<redoc spec-url="../openapi.json">' "$work/b"
expect_asset /api/redoc/assets/redoc.standalone.js text/javascript "$ui/redoc/redoc.standalone.js"
code=$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$base/api/docs/assets/../../openapi.json")
[ "$code" != 200 ] || { echo "FAIL: dot segments reached a file"; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/api/docs/assets/nope.js")
[ "$code" = 404 ] || { echo "FAIL: unknown asset answered $code"; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/api/docs")
[ "$code" = 405 ] || { echo "FAIL: POST /api/docs answered $code"; exit 1; }
echo "docs ui: /api/docs and /api/redoc served with assets and CSP"

# -- the pages render in a real browser under their CSP (Debian's headless Chromium) --------------
if command -v chromium >/dev/null; then
  render() {  # $1: what is opened under /api/, $2: file name for its DOM and log
    timeout 120 chromium --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
      --user-data-dir="$work/chromium" --enable-logging=stderr --v=0 \
      --virtual-time-budget=15000 --dump-dom "$base/api/$1" >"$work/$2.dom" 2>"$work/$2.log" ||
      { echo "FAIL: chromium on /api/$1"; tail -5 "$work/$2.log"; exit 1; }
  }
  render docs docs
  render redoc redoc
  # Swagger UI starts with its tags collapsed; a deep link opens one: each tag, one page.
  for tag in $(python3 -c 'import json,sys; print(" ".join(t["name"] for t in json.load(open(sys.argv[1]))["tags"]))' "$work/served.json"); do
    render "docs#/$tag" "docs-tag-$tag"
  done
  python3 - "$work" <<'PY'
import json, re, sys
work = sys.argv[1]
doc = json.load(open(work + "/served.json"))
swagger = open(work + "/docs.dom").read()
redoc = open(work + "/redoc.dom").read()
fail = []
for tag in doc["tags"]:
    if 'data-tag="%s"' % tag["name"] not in swagger:
        fail.append("Swagger UI did not list tag %s" % tag["name"])
for path, item in doc["paths"].items():
    tag = next(op["tags"][0] for op in item.values() if isinstance(op, dict) and "tags" in op)
    if 'data-path="%s"' % path not in open("%s/docs-tag-%s.dom" % (work, tag)).read():
        fail.append("Swagger UI did not render %s (tag %s opened)" % (path, tag))
    if path not in redoc:
        fail.append("ReDoc did not render %s" % path)
for page in ["docs", "redoc"] + ["docs-tag-" + t["name"] for t in doc["tags"]]:
    for line in open("%s/%s.log" % (work, page)):
        if ":CONSOLE" not in line:
            continue
        # ReDoc's sidebar logo is fetched from its CDN: the CSP blocks it (nothing leaves the
        # host) and the page hides the image. Any other console message is a failure.
        if "https://cdn.redoc.ly/redoc/logo-mini.svg" in line and "Content Security Policy" in line:
            continue
        # Swagger UI reads "_" in a deep link as an escaped space and says so; a tag such as
        # fixture_good has a real underscore, and the tag still opens (checked above).
        if page.startswith("docs-tag-") and "_" in page and "escaping deep link whitespace" in line:
            continue
        fail.append("/api/%s console: %s" % (page, line.strip()[:300]))
if fail:
    print("FAIL:\n  " + "\n  ".join(fail)); sys.exit(1)
print("browser: Swagger UI and ReDoc rendered all %d paths" % len(doc["paths"]))
PY
fi
