#!/bin/sh
# Installs what the tests need, then builds and runs every test twice: the release preset and the
# AddressSanitizer + UBSan preset, then runs every libFuzzer target for FUZZ_SECONDS (default 10)
# on its corpus. Exit status is non-zero when anything fails.
# `scripts/test.sh release` or `scripts/test.sh asan` runs one preset only (and no fuzzing).
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
presets=${*:-release asan}
for preset in $presets; do
  echo "==> $preset: configure and build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  echo "==> $preset: test"
  ctest --preset "$preset"
done
if [ $# -eq 0 ]; then
  echo "==> fuzz: every target, ${FUZZ_SECONDS:-10} s each"
  FUZZ_SECONDS=${FUZZ_SECONDS:-10} ./scripts/fuzz.sh
fi
echo "==> all tests passed ($presets)"
