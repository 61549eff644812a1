# Sourced by bench/perf.sh and bench/perf-wrk.sh: runs the packaged service on a free loopback port
# against the database $db, stops it by its pid and drops $db on exit.
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
