#!/usr/bin/env bash
# Events/s per backend (one at a time and three at once) and the lag of the healthy backends while one
# is down, on the local PostgreSQL and loopback servers. Prints a table and writes it to bench/results/.
#
#   bench/backends.sh [N]          N chunks per run (default 20000)
#
# Environment: BENCH_RATE (events/s of the outage run, default 200), BENCH_SECONDS (its length, default
# 20), BENCH_ALONE and BENCH_TOGETHER (comma lists of replica, remote, webhook, neo4j, opensearch,
# elasticsearch, chroma; defaults: all of them, and replica,opensearch,chroma); VSYNC_TEST_PG=host:port and VSYNC_TEST_PG_USER pick the PostgreSQL server.
set -euo pipefail
cd "$(dirname "$0")/.."

N="${1:-20000}"
host_port="${VSYNC_TEST_PG:-127.0.0.1:5432}"
if ! pg_isready -q -h "${host_port%:*}" -p "${host_port##*:}"; then
  echo "backends: PostgreSQL is not answering at ${host_port} (see DEVELOPERS.md)" >&2
  exit 1
fi

# The OpenSearch/Elasticsearch distributions the tests use (copied from ~/.m2 or Maven Central once).
./mvnw -q -B dependency:copy@search-distributions

./mvnw -q -B test-compile exec:java \
  -Dexec.classpathScope=test \
  -Dexec.mainClass=io.vectorsync.bench.BackendsBench \
  -Dexec.args="${N}" \
  -Dexec.cleanupDaemonThreads=false \
  -Dbench.results=bench/results \
  -Dbench.rate="${BENCH_RATE:-200}" \
  -Dbench.seconds="${BENCH_SECONDS:-20}" \
  -Dbench.alone="${BENCH_ALONE:-replica,remote,webhook,neo4j,opensearch,elasticsearch,chroma}" \
  -Dbench.together="${BENCH_TOGETHER:-replica,opensearch,chroma}"
