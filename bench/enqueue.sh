#!/usr/bin/env bash
# The capture overhead vectorsync.enqueue adds to an application transaction, on its own (bench/perf.sh
# measures it too, after its load phases). The packaged service migrates a fresh database on the local
# PostgreSQL and stays up with its relay paused; pgbench runs the application transaction without and with
# the enqueue in three forms (bench/lib/enqueue.sh). Prints the table and writes it to
# bench/results/enqueue-<time>.md. About 4 minutes with the defaults.
#
#   bench/enqueue.sh
#
# Environment: ENQUEUE_SECONDS per run (default 10), ENQUEUE_PAIRS (default 5), VSYNC_TEST_PG=host:port,
# VSYNC_TEST_PG_USER.
set -euo pipefail
cd "$(dirname "$0")/.."

host_port="${VSYNC_TEST_PG:-127.0.0.1:5432}"
host="${host_port%:*}"; port="${host_port##*:}"; user="${VSYNC_TEST_PG_USER:-postgres}"
db="vsenqueue_$$"
psql_() { psql -X -q -h "$host" -p "$port" -U "$user" "$@"; }

./mvnw -q -B -DskipTests -Dvectorsync.skipPgvectorInstall=true package
jar=$(ls target/vectorsync-*.jar | grep -v original | head -1)
psql_ -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
# shellcheck source=bench/lib/service.sh
. bench/lib/service.sh
start_service target/enqueue/service.log
# shellcheck source=bench/lib/enqueue.sh
. bench/lib/enqueue.sh
measure_enqueue
