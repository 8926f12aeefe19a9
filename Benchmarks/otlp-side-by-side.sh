#!/usr/bin/env bash
# What OTLP export costs the collector in CPU time, with the machine's swings taken out (issue 16: export on costs at
# most 10% more collector CPU per record). Benchmarks/otlp.sh runs export off and on one after the other, and on this
# shared machine the CPU a record costs moves by ±7% from one minute to the next, more than the difference measured.
# Here two collectors run at the same time, each on a database of its own in one Postgres: one exporting every span to
# nginx (answering every POST 200, a backend that costs nothing), the other with export off. Each gets the same load at
# the same moment (Benchmarks/ingest_load.py, the wire protocol, ~2 KB records, LINKS links each), so whatever slows
# the machine slows both. Per repetition: records/s and collector CPU per record of each, and their ratio; at the end
# the median ratio. Loopback only; every run is bounded.
#
#   Benchmarks/otlp-side-by-side.sh [seconds-per-run]      (default 8)
#   LINKS=2 BATCH=256 REPS=7 AGENTLEDGER_BIN=<build> Benchmarks/otlp-side-by-side.sh 6
#   ON_ENV="AGENTLEDGER_OTEL_BATCH_SIZE=128" ...   settings for the exporting collector only
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-8}"
links="${LINKS:-2}"
batch="${BATCH:-256}"
reps="${REPS:-7}"

source Benchmarks/lib.sh
need_tools psql curl python3 nginx
bench_build
pg_start
sink_port=$(free_port)
write_nginx_conf "$sink_port"
nginx -c "$work/nginx.conf" -p "$work" >"$work/nginx.log" 2>&1 &
bench_pids+=($!)
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$sink_port/" && break; sleep 0.1; done

declare -A pid ingest api load_pid
for mode in off on; do
  pg_use_db "otlp_$mode"
  ingest[$mode]=$(free_port)
  api[$mode]=$(free_port)
  otel=()
  # ON_ENV: more settings for the exporting collector only ("AGENTLEDGER_OTEL_BATCH_SIZE=128 ...").
  [ "$mode" = on ] && otel=(AGENTLEDGER_OTEL_ENDPOINT="http://127.0.0.1:$sink_port" ${ON_ENV:-})
  env AGENTLEDGER_DSN="$pg_dsn" AGENTLEDGER_INGEST_HOST=127.0.0.1 AGENTLEDGER_INGEST_PORT="${ingest[$mode]}" \
    AGENTLEDGER_HTTP_HOST=127.0.0.1 AGENTLEDGER_HTTP_PORT="${api[$mode]}" LOG_LEVEL=error "${otel[@]}" \
    "$bin" collector >>"$work/collector-$mode.log" 2>&1 &
  pid[$mode]=$!
  bench_pids+=("${pid[$mode]}")
  wait_http "http://127.0.0.1:${api[$mode]}/healthz"
done

echo "date: $(date -u '+%F %H:%M')  cores: $(nproc)  links: $links per collector  records/frame: $batch  seconds/run: $duration"
echo
echo "| run | off: records/s | on: records/s | off: CPU per record | on: CPU per record | on / off | spans exported | dropped | reference loop |"
echo "|---|---|---|---|---|---|---|---|---|"
failed=0
for rep in $(seq 1 "$reps"); do
  declare -A before result
  for mode in off on; do
    pg_db="otlp_$mode" pg_sql "TRUNCATE calls, call_ids, sessions, messages" >/dev/null
  done
  pg_sql "CHECKPOINT" >/dev/null
  reference=$(reference_ms)
  for mode in off on; do before[$mode]=$(cpu_seconds "${pid[$mode]}"); done
  for mode in off on; do
    python3 Benchmarks/ingest_load.py load --port "${ingest[$mode]}" --links "$links" --batch "$batch" \
      --seconds "$duration" >"$work/load-$mode.json" &
    load_pid[$mode]=$!
  done
  for mode in off on; do wait "${load_pid[$mode]}" || { echo "load $mode failed" >&2; failed=1; }; done
  # Export runs after the commit: the last batches get their delay (1 s) to leave before CPU is read.
  sleep 1.5
  line="| $rep"
  for mode in off on; do
    cpu=$(awk -v a="${before[$mode]}" -v b="$(cpu_seconds "${pid[$mode]}")" 'BEGIN {printf "%.2f", b - a}')
    read -r rate acked < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["records_per_s"], r["stored"] + r["duplicates"])' "$work/load-$mode.json")
    stored=$(pg_db="otlp_$mode" pg_sql "SELECT count(*) FROM calls")
    [ "$stored" = "$acked" ] || { echo "$mode: stored $stored, acknowledged $acked" >&2; failed=1; }
    result[$mode]=$(awk -v c="$cpu" -v n="$acked" 'BEGIN {printf "%.2f", n ? c * 1e6 / n : 0}')
    result[rate_$mode]=$rate
  done
  ratio=$(awk -v a="${result[off]}" -v b="${result[on]}" 'BEGIN {printf "%.3f", a ? b / a : 0}')
  metrics="http://127.0.0.1:${api[on]}/metrics"
  printf '| %s | %s | %s | %s µs | %s µs | %s | %s | %s | %s ms |\n' "$rep" "${result[rate_off]}" "${result[rate_on]}" \
    "${result[off]}" "${result[on]}" "$ratio" "$(metric "$metrics" agentledger_otel_spans_exported_total)" \
    "$(metric "$metrics" agentledger_otel_spans_dropped_total)" "$reference"
  echo "$ratio ${result[off]} ${result[on]}" >>"$work/results"
done
echo
python3 - "$work/results" <<'PY'
import statistics, sys
rows = [[float(v) for v in line.split()] for line in open(sys.argv[1])]
ratios = sorted(r[0] for r in rows)
print(f"export on / off, CPU per record: median {statistics.median(ratios) - 1:+.1%} over {len(ratios)} runs "
      f"(lowest {ratios[0] - 1:+.1%}, highest {ratios[-1] - 1:+.1%}); "
      f"mean CPU per record {sum(r[2] for r in rows) / sum(r[1] for r in rows) - 1:+.1%}")
PY
[ "$failed" = 0 ] || { echo "some runs failed or stored a different count than acknowledged" >&2; exit 1; }
