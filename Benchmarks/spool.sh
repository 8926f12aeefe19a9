#!/usr/bin/env bash
# The sidecar's spool: calls/s through `agentledger sidecar` while the collector is down (every record goes to the
# spool on disk), next to the same load with the collector up; then the replay rate once the collector (Postgres)
# comes back, until the spool is back to its 8-byte header. wrk drives a fixed nginx upstream as in call-path.sh.
# Sidecar on core 0; nginx, wrk and the collector on core 1; Postgres unpinned. Loopback only; the load runs are
# bounded by wrk's duration and the replay by a deadline.
#
#   Benchmarks/spool.sh [seconds-per-run] [connections]   (defaults 10, 32)
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
connections="${2:-32}"
replay_deadline="${REPLAY_DEADLINE:-90}"

for tool in wrk nginx taskset psql curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y wrk nginx-light postgresql" >&2; exit 1; }
done
source Benchmarks/lib.sh
bench_build
pg_start
ingest_port=$(free_port); api_port=$(free_port); upstream_port=$(free_port); sidecar_port=$(free_port)
sidecar_metrics="http://127.0.0.1:$sidecar_port/agentledger/metrics"
collector_metrics="http://127.0.0.1:$api_port/metrics"

write_nginx_conf "$upstream_port"
write_chat_request

taskset -c 1 nginx -c "$work/nginx.conf" -p "$work" &
bench_pids+=($!)
start_pinned_collector() {
  AGENTLEDGER_DSN="$pg_dsn" AGENTLEDGER_INGEST_HOST=127.0.0.1 AGENTLEDGER_INGEST_PORT="$ingest_port" \
    AGENTLEDGER_HTTP_HOST=127.0.0.1 AGENTLEDGER_HTTP_PORT="$api_port" LOG_LEVEL=warning \
    taskset -c 1 "$bin" collector >>"$work/collector.log" 2>&1 &
  collector_pid=$!
  bench_pids+=("$collector_pid")
}
start_pinned_collector
wait_http "http://127.0.0.1:$api_port/healthz"
AGENTLEDGER_HOST=127.0.0.1 AGENTLEDGER_PORT=$sidecar_port AGENTLEDGER_UPSTREAM_URL="http://127.0.0.1:$upstream_port" \
  AGENTLEDGER_COLLECTOR="127.0.0.1:$ingest_port" AGENTLEDGER_SPOOL_DIR="$work/spool" AGENTLEDGER_SOURCE=bench \
  LOG_LEVEL=warning taskset -c 0 "$bin" sidecar >"$work/sidecar.log" 2>&1 &
sidecar_pid=$!
bench_pids+=("$sidecar_pid")
wait_http "$sidecar_metrics"
sidecar() { metric "$sidecar_metrics" "agentledger_sidecar_$1"; }
wait_until() { # seconds condition...: polls every 0.1 s
  local tries=$(($1 * 10)); shift
  while ((tries-- > 0)); do "$@" && return 0; sleep 0.1; done
  return 1
}
all_acknowledged() { [ "$(sidecar calls_acknowledged_total)" -ge "$(sidecar calls_captured_total)" ]; }
link_is() { [ "$(sidecar collector_link_up)" = "$1" ]; }
wait_until 5 link_is 1
taskset -c 1 wrk -t1 -c4 -d2s -s "$work/request.lua" "http://127.0.0.1:$sidecar_port/v1/chat/completions" >/dev/null
wait_until 30 all_acknowledged

run() { # label: one wrk run through the sidecar; prints a table row
  local before out rps p50 p99 captured
  before=$(sidecar calls_captured_total)
  out=$(taskset -c 1 wrk -t1 -c"$connections" -d"${duration}s" --latency -s "$work/request.lua" \
    "http://127.0.0.1:$sidecar_port/v1/chat/completions")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  captured=$(($(sidecar calls_captured_total) - before))
  printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$rps" "$p50" "$p99" "$captured" "$(awk '/Non-2xx|Socket errors/' <<<"$out" | tr -s ' ' | tr '\n' ' ')"
}

echo "date: $(date -u +%F)  wrk: $connections connections, ${duration} s per run  cores: $(nproc)"
echo
echo "| collector | calls/s | p50 | p99 | calls captured | errors |"
echo "|---|---|---|---|---|---|"
run "up (shipping)"
wait_until 60 all_acknowledged || echo "not every call was acknowledged before stopping the collector" >&2
stop_collector
wait_until 5 link_is 0
acked_before=$(sidecar calls_acknowledged_total)
run "down (spooling)"
spooled_calls=$(($(sidecar calls_captured_total) - acked_before))
spool_bytes=$(sidecar spool_bytes)
disk_bytes=$(du -sb "$work/spool" | awk '{print $1}')
echo
echo "spooled: $spooled_calls calls, agentledger_sidecar_spool_bytes $spool_bytes" \
  "($(awk -v b="$spool_bytes" -v n="$spooled_calls" 'BEGIN {printf "%.0f", b / n}') bytes per call," \
  "$(ls "$work/spool" | wc -l) segment files, $disk_bytes bytes on disk);" \
  "in memory: $(sidecar queued_bytes) bytes; dropped: $(sidecar calls_dropped_total)"

# Replay: start the collector and watch the sidecar's acknowledged count until the spool is back to its header.
stored_before=$(pg_sql "SELECT count(*) FROM calls")
sidecar_cpu=$(cpu_seconds "$sidecar_pid"); postgres_cpu=$(pg_cpu_seconds)
t0=$(date +%s.%N)
start_pinned_collector
first="" last=""
deadline=$(($(date +%s) + replay_deadline))
while (($(date +%s) < deadline)); do
  acked=$(($(sidecar calls_acknowledged_total) - acked_before))
  now=$(date +%s.%N)
  if [ -z "$first" ] && [ "$acked" -gt 0 ]; then first=$now; first_acked=$acked; fi
  if [ "$acked" -ge "$spooled_calls" ] && [ "$(sidecar spool_bytes)" = 8 ]; then last=$now; break; fi
  sleep 0.1
done
cpu="CPU during the replay: sidecar $(awk -v a="$sidecar_cpu" -v b="$(cpu_seconds "$sidecar_pid")" 'BEGIN {printf "%.1f", b - a}') s,"
cpu+=" collector $(cpu_seconds "$collector_pid") s (since its start),"
cpu+=" postgres $(awk -v a="$postgres_cpu" -v b="$(pg_cpu_seconds)" 'BEGIN {printf "%.1f", b - a}') s"
stored=$(($(pg_sql "SELECT count(*) FROM calls") - stored_before))
echo
if [ -z "$last" ]; then
  echo "replay did not finish within ${replay_deadline} s: $acked of $spooled_calls acknowledged, spool $(sidecar spool_bytes) bytes"
  exit 1
fi
awk -v t0="$t0" -v a="$first" -v b="$last" -v n="$spooled_calls" -v n0="$first_acked" 'BEGIN {
  printf "replay: %d calls; first ACK %.1f s after the collector was started; drained %.1f s later: %.0f records/s\n",
    n, a - t0, b - a, (n - n0) / (b - a) }'
echo "stored in Postgres during the replay: $stored (of $spooled_calls spooled);" \
  "collector: $(metric "$collector_metrics" agentledger_records_stored_total) stored," \
  "$(metric "$collector_metrics" agentledger_records_duplicate_total) duplicates since its restart"
echo "$cpu"
