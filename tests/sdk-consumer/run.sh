#!/bin/sh
# Installs the SDK from the host's build tree into a scratch prefix, builds tests/sdk-consumer
# against that prefix only with clang++ -stdlib=libc++, then loads it into the g++-built host and
# checks that its route answers. Usage: run.sh SOURCE_DIR BUILD_DIR PLUGHOST_BIN
set -eu
src=$1 build=$2 bin=$3
work=$(mktemp -d /tmp/plughost-sdk-consumer-XXXXXX)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
pid=

cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/lib/cmake/plughost-sdk/plughost-sdkConfig.cmake"
test -f "$work/prefix/include/plughost/abi.h"

# Configure against the installed prefix only: the source tree's sdk/ is not on any path.
CXX=clang++ cmake -S "$src/tests/sdk-consumer" -B "$work/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_CXX_FLAGS="-stdlib=libc++" \
  -DCMAKE_MODULE_LINKER_FLAGS="-stdlib=libc++" >/dev/null
cmake --build "$work/build" >/dev/null
lib="$work/build/plughost_shout.so"
test -f "$lib"
# Proof it really is a libc++ plugin: it links libc++, not libstdc++.
readelf -d "$lib" | grep -q 'libc++' || { echo "FAIL: plugin does not link libc++"; exit 1; }
if readelf -d "$lib" | grep -q 'libstdc++'; then echo "FAIL: plugin links libstdc++"; exit 1; fi

cat >"$work/plughost.yaml" <<YAML
version: 1
auth: {enabled: false}
server:
  listen: 127.0.0.1:0
log:
  format: json
plugins_dir: $work/build
plugins:
  shout:
    required: true
    config:
      suffix: "!!"
YAML
"$bin" check --config "$work/plughost.yaml"
"$bin" run --config "$work/plughost.yaml" >"$work/out.log" 2>&1 &
pid=$!
# Wait for the host to log its port (bounded: 30 s), without sleeping blindly.
port=
for _ in $(seq 300); do
  port=$(sed -n 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p' "$work/out.log" | head -n1)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/out.log"; echo "FAIL: host exited"; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/out.log"; echo "FAIL: host never listened"; exit 1; }
body=$(curl -sS "http://127.0.0.1:$port/api/shout/hello")
if [ "$body" != "HELLO!!" ]; then
  echo "FAIL: expected HELLO!!, got: $body"; cat "$work/out.log"; exit 1
fi
kill -TERM "$pid"
wait "$pid"
echo "sdk-consumer: clang++/libc++ plugin answered '$body' from a g++ host"
