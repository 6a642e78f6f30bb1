#!/bin/sh
# Installs what plughost needs, builds the release preset and runs the host with every plugin on
# the embedded default (SQLite) and its demo data: `scripts/run.sh [extra plughost run args]`.
# First run: makes var/secret.key, var/admin-password and var/embed.key (mode 600) unless
# PLUGHOST_SECRET_KEY / PLUGHOST_ADMIN_PASSWORD / PLUGHOST_EMBED_KEY are set, and copies the inspector's sample Django workspace to
# var/demo/atlas with one migration applied and one pending, and dango-sources' sample CSV files
# to var/demo/dango/sales.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release

mkdir -p var/demo
umask 077
if [ -z "${PLUGHOST_SECRET_KEY:-}" ]; then
  [ -s var/secret.key ] || head -c 32 /dev/urandom | base64 >var/secret.key
  PLUGHOST_SECRET_KEY=$(cat var/secret.key)
  export PLUGHOST_SECRET_KEY
fi
if [ -z "${PLUGHOST_ADMIN_PASSWORD:-}" ]; then
  [ -s var/admin-password ] || head -c 18 /dev/urandom | base64 | tr '+/' '-_' >var/admin-password
  PLUGHOST_ADMIN_PASSWORD=$(cat var/admin-password)
  export PLUGHOST_ADMIN_PASSWORD
  echo "run: first admin ${PLUGHOST_ADMIN_EMAIL:-admin@example.com}, password in var/admin-password"
fi
if [ -z "${PLUGHOST_EMBED_KEY:-}" ]; then
  [ -s var/embed.key ] || printf 'dce_%s\n' "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" >var/embed.key
  PLUGHOST_EMBED_KEY=$(cat var/embed.key)
  export PLUGHOST_EMBED_KEY
fi
umask 022
if [ ! -f var/demo/atlas/db.sqlite3 ]; then
  rm -rf var/demo/atlas
  cp -R plugins/inspector/demo/workspace var/demo/atlas
  rm -f var/demo/atlas/db.sqlite3  # a database left by a local setup.sh run
  (cd var/demo/atlas && /usr/bin/python3 manage.py migrate ops 0001 >/dev/null)
fi
if [ ! -d var/demo/dango/sales ]; then
  mkdir -p var/demo/dango
  cp -R plugins/dango-sources/demo/sales var/demo/dango/sales
fi
exec build/release/bin/plughost run --config config/plughost.yaml "$@"
