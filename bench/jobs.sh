#!/usr/bin/env bash
# The job queue, ingest and re-embed benchmark (issue 16): the application with its relay on a fresh database of
# the local PostgreSQL, in the Maven JVM, with the local all-MiniLM-L6-v2 model. Measures the enqueue latency of
# POST /api/v1/jobs at RATE/s, no-op jobs/s, INGEST chunks/s, an unchanged re-ingest of 1,000 chunks (it must not
# call the model at all) and REEMBED chunks/s of 400 chunks, each beside a ceiling from the same run (a plain
# INSERT at the same rate, a plain claim/complete loop, the model alone before and after), prints the table and
# writes bench/results/jobs-<time>.md. Exits 1 when a check failed. Runs no test. See bench/README.md.
#
#   bench/jobs.sh [RATE] [SECONDS] [NOOPS] [DOCS]   enqueue rate (default 500/s) for SECONDS (20), NOOPS no-op jobs
#                                                   (1000), DOCS documents of 10 chunks to ingest (100, at least 100)
#
# Environment: VSYNC_TEST_PG=host:port and VSYNC_TEST_PG_USER pick the server (see DEVELOPERS.md).
set -euo pipefail
cd "$(dirname "$0")/.."

RATE="${1:-500}"
SECONDS_="${2:-20}"
NOOPS="${3:-1000}"
DOCS="${4:-100}"

host_port="${VSYNC_TEST_PG:-127.0.0.1:5432}"
if ! pg_isready -q -h "${host_port%:*}" -p "${host_port##*:}"; then
  echo "jobs: PostgreSQL is not answering at ${host_port} (see DEVELOPERS.md)" >&2
  exit 1
fi

./mvnw -q -B test-compile exec:java \
  -Dexec.classpathScope=test \
  -Dexec.mainClass=io.vectorsync.bench.JobsBench \
  -Dexec.args="${RATE} ${SECONDS_} ${NOOPS} ${DOCS}" \
  -Dexec.cleanupDaemonThreads=false \
  -Dvectorsync.skipPromtoolInstall=true \
  -Dbench.results=bench/results
