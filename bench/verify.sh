#!/usr/bin/env bash
# Verify of the replica holding N chunks (default 1,000,000) of dimension DIM (default 384), in a service
# JVM capped at -Xmx256m: with page checksums in PostgreSQL and with every page compared in the JVM.
# Prints time and peak heap of both and writes them to bench/results/verify-<time>-n<N>.md.
#
#   bench/verify.sh [N] [DIM]
set -euo pipefail
cd "$(dirname "$0")/.."

N="${1:-1000000}"
DIM="${2:-384}"
host_port="${VSYNC_TEST_PG:-127.0.0.1:5432}"
if ! pg_isready -q -h "${host_port%:*}" -p "${host_port##*:}"; then
  echo "verify: PostgreSQL is not answering at ${host_port} (see DEVELOPERS.md)" >&2
  exit 1
fi

./mvnw -q -B test-compile exec:java \
  -Dexec.classpathScope=test \
  -Dexec.mainClass=io.vectorsync.bench.VerifyBench \
  -Dexec.args="${N} ${DIM}" \
  -Dexec.cleanupDaemonThreads=false \
  -Dbench.results=bench/results
