#!/bin/sh
# `cmake --install` into a scratch prefix lays out what packagers and operators rely on:
#   bin/plughost, lib/plughost/plugins/*.so (built plugins only, no fixtures), include/plughost,
#   the SDK CMake package, pkg-config files (relocatable: `pkg-config --cflags plughost` compiles
#   a file against the installed headers), share/plughost (docs UIs, packaged config),
#   the systemd unit (systemd-analyze verify) and the docs.
# The installed binary finds its plugins and UIs from the prefix alone.
# usage: install_layout.sh SOURCE_DIR BUILD_DIR
set -eu
src=$1 build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
p=$work/prefix
cmake --install "$build" --prefix "$p" >/dev/null

fail() { echo "FAIL: $*"; exit 1; }
for f in bin/plughost include/plughost/abi.h include/plughost/plugin.hpp \
         include/plughost/testing.hpp lib/cmake/plughost-sdk/plughost-sdkConfig.cmake \
         lib/cmake/plughost-sdk/PlughostPlugin.cmake share/plughost/plughost.yaml \
         lib/systemd/system/plughost.service share/doc/plughost/operator-guide.md; do
  [ -e "$p/$f" ] || fail "missing $f"
done
[ -x "$p/bin/plughost" ] || fail "bin/plughost is not executable"
built=0
for so in "$build"/plugins/plughost_*.so; do
  [ -e "$so" ] || continue
  built=$((built + 1))
  [ -f "$p/lib/plughost/plugins/$(basename "$so")" ] || fail "plugin $(basename "$so") not installed"
done
[ "$built" -gt 0 ] || fail "no plugin was built"
installed=$(ls "$p/lib/plughost/plugins" | wc -l)
[ "$installed" -eq "$built" ] || fail "$installed plugins installed, $built built (fixtures or helpers leaked?)"
if [ -d "$build/share/plughost/ui" ]; then
  for f in docs.html redoc.html swagger-init.js swagger-ui/swagger-ui-bundle.js \
           swagger-ui/swagger-ui.css redoc/redoc.standalone.js; do
    [ -f "$p/share/plughost/ui/$f" ] || fail "missing share/plughost/ui/$f"
  done
fi

# pkg-config, from wherever the prefix landed.
pcdir=$(dirname "$(find "$p" -name plughost.pc | head -1)")
[ -f "$pcdir/plughost.pc" ] || fail "no plughost.pc installed"
[ -f "$pcdir/plughost-sdk.pc" ] || fail "no plughost-sdk.pc installed"
cflags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags plughost)
echo "pkg-config --cflags plughost: $cflags"
plugindir=$(PKG_CONFIG_PATH="$pcdir" pkg-config --variable=plugindir plughost)
[ "$(cd "$plugindir" && pwd -P)" = "$(cd "$p/lib/plughost/plugins" && pwd -P)" ] ||
  fail "plugindir $plugindir is not the installed plugins dir"
[ "$(PKG_CONFIG_PATH="$pcdir" pkg-config --modversion plughost)" = \
  "$("$p/bin/plughost" version --json | sed 's/.*"version":"\([^"]*\)".*/\1/')" ] ||
  fail "pkg-config version differs from plughost version"
cat >"$work/t.c" <<'C'
#include <plughost/abi.h>
int main(void) { return PH_ABI_MAJOR == 1 && sizeof(ph_host_api) > 0 ? 0 : 1; }
C
# shellcheck disable=SC2086
cc -std=c99 -Wall -Werror $cflags "$work/t.c" -o "$work/t" || fail "cannot compile with pkg-config cflags"
"$work/t" || fail "compiled against the wrong abi.h"
case "$cflags" in *"$src"*) fail "cflags point into the source tree" ;; esac

# The installed binary finds its plugins (lib/plughost/plugins) and docs UIs (share/plughost/ui).
cat >"$work/plughost.yaml" <<YAML
version: 1
auth: {enabled: false}
storage: {url: "sqlite://$work/db.sqlite"}
plugins:
  studio: {}
YAML
if [ -f "$p/lib/plughost/plugins/plughost_studio.so" ]; then
  "$p/bin/plughost" plugins --json --config "$work/plughost.yaml" >"$work/plugins.json" 2>/dev/null ||
    fail "installed plughost plugins failed"
  grep -q "\"file\":\"$p/lib/plughost/plugins/plughost_studio.so\"" "$work/plugins.json" ||
    grep -q "plughost_studio.so" "$work/plugins.json" || fail "installed binary did not find studio"
  grep -q '"name":"studio","version":"[^"]*","abi":"1\.[0-9]*","status":"running"' "$work/plugins.json" ||
    fail "studio not running from the installed prefix: $(cat "$work/plugins.json")"
fi
if [ -d "$p/share/plughost/ui" ]; then
  env -u PLUGHOST_UI_DIR "$p/bin/plughost" openapi --config "$work/plughost.yaml" 2>/dev/null |
    grep -q '"/api/docs"' || fail "installed binary does not find share/plughost/ui"
fi

# The systemd unit, pointed at the installed binary, passes systemd's own checks.
if command -v systemd-analyze >/dev/null; then
  sed "s|/usr/bin/plughost|$p/bin/plughost|g" "$p/lib/systemd/system/plughost.service" \
    >"$work/plughost.service"
  out=$(systemd-analyze verify "$work/plughost.service" 2>&1 | grep -v 'Failed to put bus name' || true)
  [ -z "$out" ] || fail "systemd-analyze verify: $out"
  for k in NoNewPrivileges=yes ProtectSystem=strict ReadWritePaths=/var/lib/plughost PrivateTmp=yes \
           ProtectHome=yes CapabilityBoundingSet= ; do
    grep -qx "$k" "$work/plughost.service" || fail "unit lacks $k"
  done
fi
echo "install layout: ok ($built plugins)"
