#!/usr/bin/env bash
# The device sync benchmark (issue 15): a server on a fresh database of the local PostgreSQL and one device
# (local profile, SQLite in a temp folder, the remote through a TCP proxy as a member of vectorsync_sync), in
# the Maven JVM. Measures the outbox write, a batch of 50 uploaded, conflict detection, N pending drained and
# sustained end-to-end items/s, each beside a ceiling from the same run (a plain SQLite insert loop, a plain
# JDBC call of the remote, a plain 50-row transaction), prints the table and writes
# bench/results/sync-<time>.md. Runs no test.
#
#   bench/sync.sh [N] [WRITES]        N pending entries to drain (default 10000), WRITES single writes (5000)
#
# Environment: VSYNC_TEST_PG=host:port and VSYNC_TEST_PG_USER pick the server (see DEVELOPERS.md).
set -euo pipefail
cd "$(dirname "$0")/.."

N="${1:-10000}"
WRITES="${2:-5000}"

host_port="${VSYNC_TEST_PG:-127.0.0.1:5432}"
if ! pg_isready -q -h "${host_port%:*}" -p "${host_port##*:}"; then
  echo "sync: PostgreSQL is not answering at ${host_port} (see DEVELOPERS.md)" >&2
  exit 1
fi

./mvnw -q -B test-compile exec:java \
  -Dexec.classpathScope=test \
  -Dexec.mainClass=io.vectorsync.bench.SyncBench \
  -Dexec.args="${N} ${WRITES}" \
  -Dexec.cleanupDaemonThreads=false \
  -Dvectorsync.skipPromtoolInstall=true \
  -Dbench.results=bench/results
