# Sourced by bench/perf.sh and bench/perf-wrk.sh: runs the packaged service on a free loopback port
# against the database $db, stops it by its pid and drops $db on exit, and warms it up until its JIT
# has settled.
#   start_service LOG_FILE [JAVA_OPTION ...] -- [SERVICE_ARGUMENT ...]
# Needs jar, db, host_port, user and psql_ set by the caller; sets app_port and app_pid.
start_service() {
  local log=$1; shift
  local java_opts=() args=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do java_opts+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  args=("$@")
  app_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$(dirname "$log")"
  java -Xmx512m "${java_opts[@]}" -jar "$jar" --server.address=127.0.0.1 --server.port="$app_port" \
    --spring.datasource.url="jdbc:postgresql://$host_port/$db" --spring.datasource.username="$user" \
    --logging.level.root=WARN "${args[@]}" > "$log" 2>&1 &
  app_pid=$!
  trap stop_service EXIT
  for _ in $(seq 1 120); do
    curl -fs "http://127.0.0.1:$app_port/actuator/health/liveness" >/dev/null && return 0
    kill -0 "$app_pid" 2>/dev/null || break
    sleep 0.5
  done
  echo "the service did not start; see $log" >&2
  exit 1
}

stop_service() {
  kill "$app_pid" 2>/dev/null || true
  wait "$app_pid" 2>/dev/null || true
  psql_ -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}

# The JIT's CPU in the service (its compiler threads), in clock ticks.
jit_ticks() {
  local t total=0
  for t in /proc/"$app_pid"/task/*; do
    if grep -q Compiler "$t/comm" 2>/dev/null; then total=$((total + $(awk '{print $14 + $15}' "$t/stat"))); fi
  done
  echo "$total"
}
# The CPU of the service's request threads (Tomcat's http-nio-* threads), in clock ticks.
http_ticks() {
  local t total=0
  for t in /proc/"$app_pid"/task/*; do
    case "$(cat "$t/comm" 2>/dev/null)" in http-nio-*) total=$((total + $(awk '{print $14 + $15}' "$t/stat"))) ;; esac
  done
  echo "$total"
}

# PostgreSQL's CPU, in clock ticks: the postmaster with the CPU of the backends it has reaped (so a
# connection that came and went between two readings counts), plus its live children. Empty when the
# server's data directory or processes cannot be read (another machine, another user).
pg_postmaster=""
pg_ticks() {
  if [ -z "$pg_postmaster" ]; then
    pg_postmaster=$(head -1 "$(psql_ -d postgres -Atc 'SHOW data_directory')/postmaster.pid" 2>/dev/null || true)
  fi
  [ -n "$pg_postmaster" ] && [ -r "/proc/$pg_postmaster/stat" ] || { echo ""; return; }
  local total c
  total=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pg_postmaster/stat")
  for c in $(pgrep -P "$pg_postmaster"); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

# Warm-up: ingest load in 10-second slices until the JIT has settled (its compiler threads used under 5 %
# of a core in the last slice), at most WARMUP_MAX seconds (300). On a slow machine C2 needs minutes of
# load before it stops competing with the requests for the two cores; measuring before that measures the JIT.
warm_slices=0; jit_last=0
#   warm_up RATE CONNECTIONS     (needs wrk; sets warm_slices and jit_last)
warm_up() {
  local rate=$1 connections=$2 max=${WARMUP_MAX:-300} before after hz; hz=$(getconf CLK_TCK)
  while [ $((warm_slices * 10)) -lt "$max" ]; do
    before=$(jit_ticks)
    WRK_MODE=ingest WRK_RATE=$rate WRK_THREADS=2 WRK_PREFIX=warm$warm_slices \
      wrk -t2 -c"$connections" -d10s --timeout 10s -s bench/wrk/paced.lua "http://127.0.0.1:$app_port" >/dev/null
    after=$(jit_ticks); warm_slices=$((warm_slices + 1))
    jit_last=$(awk -v a="$before" -v b="$after" -v hz="$hz" 'BEGIN {printf "%.1f", (b-a)/hz/10*100}')
    echo "warm-up slice $warm_slices: JIT CPU ${jit_last} %"
    awk -v j="$jit_last" 'BEGIN {exit !(j < 5)}' && [ "$warm_slices" -ge 2 ] && return 0
  done
  echo "warm-up: the JIT had not settled after $max s (last slice ${jit_last} %); results include JIT work" >&2
}
