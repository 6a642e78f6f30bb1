# Shared by the wrk benchmarks (sourced; needs $conns and $duration set).

# Servers bind port 0 and print the port they got; read it back from their output (bounded).
port_from() {  # logfile sed-expression
  for _ in $(seq 200); do
    port=$(sed -n "$2" "$1" | head -n1)
    [ -n "$port" ] && { echo "$port"; return 0; }
    sleep 0.05
  done
  echo "no port in $1:" >&2; cat "$1" >&2; exit 1
}

# CPU time (user + system) a process has used, in clock ticks.
cpu_ticks() {  # pid
  awk '{print $14 + $15}' "/proc/$1/stat"
}

# Runs wrk on CPU 1 and prints one row; sets rps_<var>. Extra arguments go to wrk (e.g. -s).
# wrk prints "Requests/sec: N" and, with --latency, the distribution lines "50% 1.23ms"; a
# script may print "not 202: N". With $server_pid set, also prints and sets cpu_<var>: the
# server's CPU microseconds per request, which other load on the machine moves far less than
# requests/s.
measure() {  # name url var [wrk args…]
  name=$1 url=$2 var=$3
  shift 3
  [ -n "${server_pid:-}" ] && ticks0=$(cpu_ticks "$server_pid")
  out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${duration}s" --latency "$@" "$url")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errors=$(echo "$out" | awk '/Non-2xx|Socket errors|not 202/ {print}' | tr '\n' ' ')
  cpu=""
  if [ -n "${server_pid:-}" ]; then
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    cpu=$(awk -v a="$ticks0" -v b="$(cpu_ticks "$server_pid")" -v n="$requests" \
      -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (b - a) / hz * 1e6 / n }')
    eval "cpu_$var=$cpu"
    cpu="${cpu}us"
  fi
  printf '%-34s %12s %10s %10s %10s %s\n' "$name" "$rps" "$p50" "$p99" "$cpu" "$errors"
  eval "rps_$var=$rps"
}
