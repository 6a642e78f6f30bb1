#!/bin/sh
# Installs what the tests need, then builds and runs every test twice: the release preset and the
# AddressSanitizer + UBSan preset. Exit status is non-zero when anything fails.
# `scripts/test.sh release` or `scripts/test.sh asan` runs one preset only.
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
echo "==> all tests passed ($presets)"
