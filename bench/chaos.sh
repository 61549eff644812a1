#!/usr/bin/env bash
# The chaos run (issue 4): its own PostgreSQL 15 cluster (initdb as the postgres user into a temporary
# folder, a free loopback port), the relay as a child JVM with four backends (replica in the primary,
# remote in a second database, a webhook whose receiver sits behind a fault-injecting proxy, and "late", a
# PostgreSQL table added half way through the kills and backfilled from the primary's state), writers
# through the HTTP API and through vectorsync.enqueue, kill -9 and failpoint halts, PostgreSQL restarts,
# a session idle in transaction, poison events, a receiver stalling 4 s (longer than the 3 s lease) on a
# few events; then the verdict, chunk by chunk. Prints the table and
# writes it to bench/results/chaos-<timestamp>-n<N>.md. Exit code 0 when the verdict is PASS.
#
#   bench/chaos.sh [WRITES] [KILLS] [PG_RESTARTS] [IDLE_SECONDS]    defaults 200000 24 2 60
#
# Needs root (initdb runs as postgres through runuser) and PostgreSQL 15 with pgvector in
# /usr/lib/postgresql/15 (CHAOS_PG_BIN overrides the bin folder). CHAOS_SEED=n reruns a seed.
set -euo pipefail
cd "$(dirname "$0")/.."

./mvnw -q -B test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/chaos-classpath.txt -Dmdep.includeScope=test

seed_opt=()
if [[ -n "${CHAOS_SEED:-}" ]]; then
  seed_opt=("-Dchaos.seed=${CHAOS_SEED}")
fi

exec java -Xmx1g "${seed_opt[@]}" \
  -Dchaos.results=bench/results \
  -Dchaos.pg.bin="${CHAOS_PG_BIN:-/usr/lib/postgresql/15/bin}" \
  -cp "target/test-classes:target/classes:$(cat target/chaos-classpath.txt)" \
  io.vectorsync.chaos.ChaosRun "$@"
