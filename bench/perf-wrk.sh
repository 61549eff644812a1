#!/usr/bin/env bash
# Ingest latency at a fixed rate measured with wrk (Debian's package) instead of the Java LoadDriver: a
# lighter load generator in C, paced by bench/wrk/paced.lua (wrk's delay() per connection). The service
# runs as in bench/perf.sh (packaged jar, -Xmx512m, fresh database, default replica backend). Phases:
# warm-up (ingest, not counted), the floor (GET /actuator/health/liveness: no body, no database),
# ingest (PUT /api/v1/chunks/{id}, 384-dimension embeddings) and database (the capture statement a PUT
# runs, sent by pgbench at the same rate: PostgreSQL's share of the ingest latency, without vectorsync). wrk times each request from its send
# (paced, per connection), so a server stall delays the next send on that connection; bench/perf.sh's
# open-loop driver is the stricter measure, this one shows what the generator itself costs.
#
#   bench/perf-wrk.sh [RATE] [SECONDS] [CONNECTIONS] [RUNS]   500 30 8 1 by default; installs wrk when missing (root)
#
# RUNS > 1 alternates the floor and ingest phases RUNS times in one service, so the spread between runs
# shows next to the figures. WARMUP_MAX (seconds, 300) bounds the warm-up. VSYNC_JAR=path measures that
# jar instead of building the working tree (A/B runs of two builds, alternating in one session).
set -euo pipefail
cd "$(dirname "$0")/.."
rate="${1:-500}"; seconds="${2:-30}"; connections="${3:-8}"; runs="${4:-1}"
host_port="${VSYNC_TEST_PG:-127.0.0.1:5432}"; user="${VSYNC_TEST_PG_USER:-postgres}"
host="${host_port%:*}"; port="${host_port##*:}"
command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
db="vsperfwrk_$$"
psql_() { psql -X -q -h "$host" -p "$port" -U "$user" "$@"; }
if [ -n "${VSYNC_JAR:-}" ]; then jar=$VSYNC_JAR  # A/B runs: a jar built earlier, measured as it is
else
  ./mvnw -q -B -DskipTests -Dvectorsync.skipPgvectorInstall=true -Dvectorsync.skipPromtoolInstall=true package
  jar=$(ls target/vectorsync-*.jar | grep -v original | head -1)
fi
psql_ -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
# shellcheck source=bench/lib/service.sh
. bench/lib/service.sh
start_service target/perf/service-wrk.log --
mkdir -p bench/results

cpu_ticks() { awk '{print $14 + $15}' "/proc/$app_pid/stat"; }
# CPU microseconds per request between two tick readings ("n/a" when one is missing)
per_request() {
  if [ -z "$1" ] || [ -z "$2" ]; then echo "n/a"; return; fi
  awk -v a="$1" -v b="$2" -v n="$3" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.0f", (n > 0 ? (b-a)/hz/n*1e6 : 0)}'
}
rows=()
phase() { # name mode seconds
  local name=$1 mode=$2 secs=$3 before after out jit0 jit1 http0 http1 pg0 pg1
  before=$(cpu_ticks); jit0=$(jit_ticks); http0=$(http_ticks); pg0=$(pg_ticks)
  out=$(WRK_MODE=$mode WRK_RATE=$rate WRK_THREADS=2 WRK_PREFIX=$name \
        wrk -t2 -c"$connections" -d"${secs}s" --timeout 10s -s bench/wrk/paced.lua "http://127.0.0.1:$app_port")
  after=$(cpu_ticks); jit1=$(jit_ticks); http1=$(http_ticks); pg1=$(pg_ticks)
  local r; r=$(grep '^WRK-RESULT' <<<"$out")
  local n e p50 p95 p99 max
  n=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$r"); e=$(sed -E 's/.*errors=([0-9]+).*/\1/' <<<"$r")
  p50=$(sed -E 's/.*p50=([0-9]+).*/\1/' <<<"$r"); p95=$(sed -E 's/.*p95=([0-9]+).*/\1/' <<<"$r")
  p99=$(sed -E 's/.*p99=([0-9]+).*/\1/' <<<"$r"); max=$(sed -E 's/.*max=([0-9]+).*/\1/' <<<"$r")
  local cpu jit; cpu=$(awk -v a="$before" -v b="$after" -v s="$secs" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", (b-a)/hz/s*100}')
  jit=$(awk -v a="$jit0" -v b="$jit1" -v s="$secs" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", (b-a)/hz/s*100}')
  rows+=("$(printf '| %s | %s | %s | %s | %s | %.2f | %.2f | %.2f | %.1f | %s | %s | %s | %s | %s |' "$name" "$rate" "$n" "$((n / secs))" "$e" \
    "$(bc -l <<<"$p50/1000")" "$(bc -l <<<"$p95/1000")" "$(bc -l <<<"$p99/1000")" "$(bc -l <<<"$max/1000")" "$cpu" "$jit" \
    "$(per_request "$before" "$after" "$n")" "$(per_request "$http0" "$http1" "$n")" "$(per_request "$pg0" "$pg1" "$n")")")
  echo "${rows[-1]}"
}
load_before=$(cut -d' ' -f1 /proc/loadavg)
warm_up "$rate" "$connections"
# The database's share: the capture statement ChunkService runs for a PUT (the chunk upsert and its
# outbox row in one autocommitted statement, 384 floats), sent by pgbench at the same rate over the same
# number of connections, with no vectorsync in the path. The service stays up (relay included), as in
# the ingest phase.
db_phase() { # name seconds
  local name=$1 secs=$2 vec
  vec=$(python3 -c 'import random; random.seed(3); print(",".join("%.6f" % random.uniform(-1,1) for _ in range(384)))')
  mkdir -p target/perf/pgbench && rm -f target/perf/pgbench/log.*
  cat > target/perf/pgbench/capture.sql <<SQL
\set id random(1, 100000000)
WITH up AS (
  INSERT INTO chunks AS c (chunk_id, version, document_id, content, embedding, metadata, privacy, deleted, updated_at)
  VALUES ('pgbench-' || :id, 1, 'doc-1', 'Benchmark chunk. lorem ipsum dolor sit amet lorem ipsum dolor sit amet',
          '{$vec}'::real[], '{"lang":"en","source":"perf"}'::jsonb, 'FULL', false, clock_timestamp())
  ON CONFLICT (chunk_id) DO UPDATE
     SET version = c.version + 1, document_id = EXCLUDED.document_id, content = EXCLUDED.content,
         embedding = EXCLUDED.embedding, metadata = EXCLUDED.metadata, privacy = EXCLUDED.privacy,
         deleted = false, updated_at = EXCLUDED.updated_at
  RETURNING version, (xmax = 0) AS inserted)
, ev AS (INSERT INTO outbox (event_id, type, chunk_id, version)
         SELECT gen_random_uuid()::text, 'UPSERT', 'pgbench-' || :id, up.version FROM up)
SELECT version, inserted FROM up;
SQL
  local before after pg0 pg1; before=$(cpu_ticks); pg0=$(pg_ticks)
  (cd target/perf/pgbench && pgbench -h "$host" -p "$port" -U "$user" -n -M prepared -f capture.sql \
     -c "$connections" -j 2 -R "$rate" -T "$secs" -l --log-prefix=log "$db" >/dev/null 2>&1)
  after=$(cpu_ticks); pg1=$(pg_ticks)
  local n; n=$(cat target/perf/pgbench/log.* | wc -l)
  local cpu; cpu=$(awk -v a="$before" -v b="$after" -v s="$secs" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", (b-a)/hz/s*100}')
  # pgbench's per-transaction log: the third column is the latency in microseconds (schedule lag included)
  rows+=("$(cat target/perf/pgbench/log.* | awk '{print $3}' | sort -n | awk -v name="$name" -v rate="$rate" -v s="$secs" -v cpu="$cpu" \
    '{a[NR]=$1} END {printf "| %s | %s | %d | %d | 0 | %.2f | %.2f | %.2f | %.1f | %s | |", name, rate, NR, NR/s,
      a[int(NR*0.50)]/1000, a[int(NR*0.95)]/1000, a[int(NR*0.99)]/1000, a[NR]/1000, cpu}') $(per_request "$before" "$after" "$n") | | $(per_request "$pg0" "$pg1" "$n") |")
  echo "${rows[-1]}"
}
for run in $(seq 1 "$runs"); do
  suffix=""; [ "$runs" -gt 1 ] && suffix="-$run"
  phase "floor$suffix" floor "$seconds"
  phase "ingest$suffix" ingest "$seconds"
  db_phase "database$suffix" "$seconds"
done
file="bench/results/perf-wrk-$(date +%Y%m%d-%H%M%S).md"
{
  echo "# Ingest latency at a fixed rate, measured with wrk"
  echo
  echo "Run $(date -Iseconds) with \`bench/perf-wrk.sh $rate $seconds $connections $runs\`${VSYNC_JAR:+ (VSYNC_JAR=$VSYNC_JAR)}; $(nproc) cores; load average before: $load_before, after: $(cut -d' ' -f1 /proc/loadavg)."
  echo "wrk $(wrk --version 2>&1 | head -1 | awk '{print $2}'), 2 threads, $connections connections, requests due every 2000/$rate ms per thread on the monotonic clock (bench/wrk/paced.lua);"
  echo "the service is the packaged jar (\`-Xmx512m\`, default \`replica\` backend). Warm-up: $((warm_slices * 10)) s of ingest load until the JIT settled (its CPU in the last 10 s: ${jit_last} % of a core); not a result."
  echo
  echo "CPU per request: the service's whole process, its request threads (http-nio-*), and PostgreSQL (the postmaster, the backends it reaped and its live children; every database on the server)."
  echo
  echo "The database rows are pgbench's (\`-M prepared\`, $connections connections, the same rate), so their CPU column is the service's relay delivering those rows, as it does during ingest."
  echo
  echo "| phase | target rate/s | requests | achieved/s | errors | p50 ms | p95 ms | p99 ms | max ms | service CPU % | of which JIT % | service CPU µs/request | request threads µs/request | PostgreSQL CPU µs/request |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${rows[@]}"
} > "$file"
cat "$file"
echo "written to $file"
