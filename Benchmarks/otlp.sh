#!/usr/bin/env bash
# What OTLP export costs the collector (docs/operations.md, "OpenTelemetry export"): ingest into Postgres from
# "sidecars" (Benchmarks/ingest_load.py, the wire protocol, ~2 KB records) with export off, on (to nginx answering
# every POST 200, a backend that costs nothing), and on to a backend that is down (a closed port), run after run
# in one sitting so the three compare minute by minute. For each: records/s acknowledged, collector CPU seconds and
# CPU per record, spans exported and dropped. The targets (issue 16): export on costs at most 10% more collector
# CPU per record, and with the backend down ingest throughput is unchanged.
#
#   Benchmarks/otlp.sh [seconds-per-run]      (default 8)
#   LINKS=4 BATCH=256 REPS=3 Benchmarks/otlp.sh
#   AGENTLEDGER_BIN=/path/to/agentledger Benchmarks/otlp.sh   (measure that binary, no build)
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-8}"
links="${LINKS:-4}"
batch="${BATCH:-256}"
reps="${REPS:-3}"

for tool in psql curl python3 nginx; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y postgresql curl python3 nginx" >&2; exit 1; }
done
source Benchmarks/lib.sh
bench_build
pg_start
ingest_port=$(free_port); api_port=$(free_port); sink_port=$(free_port); closed_port=$(free_port)
write_nginx_conf "$sink_port"
nginx -c "$work/nginx.conf" -p "$work" >"$work/nginx.log" 2>&1 &
bench_pids+=($!)
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$sink_port/" && break; sleep 0.1; done

# start_otlp_collector LOG ENDPOINT: the collector on pg_dsn, exporting to ENDPOINT (none when empty).
start_otlp_collector() {
  local otel=()
  [ -n "$2" ] && otel=(AGENTLEDGER_OTEL_ENDPOINT="$2")
  env AGENTLEDGER_DSN="$pg_dsn" AGENTLEDGER_INGEST_HOST=127.0.0.1 AGENTLEDGER_INGEST_PORT="$ingest_port" \
    AGENTLEDGER_HTTP_HOST=127.0.0.1 AGENTLEDGER_HTTP_PORT="$api_port" LOG_LEVEL=error "${otel[@]}" \
    "$bin" collector >>"$1" 2>&1 &
  collector_pid=$!
  bench_pids+=("$collector_pid")
  wait_http "http://127.0.0.1:$api_port/healthz"
}

echo "date: $(date -u +%F)  cores: $(nproc)  links: $links  records/frame: $batch  seconds/run: $duration"
echo
echo "| run | export | records/s | stored = acked | collector CPU | per record | user / system per record | spans exported | dropped | failed | reference loop |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
failed=0
for rep in $(seq 1 "$reps"); do
  for mode in off on down; do
    case $mode in
      off) endpoint="" ;;
      on) endpoint="http://127.0.0.1:$sink_port" ;;
      down) endpoint="http://127.0.0.1:$closed_port" ;;
    esac
    start_otlp_collector "$work/collector.log" "$endpoint"
    pg_sql "TRUNCATE calls, call_ids, sessions, messages" >/dev/null
    pg_sql "CHECKPOINT" >/dev/null
    reference=$(reference_ms)
    cpu_before=$(cpu_seconds "$collector_pid")
    read -r user_before system_before < <(cpu_split "$collector_pid")
    result=$(python3 Benchmarks/ingest_load.py load --port "$ingest_port" --links "$links" --batch "$batch" \
      --seconds "$duration") || { echo "load failed: $result" >&2; failed=1; continue; }
    # Export runs after the commit: give the last batches their delay (1 s) to leave before CPU is read.
    sleep 1.5
    cpu=$(awk -v a="$cpu_before" -v b="$(cpu_seconds "$collector_pid")" 'BEGIN {printf "%.1f", b - a}')
    read -r user_after system_after < <(cpu_split "$collector_pid")
    stored=$(pg_sql "SELECT count(*) FROM calls")
    read -r rate acked < <(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
print(r["records_per_s"], r["stored"] + r["duplicates"])' "$result")
    metrics="http://127.0.0.1:$api_port/metrics"
    exported=$(metric "$metrics" agentledger_otel_spans_exported_total)
    dropped=$(metric "$metrics" agentledger_otel_spans_dropped_total)
    failed_spans=$(metric "$metrics" agentledger_otel_spans_failed_total)
    check="$stored = $acked"
    [ "$stored" = "$acked" ] || { check="**$stored ≠ $acked**"; failed=1; }
    per_record=$(awk -v c="$cpu" -v n="$acked" 'BEGIN {printf "%.1f", n ? c * 1e6 / n : 0}')
    split=$(awk -v u="$((user_after - user_before))" -v s="$((system_after - system_before))" -v n="$acked" \
      -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f / %.1f µs", n ? u / hz * 1e6 / n : 0, n ? s / hz * 1e6 / n : 0}')
    printf '| %s | %s | %s | %s | %s s | %s µs | %s | %s | %s | %s | %s ms |\n' "$rep" "$mode" "$rate" "$check" "$cpu" \
      "$per_record" "$split" "$exported" "$dropped" "$failed_spans" "$reference"
    echo "$mode $rate $per_record" >>"$work/results"
    stop_collector
  done
done

echo
python3 - "$work/results" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
by = {mode: [(float(rate), float(cpu)) for m, rate, cpu in rows if m == mode] for mode in ("off", "on", "down")}
med = {mode: (statistics.median(r for r, _ in v), statistics.median(c for _, c in v)) for mode, v in by.items() if v}
off_rate, off_cpu = med["off"]
for mode in ("on", "down"):
    if mode not in med:
        continue
    rate, cpu = med[mode]
    print(f"export {mode}: median records/s {rate:.0f} ({rate / off_rate - 1:+.1%} vs off), "
          f"median CPU per record {cpu:.1f} µs ({cpu / off_cpu - 1:+.1%} vs off {off_cpu:.1f} µs)")
PY
[ "$failed" = 0 ] || { echo "some runs failed or stored a different count than acknowledged" >&2; exit 1; }
