#!/usr/bin/env bash
# The bad-input run (issue 4): starts the application as a child JVM on a fresh database on the local
# PostgreSQL, sends N malformed or hostile requests (broken JSON, wrong types, huge and deeply nested
# bodies, NaN/Infinity and wrong-dimension vectors, control characters and SQL-looking ids, invalid
# versions and If-Match, unknown privacy, wrong content types, missing or wrong admin credentials) with
# valid writes mixed in, over real HTTP from this separate JVM, and checks that every hostile answer is a
# 4xx with a VSYNC- code, the service stays up, and the primary and the replica hold exactly the valid
# writes. Prints the table of request classes x status codes and writes it to
# bench/results/bad-input-<timestamp>.md. Exits 1 if a check fails. Runs no test.
#
#   bench/bad-input.sh [N] [THREADS]        N defaults to 10000, THREADS (concurrent connections) to 8
#
# Environment: VSYNC_TEST_PG=host:port and VSYNC_TEST_PG_USER pick the server.
set -euo pipefail
cd "$(dirname "$0")/.."

N="${1:-10000}"
THREADS="${2:-8}"

host_port="${VSYNC_TEST_PG:-127.0.0.1:5432}"
if ! pg_isready -q -h "${host_port%:*}" -p "${host_port##*:}"; then
  echo "bad-input: PostgreSQL is not answering at ${host_port} (see DEVELOPERS.md)" >&2
  exit 1
fi

./mvnw -q -B test-compile exec:java \
  -Dexec.classpathScope=test \
  -Dexec.mainClass=io.vectorsync.bench.BadInputBench \
  -Dexec.args="${N} ${THREADS}" \
  -Dexec.cleanupDaemonThreads=false \
  -Dbench.results=bench/results
