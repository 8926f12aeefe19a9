#!/usr/bin/env bash
# Collector ingest throughput into Postgres: records/s acknowledged from "sidecars" (Benchmarks/ingest_load.py,
# speaking the wire protocol, ~2 KB records) for a sweep of batch sizes with 1 and 4 links, then the ceiling:
# the same number of rows of the same size loaded with `COPY ... FROM STDIN` (psql \copy, three loads, the
# median counts) into a table of the calls table's shape. Postgres runs on the same machine with its default durability. Every run is bounded
# (seconds per run, then at most 30 s for the outstanding ACKs); after each run the calls stored in Postgres
# must equal the records acknowledged. "reference loop" is `reference_ms` (lib.sh) just before each run: how fast
# the shared machine was running then.
#
#   Benchmarks/ingest.sh [seconds-per-run]     (default 8)
#   BATCHES="1 64 256" LINKS="1 4" Benchmarks/ingest.sh
#   BASELINE=/path/to/agentledger REPS=3 Benchmarks/ingest.sh
#
# BASELINE: another build's binary, run as the collector right before this one at every (links, records/frame),
# on the same Postgres, so the two compare minute by minute ("before" and "now" in the build column). REPS: how
# many times the whole sweep runs (default 1). Each build has a database of its own on the one Postgres, migrated by
# that build, so a BASELINE from before a migration compares too.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-8}"
batches="${BATCHES:-1 16 64 256 1024}"
link_counts="${LINKS:-1 4}"

for tool in psql curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y postgresql curl python3" >&2; exit 1; }
done
source Benchmarks/lib.sh
bench_build
pg_start
ingest_port=$(free_port); api_port=$(free_port)
builds=("now:$bin")
[ -n "${BASELINE:-}" ] && builds=("before:$BASELINE" "now:$bin")
current_bin=$bin
# Each build's migrations, in its own database; the COPY ceiling and its columns use this build's.
for build in "${builds[@]}"; do
  bin=${build#*:}
  pg_use_db "agentledger_${build%%:*}"
  start_collector "$work/collector.log"
  stop_collector
done
bin=$current_bin
# The stored columns (not the generated `ts`), keys first, for the COPY ceiling.
columns=$(pg_sql "SELECT string_agg(column_name, ', ' ORDER BY column_name NOT IN ('action_id', 'session_id', 'ts_micros'),
  ordinal_position) FROM information_schema.columns WHERE table_name = 'calls' AND is_generated = 'NEVER'")

echo "date: $(date -u +%F)  postgres: $("$pg_bin/postgres" --version | awk '{print $3}')  cores: $(nproc)"
echo
echo "| links | records/frame | build | records/s | batch RTT p50 | p99 | stored = acked | collector CPU | per record | postgres CPU | loader CPU | reference loop |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
best=0
failed=0
stored_total=0
failed_batches=0
for _ in $(seq 1 "${REPS:-1}"); do
for links in $link_counts; do
  for batch in $batches; do
  for build in "${builds[@]}"; do
    label=${build%%:*}
    bin=${build#*:}
    pg_use_db "agentledger_$label"
    start_collector "$work/collector.log"
    pg_truncate_calls
    pg_sql "CHECKPOINT" >/dev/null
    reference=$(reference_ms)
    collector_cpu=$(cpu_seconds "$collector_pid"); postgres_cpu=$(pg_cpu_seconds)
    result=$(python3 Benchmarks/ingest_load.py load --port "$ingest_port" --links "$links" --batch "$batch" \
      --seconds "$duration") || { echo "load failed: $result" >&2; failed=1; }
    collector_cpu=$(awk -v a="$collector_cpu" -v b="$(cpu_seconds "$collector_pid")" 'BEGIN {printf "%.1f", b - a}')
    postgres_cpu=$(awk -v a="$postgres_cpu" -v b="$(pg_cpu_seconds)" 'BEGIN {printf "%.1f", b - a}')
    stored=$(pg_sql "SELECT count(*) FROM calls")
    read -r rate acked seconds p50 p99 loader record_bytes < <(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
print(r["records_per_s"], r["stored"] + r["duplicates"], r["seconds"], r["batch_rtt_ms_p50"], r["batch_rtt_ms_p99"],
      r["loader_cpu_s"], r["record_bytes"])' "$result")
    check="$stored = $acked"
    [ "$stored" = "$acked" ] || { check="**$stored ≠ $acked**"; failed=1; }
    per_record=$(awk -v c="$collector_cpu" -v n="$acked" 'BEGIN {printf "%.0f µs", n ? c * 1e6 / n : 0}')
    printf '| %s | %s | %s | %s | %s ms | %s ms | %s | %s s | %s | %s s | %s s | %s ms |\n' "$links" "$batch" "$label" \
      "$rate" "$p50" "$p99" "$check" "$collector_cpu" "$per_record" "$postgres_cpu" "$loader" "$reference"
    metrics="http://127.0.0.1:$api_port/metrics"
    stored_total=$((stored_total + $(metric "$metrics" agentledger_records_stored_total)))
    failed_batches=$((failed_batches + $(metric "$metrics" agentledger_batches_failed_total)))
    stop_collector
    echo "$links $batch $label $rate $seconds" >>"$work/rates"
    if [ "$acked" -gt "$best" ]; then best=$acked; fi
    if [ ! -s "$work/row.csv" ] && [ "$stored" -gt 0 ]; then
      pg_sql "\\copy (SELECT $columns FROM calls LIMIT 1) TO '$work/row.csv' WITH (FORMAT csv)"
    fi
  done
  done
done
done
bin=$current_bin
echo
echo "record: $record_bytes bytes encoded; each run ${duration} s; CPU is seconds used during the run ($(nproc) cores);"
echo "reference loop: ms for a fixed Python loop on one core just before the run (lower is a faster machine)"
echo "collectors: $stored_total stored, $failed_batches failed batches"

# The ceiling: as many rows as the largest run acknowledged, the same stored row with unique keys, one COPY each.
pg_sql "CREATE TABLE calls_copy (LIKE calls INCLUDING ALL)" >/dev/null
python3 Benchmarks/ingest_load.py csv --row "$work/row.csv" --count "$best" --out "$work/rows.csv"
pg_use_db agentledger_now
pg_truncate_calls
echo
for attempt in 1 2 3; do  # three loads, the median counts
  pg_sql "TRUNCATE calls_copy" >/dev/null
  pg_sql "CHECKPOINT" >/dev/null
  postgres_cpu=$(pg_cpu_seconds)
  started=$(date +%s.%N)
  pg_sql "\\copy calls_copy ($columns) FROM '$work/rows.csv' WITH (FORMAT csv)" >/dev/null
  finished=$(date +%s.%N)
  postgres_cpu=$(awk -v a="$postgres_cpu" -v b="$(pg_cpu_seconds)" 'BEGIN {printf "%.1f", b - a}')
  copied=$(pg_sql "SELECT count(*) FROM calls_copy")
  awk -v n="$copied" -v a="$started" -v b="$finished" -v size="$(stat -c %s "$work/rows.csv")" -v i="$attempt" \
    -v cpu="$postgres_cpu" 'BEGIN {printf "COPY %d: %d rows (%.0f MB of CSV) in %.2f s = %.0f records/s, postgres CPU %.1f s\n",
      i, n, size / 1e6, b - a, n / (b - a), cpu}'
  awk -v n="$copied" -v a="$started" -v b="$finished" 'BEGIN {printf "%.0f\n", n / (b - a)}' >>"$work/copy_rates"
done
copy_rate=$(sort -n "$work/copy_rates" | sed -n 2p)
echo "COPY ceiling (median of 3): $copy_rate records/s"
echo
echo "| links | records/frame | build | ingest records/s | ingest / COPY |"
echo "|---|---|---|---|---|"
while read -r links batch label rate _; do
  awk -v l="$links" -v b="$batch" -v n="$label" -v r="$rate" -v c="$copy_rate" \
    'BEGIN {printf "| %s | %s | %s | %s | %.2f |\n", l, b, n, r, r / c}'
done <"$work/rates"
[ "$failed" = 0 ] || { echo "some runs failed or stored a different count than acknowledged" >&2; exit 1; }
