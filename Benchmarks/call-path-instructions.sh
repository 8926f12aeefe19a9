#!/usr/bin/env bash
# Instructions per proxied call of the sidecar, counted by valgrind's callgrind: exact and independent of what else
# the shared machine does, where the timings of Benchmarks/call-path.sh swing by a third. For each build, in turn, a
# sidecar under callgrind on core 0 (nginx and one collector on core 1, as in call-path.sh), warmed up with wrk,
# then its counters zeroed, CALL_SECONDS of wrk load at CONNECTIONS connections, and its counters dumped:
# instructions (callgrind's total, user space) divided by the calls it captured meanwhile. Loopback only; every
# run is bounded by wrk's duration and a wait of at most 120 s for valgrind's start.
#
#   AGENTLEDGER_BIN=<build> Benchmarks/call-path-instructions.sh [<another build> ...]
#   CONNECTIONS=64 CALL_SECONDS=20 REPS=2 AGENTLEDGER_BIN=<now> Benchmarks/call-path-instructions.sh <before>
#
# The first build also runs the collector. Builds linked like scripts/build-release (`--static-swift-stdlib`):
# valgrind 3.19 crashes on the dynamically linked Swift runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
connections="${CONNECTIONS:-1}"
call_seconds="${CALL_SECONDS:-20}"
reps="${REPS:-1}"

for tool in wrk nginx taskset valgrind callgrind_control; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y wrk nginx-light util-linux valgrind" >&2; exit 1; }
done
source Benchmarks/lib.sh
bench_build
builds=("$bin" "$@")
upstream_port=$(free_port); ingest_port=$(free_port); api_port=$(free_port)
write_nginx_conf "$upstream_port"
write_chat_request 2>/dev/null

taskset -c 1 nginx -c "$work/nginx.conf" -p "$work" &
bench_pids+=($!)
AGENTLEDGER_DSN="sqlite:///$work/bench.db" AGENTLEDGER_INGEST_HOST=127.0.0.1 AGENTLEDGER_INGEST_PORT=$ingest_port \
  AGENTLEDGER_HTTP_HOST=127.0.0.1 AGENTLEDGER_HTTP_PORT=$api_port LOG_LEVEL=warning \
  taskset -c 1 "$bin" collector >"$work/collector.log" 2>&1 &
bench_pids+=($!)
wait_http "http://127.0.0.1:$api_port/healthz"

# count BUILD: sets $instructions and $calls for one sidecar of BUILD under callgrind.
count() {
  local build="$1" port pid metrics before after dump
  port=$(free_port)
  metrics="http://127.0.0.1:$port/agentledger/metrics"
  AGENTLEDGER_HOST=127.0.0.1 AGENTLEDGER_PORT=$port AGENTLEDGER_UPSTREAM_URL="http://127.0.0.1:$upstream_port" \
    AGENTLEDGER_COLLECTOR="127.0.0.1:$ingest_port" AGENTLEDGER_SPOOL_DIR="$work/spool-$port" LOG_LEVEL=warning \
    taskset -c 0 valgrind --tool=callgrind --valgrind-stacksize=10485760 --callgrind-out-file="$work/callgrind.%p" \
    "$build" sidecar >"$work/sidecar-$port.log" 2>&1 &
  pid=$!
  bench_pids+=("$pid")
  for _ in $(seq 1 1200); do
    [ "$(metric "$metrics" agentledger_sidecar_collector_link_up)" = 1 ] && break
    sleep 0.1
  done
  [ "$(metric "$metrics" agentledger_sidecar_collector_link_up)" = 1 ] ||
    { echo "sidecar under valgrind did not link up: $(tail -5 "$work/sidecar-$port.log")" >&2; exit 1; }
  taskset -c 1 wrk -t1 -c4 -d5s -s "$work/request.lua" "http://127.0.0.1:$port/v1/chat/completions" >/dev/null
  before=$(metric "$metrics" agentledger_sidecar_calls_captured_total)
  callgrind_control -z "$pid" >/dev/null 2>&1
  taskset -c 1 wrk -t1 -c"$connections" -d"${call_seconds}s" -s "$work/request.lua" \
    "http://127.0.0.1:$port/v1/chat/completions" >/dev/null
  callgrind_control -d "$pid" >/dev/null 2>&1
  after=$(metric "$metrics" agentledger_sidecar_calls_captured_total)
  dump="$work/callgrind.$pid.1"  # the first dump: from the zeroing to the end of the load
  for _ in $(seq 1 100); do [ -s "$dump" ] && break; sleep 0.1; done
  instructions=$(awk '/^(totals|summary):/ {print $2; exit}' "$dump")
  calls=$((after - before))
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$work"/callgrind."$pid"*
}

echo "connections: $connections  seconds counted: $call_seconds  reference loop: $(reference_ms) ms"
echo
echo "| run | build | instructions | calls | instructions per call |"
echo "|---|---|---|---|---|"
for rep in $(seq 1 "$reps"); do
  for build in "${builds[@]}"; do
    count "$build"
    printf '| %s | %s | %s | %s | %s |\n' "$rep" "$build" "$instructions" "$calls" \
      "$(awk -v i="$instructions" -v n="$calls" 'BEGIN {printf "%.0f", n ? i / n : 0}')"
  done
done
