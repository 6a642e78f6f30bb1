#!/bin/sh
# Installs every Debian 12 package plughost needs to build, test and benchmark.
# Idempotent: packages already present are left alone. Needs root (or sudo).
set -eu

PACKAGES="
  build-essential cmake ninja-build ccache pkg-config git
  clang libc++-dev libc++abi-dev libclang-rt-dev
  libpistache-dev rapidjson-dev libyaml-cpp-dev libsodium-dev
  libboost-dev libboost-filesystem-dev libwebsocketpp-dev
  libsoci-dev libsqlite3-dev sqlite3 libpq-dev postgresql
  libgtest-dev libgmock-dev libbenchmark-dev
  wrk curl util-linux procps binutils tzdata
  python3-django python3-fastapi python3-uvicorn python3-yaml
  python3-djangorestframework gunicorn
  chromium
  libhnswlib-dev libcurl4-openssl-dev poppler-utils
  libhowardhinnant-date-dev
"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

# Node.js and npm (the API docs UI and the browser tests): any install that
# provides both commands will do. Machines that carry NodeSource's nodejs, which
# bundles npm, cannot take Debian's npm package (apt reports held broken
# packages), so Debian's are asked for only when a command is missing.
if ! command -v node >/dev/null 2>&1; then missing="$missing nodejs"; fi
if ! command -v npm >/dev/null 2>&1; then
  if dpkg-query -W -f='${Version}' nodejs 2>/dev/null | grep -q nodesource; then
    echo "install-deps: nodejs from NodeSource is installed without npm; reinstall it" >&2
    exit 1
  fi
  missing="$missing npm"
fi

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
