#!/usr/bin/env bash
# Added latency and throughput of the proxy: the same wrk load against a fixed nginx upstream, direct and
# through `agentledger up` (capture and shipping on), in one run. The proxy is pinned to core 0; nginx and
# wrk share core 1. Loopback only; every run is bounded by wrk's duration.
#
#   Benchmarks/call-path.sh [seconds-per-run]   (default 10)
#   MODE=split Benchmarks/call-path.sh          sidecar alone on core 0, collector on core 1
#   MODE=split BASELINE=/path/to/agentledger REPS=3 DRAIN_WAIT=900 Benchmarks/call-path.sh
#                                               also an earlier build's sidecar (same core, same collector), its
#                                               rows alternating with the current one's, REPS times
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"

for tool in wrk nginx taskset; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y wrk nginx-light util-linux" >&2; exit 1; }
done
source Benchmarks/lib.sh  # $work, free_port, bench_build (sets $bin), the cleanup trap over bench_pids
bench_build
upstream_port=$(free_port); proxy_port=$(free_port); ingest_port=$(free_port)
write_nginx_conf "$upstream_port"
write_chat_request

taskset -c 1 nginx -c "$work/nginx.conf" -p "$work" &
bench_pids+=($!)
export AGENTLEDGER_PORT=$proxy_port AGENTLEDGER_HOST=127.0.0.1 AGENTLEDGER_INGEST_PORT=$ingest_port \
  AGENTLEDGER_INGEST_HOST=127.0.0.1 AGENTLEDGER_UPSTREAM_URL="http://127.0.0.1:$upstream_port" \
  AGENTLEDGER_DSN="sqlite:///$work/bench.db" AGENTLEDGER_COLLECTOR="127.0.0.1:$ingest_port" LOG_LEVEL=warning
if [ "${MODE:-up}" = split ]; then
  api_port=$(free_port)
  AGENTLEDGER_HTTP_PORT=$api_port AGENTLEDGER_SPOOL_DIR="$work/spool" taskset -c 1 "$bin" collector >"$work/collector.log" 2>&1 &
  bench_pids+=($!)
  AGENTLEDGER_SPOOL_DIR="$work/spool" taskset -c 0 "$bin" sidecar >"$work/sidecar.log" 2>&1 &
  bench_pids+=($!)
  proxy_pid=$!
  api="http://127.0.0.1:$api_port"
  if [ -n "${BASELINE:-}" ]; then
    baseline_port=$(free_port)
    AGENTLEDGER_PORT=$baseline_port AGENTLEDGER_SOURCE=baseline AGENTLEDGER_SPOOL_DIR="$work/spool-baseline" \
      taskset -c 0 "$BASELINE" sidecar >"$work/sidecar-baseline.log" 2>&1 &
    bench_pids+=($!)
    baseline_pid=$!
  fi
else
  AGENTLEDGER_SPOOL_DIR="$work/spool" taskset -c 0 "$bin" up >"$work/up.log" 2>&1 &
  bench_pids+=($!)
  api="http://127.0.0.1:$proxy_port"
fi
for _ in $(seq 1 100); do
  curl -sf "$api/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

run() { # name url connections [pid of the proxy, for its CPU time per request]
  local out before=0 after=0
  [ -n "${4:-}" ] && before=$(cpu_seconds "$4")
  out=$(taskset -c 1 wrk -t1 -c"$3" -d"${duration}s" --latency -s "$work/request.lua" "$2/v1/chat/completions")
  [ -n "${4:-}" ] && after=$(cpu_seconds "$4")
  local rps p50 p99 requests cpu="–"
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  if [ -n "${4:-}" ] && [ "${requests:-0}" -gt 0 ]; then
    cpu=$(awk -v b="$before" -v a="$after" -v n="$requests" 'BEGIN {printf "%.0f µs", (a - b) * 1e6 / n}')
  fi
  printf '| %-8s | %3s | %10s | %9s | %9s | %8s |\n' "$1" "$3" "$rps" "$p50" "$p99" "$cpu"
}

# Warm every path (connection pools, caches) before measuring.
for port in $proxy_port ${baseline_port:-}; do
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/agentledger/metrics" >/dev/null 2>&1 && break; sleep 0.1; done
  taskset -c 1 wrk -t1 -c4 -d2s -s "$work/request.lua" "http://127.0.0.1:$port/v1/chat/completions" >/dev/null
done

echo "mode: ${MODE:-up}"
echo "| path     | connections | requests/s | p50 | p99 | proxy CPU per request |"
echo "|----------|-----|------------|-----|-----|-----|"
for _ in $(seq 1 "${REPS:-1}"); do
  for conns in 1 64; do
    run direct "http://127.0.0.1:$upstream_port" "$conns"
    run proxy "http://127.0.0.1:$proxy_port" "$conns" "${proxy_pid:-}"
    if [ -n "${baseline_port:-}" ]; then run baseline "http://127.0.0.1:$baseline_port" "$conns" "$baseline_pid"; fi
  done
done

# Every call the sidecar captured must end up stored: wait (at most DRAIN_WAIT seconds, default 300) for the collector
# to catch up. On SQLite, sharing core 1 with nginx, it stores about 3,000 calls/s: a long run leaves a backlog.
if [ "${MODE:-up}" = split ]; then sidecar_metrics="http://127.0.0.1:$proxy_port/agentledger/metrics"; else sidecar_metrics="$api/metrics"; fi
captured=$(metric "$sidecar_metrics" agentledger_sidecar_calls_captured_total)
if [ -n "${baseline_port:-}" ]; then
  captured=$((captured + $(metric "http://127.0.0.1:$baseline_port/agentledger/metrics" agentledger_sidecar_calls_captured_total)))
fi
drain_started=$SECONDS
while stored=$(metric "$api/metrics" agentledger_records_stored_total) && [ "${stored:-0}" -lt "$captured" ] &&
  [ $((SECONDS - drain_started)) -lt "${DRAIN_WAIT:-300}" ]; do
  sleep 0.5
done
echo
echo "calls captured by the sidecar: $captured; stored by the collector: $stored ($((SECONDS - drain_started)) s after the last run)"
curl -s "$api/metrics" | grep -E '^agentledger_(records|batches)' || true
