#!/bin/sh
# Builds the libFuzzer targets with clang (the `fuzz` preset, which builds every plugin for
# fuzz_plugin_bodies) and runs each on its seed corpus for a bounded time (FUZZ_SECONDS, default
# 30). A crash leaves its input in build/fuzz/crashes/: add it to tests/fuzz/corpus/<target>/
# and fix the bug; the corpus is replayed on every run.
set -eu
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target fuzz_all
mkdir -p build/fuzz/crashes
for corpus in tests/fuzz/corpus/*/; do
  name=$(basename "$corpus")
  work="build/fuzz/corpus-$name"
  mkdir -p "$work"
  echo "==> fuzz_$name for ${seconds}s"
  status=0
  "build/fuzz/bin/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="build/fuzz/crashes/$name-" -print_final_stats=1 "$work" "$corpus" \
    >"build/fuzz/$name.log" 2>&1 || status=$?
  # fuzz_plugin_bodies also says how many plugin routes answered a 2xx (the body got through).
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^plugin_bodies_fuzz: [0-9]+ of' \
    "build/fuzz/$name.log" || true
  if [ "$status" -ne 0 ]; then
    tail -40 "build/fuzz/$name.log"
    echo "fuzz_$name failed (exit $status); inputs: $(ls build/fuzz/crashes/$name-* 2>/dev/null)"
    exit 1
  fi
done
echo "==> fuzzing found nothing"
