#!/bin/sh
# Installs every Debian 12 package plughost needs to build, test and benchmark.
# Idempotent: packages already present are left alone. Needs root (or sudo).
set -eu

PACKAGES="
  build-essential cmake ninja-build ccache pkg-config git
  clang libc++-dev libc++abi-dev libclang-rt-dev
  libpistache-dev rapidjson-dev libyaml-cpp-dev libsodium-dev libcurl4-openssl-dev
  libboost-dev libboost-filesystem-dev
  libsoci-dev libsqlite3-dev sqlite3 libpq-dev postgresql
  libcurl4-openssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  wrk curl util-linux procps binutils tzdata
  python3-django python3-fastapi python3-uvicorn python3-yaml
  chromium nodejs npm
  libhnswlib-dev libcurl4-openssl-dev poppler-utils
"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "install-deps: all packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
