#!/usr/bin/env bash
# Memory of `agentledger sidecar` (VmRSS from /proc/PID/status): idle after start, under a steady 500 requests/s
# through a collector (Postgres) to the mock upstream, then the same load while the collector is down (records go
# to the spool), then idle again once the collector is back and the spool has drained. The load is open-loop and
# paced (Benchmarks/paced_load.py: request i is due at i/rate, 16 threads with keep-alive connections), because wrk
# has no rate option. Loopback only; every phase is bounded in time.
# The sidecar drops its start-up code pages a second after it listens (Sources/Sidecar/StartupPages.swift), so idle
# is measured twice: quiet, and again after it has served one metrics scrape (what a liveness probe brings back).
#
#   Benchmarks/sidecar-memory.sh [seconds-per-load-phase] [requests-per-second]   (defaults 20, 500)
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-20}"
rate="${2:-500}"

for tool in psql curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y postgresql curl python3" >&2; exit 1; }
done
source Benchmarks/lib.sh
bench_build
pg_start
ingest_port=$(free_port); api_port=$(free_port); mock_port=$(free_port); sidecar_port=$(free_port)
sidecar_metrics="http://127.0.0.1:$sidecar_port/agentledger/metrics"
collector_metrics="http://127.0.0.1:$api_port/metrics"

# The same ~2 KB chat request as call-path.sh.
python3 - "$work/request.json" <<'PY'
import json, sys
history = [{"role": "system", "content": "You are a careful research assistant. " * 8}]
for i in range(6):
    history.append({"role": "user", "content": f"Question {i}: what changed in the quarterly numbers and why? " * 2})
    history.append({"role": "assistant", "content": f"Answer {i}: revenue grew on volume; margins held. " * 2})
with open(sys.argv[1], "w") as f:
    json.dump({"model": "gpt-4o-mini", "messages": history, "temperature": 0.2}, f)
PY

"$bin" mock-upstream --port "$mock_port" >"$work/mock.log" 2>&1 &
bench_pids+=($!)
wait_http "http://127.0.0.1:$mock_port/v1/models"
start_collector "$work/collector.log"
AGENTLEDGER_HOST=127.0.0.1 AGENTLEDGER_PORT=$sidecar_port AGENTLEDGER_UPSTREAM_URL="http://127.0.0.1:$mock_port" \
  AGENTLEDGER_COLLECTOR="127.0.0.1:$ingest_port" AGENTLEDGER_SPOOL_DIR="$work/spool" AGENTLEDGER_SOURCE=bench \
  LOG_LEVEL=warning "$bin" sidecar >"$work/sidecar.log" 2>&1 &
sidecar_pid=$!
bench_pids+=("$sidecar_pid")
wait_http "$sidecar_metrics"
for _ in $(seq 1 50); do
  [ "$(metric "$sidecar_metrics" agentledger_sidecar_collector_link_up)" = 1 ] && break
  sleep 0.1
done

mib() { awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}'; }
# The six largest resident mappings by file (or [anon], [heap], [stack]), from /proc/PID/smaps.
rss_mappings() {
  awk '/^[0-9a-f]+-[0-9a-f]+ / {n = NF >= 6 ? $6 : "[anon]"; sub(/.*\//, "", n)} /^Rss:/ {r[n] += $2}
    END {for (n in r) if (r[n] > 0) printf "%d %s\n", r[n], n}' "/proc/$1/smaps" |
    sort -rn | head -6 | awk '{printf "%s%s %.1f", (NR > 1 ? ", " : ""), $2, $1 / 1024} END {print ""}'
}
load() { # phase
  local result
  result=$(python3 Benchmarks/paced_load.py --url "http://127.0.0.1:$sidecar_port/v1/chat/completions" \
    --body "$work/request.json" --rate "$rate" --seconds "$duration" --header "x-agentledger-session-id: mem" \
    --watch-pid "$sidecar_pid")
  python3 - "$1" "$result" <<'PY'
import json, sys
r = json.loads(sys.argv[2])
mib = lambda k: f"{k / 1024:.1f} MiB"
codes = ", ".join(f"{n}× {c}" for c, n in sorted(r["statuses"].items()))
print(f"| {sys.argv[1]} | {r['rate']} | {r['latency_ms_p50']} ms | {r['latency_ms_p99']} ms | "
      f"{mib(r['rss_kib_peak'])} | {mib(r['rss_kib_steady'])} | {codes} |")
PY
}

echo "date: $(date -u +%F)  rate: $rate requests/s for ${duration} s per load phase  cores: $(nproc)"
echo
sleep 3
idle=$(rss_kib "$sidecar_pid")
echo "idle 3 s after start: VmRSS $(mib "$idle") ($(rss_split "$sidecar_pid"); $(ls "/proc/$sidecar_pid/task" | wc -l) threads)"
echo "  largest mappings: $(rss_mappings "$sidecar_pid")"
curl -sf "$sidecar_metrics" >/dev/null
sleep 1
echo "idle after one metrics scrape: VmRSS $(mib "$(rss_kib "$sidecar_pid")") ($(rss_split "$sidecar_pid"))"
echo "  largest mappings: $(rss_mappings "$sidecar_pid")"
echo
echo "| phase | requests/s | p50 | p99 | RSS peak | RSS steady (median, 2nd half) | statuses |"
echo "|---|---|---|---|---|---|---|"
load "collector up"

stop_collector
for _ in $(seq 1 50); do
  [ "$(metric "$sidecar_metrics" agentledger_sidecar_collector_link_up)" = 0 ] && break
  sleep 0.1
done
load "collector down (spooling)"
spooled=$(metric "$sidecar_metrics" agentledger_sidecar_spool_bytes)
queued=$(metric "$sidecar_metrics" agentledger_sidecar_queued_bytes)

start_collector "$work/collector.log"
captured=$(metric "$sidecar_metrics" agentledger_sidecar_calls_captured_total)
for _ in $(seq 1 300); do  # at most 30 s for the replay
  [ "$(metric "$sidecar_metrics" agentledger_sidecar_calls_acknowledged_total)" -ge "$captured" ] && break
  sleep 0.1
done
sleep 3
echo
echo "after the down phase: spool $spooled bytes, in-memory queue $queued bytes"
echo "idle after the replay: VmRSS $(mib "$(rss_kib "$sidecar_pid")") ($(rss_split "$sidecar_pid")), peak over the run (VmHWM) $(mib "$(hwm_kib "$sidecar_pid")")"
echo "  largest mappings: $(rss_mappings "$sidecar_pid")"
echo "sidecar: $captured captured, $(metric "$sidecar_metrics" agentledger_sidecar_calls_acknowledged_total) acknowledged," \
  "$(metric "$sidecar_metrics" agentledger_sidecar_calls_dropped_total) dropped;" \
  "calls in Postgres: $(pg_sql "SELECT count(*) FROM calls")"
