#!/bin/sh
# Runs a command against a throwaway PostgreSQL server: initdb in a temp dir, listen on a free
# loopback port, create a database, export PLUGHOST_TEST_POSTGRES_URL, run "$@", stop, clean up.
# Needs Debian's postgresql package (scripts/install-deps.sh). Works as root (runs the server as
# the postgres user) or as an ordinary user.
set -eu
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -x "$bindir/initdb" ] || { echo "with_postgres: PostgreSQL server binaries not found" >&2; exit 1; }

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

dir=$(mktemp -d /tmp/plughost-pg-XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
cleanup() {
  as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

as_pg "$bindir/initdb" -D "$dir/data" -U plughost --auth=trust -E UTF8 >/dev/null
# A free port: ask the kernel for one, retrying if another process takes it first.
for attempt in 1 2 3 4 5; do
  port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 ))
  if as_pg "$bindir/pg_ctl" -D "$dir/data" -w -t 30 -l "$dir/log" \
       -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" \
       start >/dev/null; then
    break
  fi
  [ "$attempt" -eq 5 ] && { cat "$dir/log" >&2; exit 1; }
done
as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U plughost plughost_test
export PLUGHOST_TEST_POSTGRES_URL="postgresql://plughost@127.0.0.1:$port/plughost_test"
# For tests that restart the server under load: a fast restart drops every open connection.
restart="$dir/restart.sh"
{
  echo '#!/bin/sh'
  if [ "$(id -u)" -eq 0 ]; then printf 'exec runuser -u postgres -- '; else printf 'exec '; fi
  echo "'$bindir/pg_ctl' -D '$dir/data' -w -t 30 -m fast -l '$dir/log' -o '-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200' restart >/dev/null"
} >"$restart"
chmod 755 "$restart"
export PLUGHOST_TEST_POSTGRES_RESTART="$restart"
"$@"
