# Shared by bench/soak.sh and bench/startup.sh (sourced; needs $root, $build and $py set): the
# demo of config/plughost.yaml — every plugin on SQLite — in a directory of its own, the way
# scripts/run.sh prepares it under var/, never touching the repository's var/.

# Prepares the demo data once in $1/template (the inspector's sample Django workspace with one
# migration applied, dango-sources' sample CSV files) and sets the secrets the demo config needs.
demo_template() {  # dir
  mkdir -p "$1/template/var/demo/dango"
  cp -R "$root/plugins/inspector/demo/workspace" "$1/template/var/demo/atlas"
  rm -f "$1/template/var/demo/atlas/db.sqlite3"
  (cd "$1/template/var/demo/atlas" && "$py" manage.py migrate ops 0001 >/dev/null)
  cp -R "$root/plugins/dango-sources/demo/sales" "$1/template/var/demo/dango/sales"
  PLUGHOST_SECRET_KEY=$(head -c 32 /dev/urandom | base64)
  PLUGHOST_ADMIN_EMAIL=admin@example.com
  PLUGHOST_ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  PLUGHOST_EMBED_KEY=dce_$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
  AUTOMATE_STRIPE_SECRET=bench-stripe-secret
  PLUGHOST_LISTEN=127.0.0.1:0
  export PLUGHOST_SECRET_KEY PLUGHOST_ADMIN_EMAIL PLUGHOST_ADMIN_PASSWORD PLUGHOST_EMBED_KEY \
    AUTOMATE_STRIPE_SECRET PLUGHOST_LISTEN
}

# A fresh data directory $2 from the template: its own var/ (storage, rag index, dango warehouse,
# datachat's demo shop), plugins/ linked to the repository's for the demo's relative paths (the
# rag corpus, the dango schedules and dbt project). The host runs with $2 as working directory.
demo_instance() {  # template-parent-dir instance-dir
  mkdir -p "$2"
  cp -R "$1/template/var" "$2/var"
  ln -s "$root/plugins" "$2/plugins"
}

# Starts the host on CPU 0 in instance $1 with config $2, output to $1/host.log; sets host_pid
# and host_port.
demo_start() {  # instance-dir config
  (cd "$1" && PLUGHOST_STORAGE_URL="sqlite://$1/var/plughost.db" \
    exec taskset -c 0 "$build/bin/plughost" run --config "$2") >"$1/host.log" 2>&1 &
  host_pid=$!
  pids="$pids $host_pid"
  host_port=$(port_from "$1/host.log" 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p')
}

# The repository's demo config with every rate-limit class raised out of reach (a load test
# from one address would otherwise measure 429s); checked, so a changed demo fails loudly.
demo_config_unlimited() {  # output-file
  awk '
    /^rate_limits:/ { in_rl = 1 }
    in_rl && /^  classes:/ {
      print
      for (i = 1; i <= 5; i++)
        printf "    %s: {limit: 1000000000, window_seconds: 60}\n", \
          substr("standard datachat rag      embed    login    ", (i - 1) * 9 + 1, 9)
      skipping = 1; next
    }
    skipping && /^    / { next }
    skipping { skipping = 0; in_rl = 0 }
    { print }
  ' "$root/config/plughost.yaml" | sed 's/^\(    [a-z]*\) *: {limit/\1: {limit/' >"$1"
  [ "$(grep -c 'limit: 1000000000' "$1")" -eq 5 ] ||
    { echo "demo_config_unlimited: config/plughost.yaml's rate_limits changed shape" >&2; exit 1; }
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
