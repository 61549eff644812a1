#!/usr/bin/env bash
# Ingest latency and end-to-end lag under fixed-rate load, CPU and memory of the service at idle and under
# load, and the capture overhead vectorsync.enqueue adds to an application transaction. The service runs
# as its own process (the packaged jar, -Xmx512m, on a fresh database on the local PostgreSQL, default
# replica backend); the load comes from a second process (LoadDriver); the enqueue overhead from pgbench.
# Prints tables and writes them to bench/results/perf-*.md and bench/results/enqueue-*.md.
#
#   bench/perf.sh            before the phases the service is warmed up with wrk until its JIT has settled
#                            (bench/lib/service.sh); phases: idle 10 s, the driver's own warm-up 500/s for
#                            20 s, the floor (GET liveness) at 500/s for 30 s, 500 requests/s for 30 s,
#                            1000 requests/s for 30 s
#
# Environment: PERF_JFR=file.jfr records the service with Java Flight Recorder (profile settings);
# PERF_SERVICE_ARGS (more --key=value arguments for the service); PERF_PHASES (name:rate:seconds ..., rate 0 = idle), ENQUEUE_SECONDS and ENQUEUE_PAIRS (bench/lib/enqueue.sh),
# VSYNC_TEST_PG=host:port, VSYNC_TEST_PG_USER.
set -euo pipefail
cd "$(dirname "$0")/.."

host_port="${VSYNC_TEST_PG:-127.0.0.1:5432}"
host="${host_port%:*}"; port="${host_port##*:}"; user="${VSYNC_TEST_PG_USER:-postgres}"
phases="${PERF_PHASES:-idle:0:10 warm-up:500:20 floor-500:500:30:floor ingest-500:500:30 lag-1000:1000:30}"
db="vsperf_$$"
psql_() { psql -X -q -h "$host" -p "$port" -U "$user" "$@"; }

./mvnw -q -B -DskipTests -Dvectorsync.skipPgvectorInstall=true package
jar=$(ls target/vectorsync-*.jar | grep -v original | head -1)
psql_ -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"

jfr_opt=()
if [ -n "${PERF_JFR:-}" ]; then jfr_opt=("-XX:StartFlightRecording=filename=${PERF_JFR},settings=profile,dumponexit=true"); fi
# shellcheck source=bench/lib/service.sh
. bench/lib/service.sh
# shellcheck disable=SC2086
start_service target/perf/service.log "${jfr_opt[@]}" -- ${PERF_SERVICE_ARGS:-}
command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
warm_up 500 8

# shellcheck disable=SC2086
./mvnw -q -B test-compile exec:java -Dexec.classpathScope=test -Dexec.mainClass=io.vectorsync.bench.LoadDriver \
  -Dexec.args="http://127.0.0.1:$app_port $app_pid $db $phases" -Dexec.cleanupDaemonThreads=false \
  -Dbench.results=bench/results

# Capture overhead: the same application transaction with and without vectorsync.enqueue (relay paused,
# so only the capture is measured); bench/lib/enqueue.sh describes the forms.
# shellcheck source=bench/lib/enqueue.sh
. bench/lib/enqueue.sh
measure_enqueue
