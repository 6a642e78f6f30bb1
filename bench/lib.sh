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

# Runs wrk on CPU 1 and prints one row; sets rps_<var>. Extra arguments go to wrk (e.g. -s).
# wrk prints "Requests/sec: N" and, with --latency, the distribution lines "50% 1.23ms"; a
# script may print "not 202: N".
measure() {  # name url var [wrk args…]
  name=$1 url=$2 var=$3
  shift 3
  out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${duration}s" --latency "$@" "$url")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errors=$(echo "$out" | awk '/Non-2xx|Socket errors|not 202/ {print}' | tr '\n' ' ')
  printf '%-34s %12s %10s %10s %s\n' "$name" "$rps" "$p50" "$p99" "$errors"
  eval "rps_$var=$rps"
}
