#!/bin/sh
# Installs what plughost needs, builds the release preset and runs the host with every plugin on
# the embedded default (SQLite): `scripts/run.sh [extra plughost run args]`.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
exec build/release/bin/plughost run --config config/plughost.yaml "$@"
