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
# PERF_SERVICE_ARGS (more --key=value arguments for the service); PERF_PHASES (name:rate:seconds ..., rate 0 = idle), PGBENCH_SECONDS (default 20),
# VSYNC_TEST_PG=host:port, VSYNC_TEST_PG_USER.
set -euo pipefail
cd "$(dirname "$0")/.."

host_port="${VSYNC_TEST_PG:-127.0.0.1:5432}"
host="${host_port%:*}"; port="${host_port##*:}"; user="${VSYNC_TEST_PG_USER:-postgres}"
phases="${PERF_PHASES:-idle:0:10 warm-up:500:20 floor-500:500:30:floor ingest-500:500:30 lag-1000:1000:30}"
pgbench_seconds="${PGBENCH_SECONDS:-20}"
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
# so only the capture is measured).
psql_ -d "$db" -c "UPDATE relay_cursor SET paused = true" \
  -c "CREATE TABLE IF NOT EXISTS app_documents (id bigint PRIMARY KEY, title text, body text, updated_at timestamptz)"
vec=$(python3 -c 'import random; random.seed(1); print(",".join("%.6f" % random.uniform(-1,1) for _ in range(384)))')
cat > target/perf/app-only.sql <<SQL
\set id random(1, 100000000)
BEGIN;
INSERT INTO app_documents (id, title, body, updated_at) VALUES (:id, 'doc', repeat('lorem ipsum ', 20), now())
  ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body, updated_at = now();
COMMIT;
SQL
cat > target/perf/app-and-enqueue.sql <<SQL
\set id random(1, 100000000)
BEGIN;
INSERT INTO app_documents (id, title, body, updated_at) VALUES (:id, 'doc', repeat('lorem ipsum ', 20), now())
  ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body, updated_at = now();
SELECT vectorsync.enqueue('UPSERT', 'app-' || :id, 1, jsonb_build_object('documentId', 'doc', 'content',
  repeat('lorem ipsum ', 20), 'embedding', '[$vec]'::jsonb, 'metadata', '{}'::jsonb));
COMMIT;
SQL
lat() { PGPASSWORD= pgbench -n -h "$host" -p "$port" -U "$user" -c 1 -j 1 -T "$pgbench_seconds" -f "$1" "$db" 2>/dev/null \
  | awk '/latency average/ {print $4}'; }
lat target/perf/app-only.sql >/dev/null   # warm-up
a1=$(lat target/perf/app-only.sql); b1=$(lat target/perf/app-and-enqueue.sql)
a2=$(lat target/perf/app-only.sql); b2=$(lat target/perf/app-and-enqueue.sql)
out="bench/results/enqueue-$(date +%Y%m%d-%H%M%S).md"
python3 - "$a1" "$b1" "$a2" "$b2" "$pgbench_seconds" > "$out" <<'PY'
import sys
a1, b1, a2, b2 = map(float, sys.argv[1:5]); secs = sys.argv[5]
a, b = (a1 + a2) / 2, (b1 + b2) / 2
print("# Capture overhead of vectorsync.enqueue\n")
print(f"pgbench, 1 client, {secs} s per run, alternating runs (A B A B); an application transaction that upserts"
      " one row of its own, without (A) and with (B) `vectorsync.enqueue` of a full 384-dimension payload.\n")
print("| transaction | run 1 ms | run 2 ms | mean ms |\n| --- | ---: | ---: | ---: |")
print(f"| application row only | {a1:.3f} | {a2:.3f} | {a:.3f} |")
print(f"| with vectorsync.enqueue | {b1:.3f} | {b2:.3f} | {b:.3f} |")
print(f"\nOverhead: {b - a:.3f} ms per transaction (target < 0.3 ms).")
PY
cat "$out"
echo "written to $out"
