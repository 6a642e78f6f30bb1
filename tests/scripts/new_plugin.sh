#!/bin/sh
# `plughost new-plugin` end to end: installs the SDK from the build tree into a scratch prefix,
# writes a project with the real binary, builds it against that prefix only, and runs the
# project's own tests (which start the real host). Usage: new_plugin.sh BUILD_DIR PLUGHOST_BIN
set -eu
build=$1 bin=$2
work=$(mktemp -d /tmp/plughost-new-plugin-XXXXXX)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
"$bin" new-plugin greeter_demo "$work/greeter_demo"
test -f "$work/greeter_demo/src/plugin.cpp"
cmake -S "$work/greeter_demo" -B "$work/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DPLUGHOST_EXECUTABLE="$bin" >/dev/null
cmake --build "$work/build" >/dev/null
test -f "$work/build/plughost_greeter_demo.so"
ctest --test-dir "$work/build" --output-on-failure
# The test run above must have run the generated tests, not zero of them.
ctest --test-dir "$work/build" -N | grep -q "Total Tests: 4"
echo "new-plugin: generated project built and its 4 tests passed"
