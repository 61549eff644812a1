#!/usr/bin/env bash
# A backend outage under load and the catch-up after it: a remote PostgreSQL backend behind a TCP proxy
# is cut off for OUTAGE seconds while RATE events/s keep coming, then returns; prints the backlog, the
# catch-up rate, the time to zero lag and the healthy replica's lag, and writes them to bench/results/.
#
#   bench/catch-up.sh [OUTAGE_SECONDS] [RATE]      defaults: 600 s (the issue's 10 minutes), 500 events/s
set -euo pipefail
cd "$(dirname "$0")/.."

OUTAGE="${1:-600}"
RATE="${2:-500}"
host_port="${VSYNC_TEST_PG:-127.0.0.1:5432}"
if ! pg_isready -q -h "${host_port%:*}" -p "${host_port##*:}"; then
  echo "catch-up: PostgreSQL is not answering at ${host_port} (see DEVELOPERS.md)" >&2
  exit 1
fi

./mvnw -q -B test-compile exec:java \
  -Dexec.classpathScope=test \
  -Dexec.mainClass=io.vectorsync.bench.BackendsBench \
  -Dexec.cleanupDaemonThreads=false \
  -Dbench.results=bench/results \
  -Dbench.mode=catch-up \
  -Dbench.outage="${OUTAGE}" \
  -Dbench.rate="${RATE}"
