#!/usr/bin/env bash
# The relay benchmark: loads N chunks (384-dimension embeddings) and their outbox events into a fresh
# database on the local PostgreSQL, times the relay into the pgvector backend, then times the ceiling
# (a plain JDBC loop writing the same rows in batches of the same size into a copy of the same table),
# prints both with their ratio and writes them to bench/results/. Runs no test.
#
#   bench/relay-throughput.sh [N] [BATCH]        N defaults to 20000, BATCH to 500 (the relay's default)
#
# Environment: BENCH_HEAP=512m caps the heap of the JVM that runs the relay (the peak in use is reported);
# BENCH_CEILING_ROWS (default 100000) caps the rows of the ceiling runs, which are held in memory;
# BENCH_JFR=file.jfr records the relay phase with Java Flight Recorder (profile settings);
# BENCH_KEEP=true keeps the database; VSYNC_TEST_PG=host:port and VSYNC_TEST_PG_USER pick the server.
set -euo pipefail
cd "$(dirname "$0")/.."

N="${1:-20000}"
BATCH="${2:-500}"

host_port="${VSYNC_TEST_PG:-127.0.0.1:5432}"
if ! pg_isready -q -h "${host_port%:*}" -p "${host_port##*:}"; then
  echo "relay-throughput: PostgreSQL is not answering at ${host_port} (see DEVELOPERS.md)" >&2
  exit 1
fi

if [ -n "${BENCH_HEAP:-}" ]; then
  export MAVEN_OPTS="${MAVEN_OPTS:-} -Xmx${BENCH_HEAP}"
fi

./mvnw -q -B test-compile exec:java \
  -Dexec.classpathScope=test \
  -Dexec.mainClass=io.vectorsync.bench.RelayThroughputBench \
  -Dexec.args="${N} ${BATCH}" \
  -Dexec.cleanupDaemonThreads=false \
  -Dbench.results=bench/results \
  -Dbench.jfr="${BENCH_JFR:-}" \
  -Dbench.keep="${BENCH_KEEP:-false}" \
  -Dbench.ceilingRows="${BENCH_CEILING_ROWS:-100000}"
