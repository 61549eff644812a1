#!/usr/bin/env bash
# vectorsync against com.gruelbox:transactionoutbox-core on the same workload, database and target table:
# runs bench/relay-throughput.sh N (relay and ceiling), keeps its database, then drains the same N chunks
# through transactionoutbox (bench/txoutbox, its own Maven project) into a fresh copy of the backend table,
# prints both rates and their ratio, and writes them to bench/results/compare-outbox-*.md.
#
#   bench/compare-outbox.sh [N]       N defaults to 20000
set -euo pipefail
cd "$(dirname "$0")/.."

N="${1:-20000}"
host_port="${VSYNC_TEST_PG:-127.0.0.1:5432}"
user="${VSYNC_TEST_PG_USER:-postgres}"
log=$(mktemp)
BENCH_KEEP=true bench/relay-throughput.sh "$N" | tee "$log"   # the relay's default batch size
db=$(awk '/kept database/ {print $3}' "$log")
relay=$(awk '/^relay: / {for (i = 1; i <= NF; i++) if ($i == "events/s") print $(i-1)}' "$log" | head -1)
ceiling=$(awk '$1 == "ceiling:" && /mean of both runs/ {print $2}' "$log")
relay_file=$(awk '/written to/ {print $3}' "$log" | tail -1)
cleanup() {
  psql -X -q -h "${host_port%:*}" -p "${host_port##*:}" -U "$user" -d postgres \
    -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -f "$log"
}
trap cleanup EXIT

out=$(./mvnw -q -B -f bench/txoutbox/pom.xml compile exec:java \
  -Dexec.args="jdbc:postgresql://$host_port/$db $user $N" | tee /dev/stderr | awk '/^txoutbox-rate/ {print $2, $3}')
txo_rate=${out%% *}
txo_secs=${out##* }
file="bench/results/compare-outbox-$(date +%Y%m%d-%H%M%S)-n$N.md"
python3 - "$N" "$relay" "$ceiling" "$txo_rate" "$txo_secs" "$relay_file" > "$file" <<'PY'
import sys
n, relay, ceiling, txo, txo_secs, relay_file = sys.argv[1:7]
relay, ceiling, txo = float(relay), float(ceiling), float(txo)
print("# vectorsync and transactionoutbox on the same workload\n")
print(f"`bench/compare-outbox.sh {n}`: {n} chunks with 384-dimension embeddings in `chunks`, one event each, loaded"
      " with the relay (or the outbox) idle, then drained into a fresh copy of the pgvector backend table with the"
      " same version-guarded upsert, on the same database. vectorsync: the relay with its default batch size, 500 (details in"
      f" `{relay_file}`). transactionoutbox-core 4.2.268 (the newest Maven Central serves here): one scheduled"
      " call per chunk, `Persistor.forDialect(POSTGRESQL_9)`, `Submitter.withExecutor` with 8 threads and an"
      " unbounded queue (the default executor's bounded queue makes an eager `flush()` park rejected calls for"
      " the 2-minute attempt frequency), `flush()` whenever the queue runs low, until the outbox table is empty.\n")
print("| path | events/s |\n| --- | ---: |")
print(f"| plain JDBC loop (ceiling) | {ceiling:.0f} |")
print(f"| vectorsync relay | {relay:.0f} |")
print(f"| transactionoutbox | {txo:.0f} ({float(txo_secs):.1f} s) |")
print(f"\nvectorsync / transactionoutbox: **{relay / txo:.1f}x** (target >= 5x).")
PY
cat "$file"
echo "written to $file"
