# Sourced by bench/perf.sh and bench/enqueue.sh: the capture overhead vectorsync.enqueue adds to an
# application transaction, measured with pgbench (1 client) on a database the service has migrated.
#   measure_enqueue      needs host, port, user, db and psql_ set by the caller; prints the table and
#                        writes it to bench/results/enqueue-<time>.md
# Environment: ENQUEUE_SECONDS per pgbench run (default 10), ENQUEUE_PAIRS (default 5; the two other
# forms take ceil(pairs / 2) each, at least 2).
#
# The application transaction upserts one row of its own (A); B is A plus vectorsync.enqueue of a full
# 384-dimension UPSERT payload in the same transaction. Three forms, each as alternating pairs (A B, then
# B A, so drift on the shared machine weighs on both sides), and the overhead is the median of the
# pairs' differences:
#   prepared   the statements prepared once (-M prepared) and the payload bound as one parameter, the way
#              an application calls it through a driver (pgjdbc prepares a statement on its fifth use)
#   simple     the simple query protocol with the payload built in the SQL text (jsonb_build_object with a
#              384-number literal), the form measured before 2026-12: the server parses 3.5 KB of SQL
#              text for every call
#   reference  prepared, with `SELECT 1` in place of the enqueue: what any one more statement costs on
#              this machine (round trip and scheduling), the floor under every capture done in SQL
measure_enqueue() {
  local seconds=${ENQUEUE_SECONDS:-10} pairs=${ENQUEUE_PAIRS:-5} dir=target/enqueue
  local few=$(( (pairs + 1) / 2 )); [ "$few" -lt 2 ] && few=2
  mkdir -p "$dir"
  psql_ -d "$db" -c "UPDATE relay_cursor SET paused = true" \
    -c "CREATE TABLE IF NOT EXISTS app_documents (id bigint PRIMARY KEY, title text, body text, updated_at timestamptz)"
  local payload vec app
  payload=$(python3 -c 'import json, random; random.seed(1); print(json.dumps({"documentId": "doc",
    "content": "lorem ipsum " * 20, "embedding": [round(random.uniform(-1, 1), 6) for _ in range(384)],
    "metadata": {}}, separators=(",", ":")))')
  vec=$(python3 -c 'import random; random.seed(1); print(",".join("%.6f" % random.uniform(-1,1) for _ in range(384)))')
  app="INSERT INTO app_documents (id, title, body, updated_at) VALUES (:id, 'doc', repeat('lorem ipsum ', 20), now())
  ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body, updated_at = now();"
  printf '\\set id random(1, 100000000)\nBEGIN;\n%s\nCOMMIT;\n' "$app" > "$dir/app-only.sql"
  printf '\\set id random(1, 100000000)\nBEGIN;\n%s\n%s\nCOMMIT;\n' "$app" \
    "SELECT vectorsync.enqueue('UPSERT', 'app-' || :id, 1, :payload::jsonb);" > "$dir/prepared.sql"
  printf '\\set id random(1, 100000000)\nBEGIN;\n%s\n%s\nCOMMIT;\n' "$app" \
    "SELECT vectorsync.enqueue('UPSERT', 'app-' || :id, 1, jsonb_build_object('documentId', 'doc', 'content',
  repeat('lorem ipsum ', 20), 'embedding', '[$vec]'::jsonb, 'metadata', '{}'::jsonb));" > "$dir/simple.sql"
  printf '\\set id random(1, 100000000)\nBEGIN;\n%s\nSELECT 1;\nCOMMIT;\n' "$app" > "$dir/reference.sql"

  # One pgbench run: the mean latency in ms.
  enqueue_run() {
    pgbench -n -M "$1" -D payload="$payload" -h "$host" -p "$port" -U "$user" -c 1 -j 1 -T "$seconds" -f "$2" "$db" \
      2>/dev/null | awk '/latency average/ {print $4}'
  }
  local raw="$dir/runs.txt" form mode script n i a b
  : > "$raw"
  enqueue_run prepared "$dir/prepared.sql" >/dev/null   # warm-up: caches, the outbox's first pages
  enqueue_run simple "$dir/app-only.sql" >/dev/null
  for form in prepared simple reference; do
    mode=prepared; script="$dir/$form.sql"; n=$few
    [ "$form" = simple ] && mode=simple
    [ "$form" = prepared ] && n=$pairs
    for i in $(seq 1 "$n"); do
      if [ $((i % 2)) -eq 1 ]; then a=$(enqueue_run "$mode" "$dir/app-only.sql"); b=$(enqueue_run "$mode" "$script")
      else b=$(enqueue_run "$mode" "$script"); a=$(enqueue_run "$mode" "$dir/app-only.sql"); fi
      echo "$form $a $b" >> "$raw"
      echo "enqueue: $form pair $i: A $a ms, B $b ms" >&2
    done
  done
  local out pgv load
  out="bench/results/enqueue-$(date +%Y%m%d-%H%M%S).md"
  pgv=$(psql_ -d "$db" -Atc "SELECT current_setting('server_version') || ', synchronous_commit ' || current_setting('synchronous_commit') || ', fsync ' || current_setting('fsync')")
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  python3 - "$raw" "$seconds" "$(nproc)" "$load" "$pgv" > "$out" <<'PY'
import statistics, sys
raw, secs, cores, load, pgv = sys.argv[1:6]
runs = {}
for line in open(raw):
    form, a, b = line.split()
    runs.setdefault(form, []).append((float(a), float(b)))
title = {
    "prepared": "prepared statements, the payload bound as one parameter (`:payload::jsonb`)",
    "simple": "simple protocol, the payload built in the SQL text (`jsonb_build_object` with a 384-number literal)",
    "reference": "reference: `SELECT 1` in place of the enqueue (any one more statement)",
}
print("# Capture overhead of vectorsync.enqueue\n")
print(f"pgbench, 1 client, {secs} s per run, {cores} cores, load average {load} at the end, PostgreSQL {pgv}.")
print("The application transaction upserts one row of its own (A); B adds `vectorsync.enqueue` of a full"
      " 384-dimension UPSERT payload (3.9 KB of JSON) to the same transaction. Runs alternate in pairs (A B, then"
      " B A); the overhead is the median of the pairs' differences.\n")
print("| form | pairs | A mean ms | B mean ms | B − A per pair ms | overhead (median) ms |")
print("| --- | ---: | ---: | ---: | --- | ---: |")
med = {}
for form in ("prepared", "simple", "reference"):
    pairs = runs.get(form, [])
    if not pairs:
        continue
    d = [b - a for a, b in pairs]
    med[form] = statistics.median(d)
    print(f"| {title[form]} | {len(pairs)} | {statistics.mean(a for a, _ in pairs):.3f} |"
          f" {statistics.mean(b for _, b in pairs):.3f} | {' / '.join(f'{x:.3f}' for x in d)} | **{med[form]:.3f}** |")
p = med.get("prepared")
if p is not None:
    verdict = "met" if p < 0.3 else f"missed by {p / 0.3:.2f}×"
    print(f"\nOverhead, prepared form: **{p:.3f} ms** per transaction (target < 0.3 ms: {verdict}).")
if "reference" in med and p is not None:
    print(f"One more trivial statement alone costs {med['reference']:.3f} ms here, so the enqueue's own work"
          f" (parsing the payload, the function, the outbox row and its WAL at commit) is about"
          f" {p - med['reference']:.3f} ms.")
if "simple" in med:
    print(f"With the payload parsed from the SQL text every time (simple protocol): {med['simple']:.3f} ms.")
PY
  cat "$out"
  echo "written to $out"
}
