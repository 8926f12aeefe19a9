#!/usr/bin/env bash
# `agentledger up` as most users first run it, both halves in one process pinned to ONE core (core 0), in front of a
# fixed nginx upstream, with capture and SQLite storage on; nginx, wrk and the timing client on core 1. Issue 20's
# table in one run, `up` against direct:
#
#   - throughput (wrk, the ~2 KB chat request of call-path.sh) at 1, 16 and 64 connections, direct and through `up`;
#   - RSS of `up`: idle, peak while loaded (sampled every 0.2 s, and VmHWM), and 10 s after the load;
#   - storage: calls answered against calls stored, and how long after the load the store caught up (bounded);
#   - added latency at one connection, p50 / p99 (Benchmarks/sse_first_byte.py --whole, paths alternating);
#   - added time to the first byte of a streamed answer (Benchmarks/sse_first_byte.py, the same nginx's stream).
#
# Loopback only; every phase is bounded in time (DURATION seconds of wrk per row, DRAIN seconds of waiting).
#
#   - with SUSTAINED=60: a paced load of about 5,000 calls/s for that long, then how long the store took to catch up.
#
#   AGENTLEDGER_BIN=<release build> Benchmarks/up.sh            DURATION=10 DRAIN=60 REQUESTS=5000 SUSTAINED=0
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${DURATION:-10}"
drain="${DRAIN:-60}"
requests="${REQUESTS:-5000}"
for tool in nginx wrk taskset curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y nginx-light wrk util-linux curl" >&2; exit 1; }
done
source Benchmarks/lib.sh # $work, free_port, wait_http, metric, rss_kib, hwm_kib, write_nginx_conf, write_chat_request
bench_build

upstream_port=$(free_port)
write_nginx_conf_with_stream "$upstream_port"
taskset -c 1 nginx -c "$work/nginx.conf" -p "$work" &
bench_pids+=($!)
write_chat_request 2>/dev/null
wait_http "http://127.0.0.1:$upstream_port/" || true

up_port=$(free_port)
ingest_port=$(free_port)
env AGENTLEDGER_PORT="$up_port" AGENTLEDGER_HOST=127.0.0.1 AGENTLEDGER_UPSTREAM_URL="http://127.0.0.1:$upstream_port" \
  AGENTLEDGER_DSN="sqlite:///$work/up.db" AGENTLEDGER_INGEST_HOST=127.0.0.1 AGENTLEDGER_INGEST_PORT="$ingest_port" \
  AGENTLEDGER_SPOOL_DIR="$work/spool" LOG_LEVEL=warning \
  taskset -c 0 "$bin" up >"$work/up.log" 2>&1 &
up_pid=$!
bench_pids+=("$up_pid")
wait_http "http://127.0.0.1:$up_port/healthz"
metrics="http://127.0.0.1:$up_port/metrics"

echo "date: $(date -u '+%F %H:%M UTC')  cores: $(nproc)  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary: $bin ($(git rev-parse --short HEAD 2>/dev/null || echo '?'), working tree as built)"
echo "up: core 0 alone; nginx, wrk and the timing client: core 1; SQLite store at $work/up.db"
# Idle once start-up is over: `up` hands back the pages only start-up used a second after it listens.
sleep 3
idle_kib=$(rss_kib "$up_pid")
idle_split=$(rss_split "$up_pid")
peak_anon_kib=0

# wrk_row CONNECTIONS PORT: requests/s and p50 / p99 of one wrk run.
wrk_row() {
  taskset -c 1 wrk -t1 -c"$1" -d"${duration}s" --latency -s "$work/request.lua" "http://127.0.0.1:$2/v1/chat/completions" \
    >"$work/wrk.txt" 2>&1 || true
  awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /requests in/ {n=$1}
    END {printf "%s req/s, p50 %s, p99 %s (%s requests)", rps, p50, p99, n}' "$work/wrk.txt"
}

# sample_rss COUNT INTERVAL: "VmRSS RssAnon" of up in KiB, COUNT times INTERVAL seconds apart (run in the background).
sample_rss() {
  for _ in $(seq 1 "$1"); do
    awk '/^VmRSS:/ {r=$2} /^RssAnon:/ {a=$2} END {print r, a}' "/proc/$up_pid/status"
    sleep "$2"
  done
}

# wait_caught_up ANSWERED LOAD_ENDED: seconds from LOAD_ENDED until the store held ANSWERED calls (empty when it did
# not within DRAIN seconds).
wait_caught_up() {
  local stored
  for _ in $(seq 1 $((drain * 10))); do
    stored=$(metric "$metrics" agentledger_records_stored_total)
    if [ "${stored%.*}" -ge "${1%.*}" ]; then
      python3 -c "import time; print(f'{time.time() - $2:.1f}')"
      return
    fi
    sleep 0.1
  done
}

answered_before=$(metric "$metrics" agentledger_sidecar_calls_captured_total)
peak_kib=$idle_kib
echo
echo "| connections | direct | through up |"
echo "|---|---|---|"
for connections in 1 16 64; do
  direct=$(wrk_row "$connections" "$upstream_port")
  if [ "$connections" = 64 ]; then
    # RSS while loaded: sampled in the background for the run's length.
    sample_rss $((duration * 5)) 0.2 >"$work/rss.txt" 2>/dev/null &
    sampler=$!
  fi
  through=$(wrk_row "$connections" "$up_port")
  if [ "$connections" = 64 ]; then
    wait "$sampler" 2>/dev/null || true
    peak_kib=$(sort -n "$work/rss.txt" | tail -1 | cut -d' ' -f1)
    peak_anon_kib=$(cut -d' ' -f2 "$work/rss.txt" | sort -n | tail -1)
  fi
  echo "| $connections | $direct | $through |"
done
load_ended=$(date +%s.%N)
hwm=$(hwm_kib "$up_pid")

# Storage: every call answered through up must be stored; how long after the load did the store catch up?
answered=$(metric "$metrics" agentledger_sidecar_calls_captured_total)
stored_at_end=$(metric "$metrics" agentledger_records_stored_total)
caught_up=$(wait_caught_up "$answered" "$load_ended")
sleep_left=$(python3 -c "import time; print(max(0, 10 - (time.time() - $load_ended)))")
sleep "$sleep_left"
after_kib=$(rss_kib "$up_pid")
after_split=$(rss_split "$up_pid") # now, before the scrapes below touch the metrics path's code again
stored=$(metric "$metrics" agentledger_records_stored_total)
spool=$(du -sk "$work/spool" 2>/dev/null | cut -f1)

echo
if [ -n "$caught_up" ]; then caught="caught up ${caught_up} s after the load"; else caught="NOT caught up within ${drain} s"; fi
echo "calls captured through up: $((${answered%.*} - ${answered_before%.*})); stored when the load ended: ${stored_at_end%.*};" \
  "stored now: ${stored%.*}; the store $caught; spool ${spool:-0} KiB"
echo "RSS of up: idle $((idle_kib / 1024)) MiB ($idle_split), peak sampled $((peak_kib / 1024)) MiB" \
  "(anon $((peak_anon_kib / 1024)) MiB; VmHWM $((hwm / 1024)) MiB), 10 s after the load $((after_kib / 1024)) MiB ($after_split);" \
  "after / idle $(python3 -c "print(f'{$after_kib / $idle_kib:.2f}')") (issue 20: <= 1.2)"
# Sustained (SUSTAINED=seconds, 0 skips): paced wrk, SUSTAINED_CONNECTIONS connections each waiting
# SUSTAINED_DELAY_MS between its answer and its next request (about 5,000 calls/s with the defaults), with RSS sampled
# throughout; then how long after it the store caught up. Issue 20: >= 5,000 calls/s answered and stored, drained
# within 10 s of a 60 s load.
sustained="${SUSTAINED:-0}"
if [ "$sustained" -gt 0 ]; then
  cp "$work/request.lua" "$work/paced.lua"
  echo "function delay() return ${SUSTAINED_DELAY_MS:-2} end" >>"$work/paced.lua"
  before=$(metric "$metrics" agentledger_sidecar_calls_captured_total)
  sample_rss $((sustained * 2)) 0.5 >"$work/rss-sustained.txt" 2>/dev/null &
  sampler=$!
  taskset -c 1 wrk -t1 -c"${SUSTAINED_CONNECTIONS:-16}" -d"${sustained}s" --latency -s "$work/paced.lua" \
    "http://127.0.0.1:$up_port/v1/chat/completions" >"$work/wrk-sustained.txt" 2>&1 || true
  load_ended=$(date +%s.%N)
  wait "$sampler" 2>/dev/null || true
  answered=$(metric "$metrics" agentledger_sidecar_calls_captured_total)
  stored_at_end=$(metric "$metrics" agentledger_records_stored_total)
  caught_up=$(wait_caught_up "$answered" "$load_ended")
  calls=$((${answered%.*} - ${before%.*}))
  echo
  echo "sustained ${sustained} s through up ($(awk '/Requests\/sec/ {print $2}' "$work/wrk-sustained.txt") req/s by wrk," \
    "p50 $(awk '/^ +50%/ {print $2}' "$work/wrk-sustained.txt"), p99 $(awk '/^ +99%/ {print $2}' "$work/wrk-sustained.txt")):" \
    "$calls calls, $((calls / sustained)) calls/s; behind when the load ended: $((${answered%.*} - ${stored_at_end%.*}));" \
    "caught up ${caught_up:-NOT within ${drain}} s after; peak RSS $(($(cut -d' ' -f1 "$work/rss-sustained.txt" | sort -n | tail -1) / 1024)) MiB" \
    "(anon $(($(cut -d' ' -f2 "$work/rss-sustained.txt" | sort -n | tail -1) / 1024)) MiB);" \
    "store catch-ups: $(metric "$metrics" agentledger_store_catch_ups_total 2>/dev/null || echo n/a)"
fi

echo
echo "added latency at one connection (whole ~2 KB answers, $requests requests per path):"
taskset -c 1 python3 Benchmarks/sse_first_byte.py --whole --direct "$upstream_port" --proxy "$up_port" --requests "$requests"
echo
echo "added time to the first byte of a streamed answer ($requests requests per path):"
taskset -c 1 python3 Benchmarks/sse_first_byte.py --direct "$upstream_port" --proxy "$up_port" --requests "$requests"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
