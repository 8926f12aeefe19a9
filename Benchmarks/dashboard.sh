#!/usr/bin/env bash
# The dashboard over a store of 10,000 sessions (issue "Dashboard": under 1 s to first paint in headless Chromium;
# live update latency from call end to DOM under 1 s).
#
# Starts a release `agentledger up` (SQLite) in front of nginx (the fixed chat answer of lib.sh), fills it with N
# sessions of 1-5 calls through its ingest port (Benchmarks/dashboard_bench.py fill, generate_calls.py's records),
# then measures in Debian's chromium, headless, with playwright from .venv (dashboard_bench.py measure): paint times
# and the sessions table over LOADS cold loads, and the live row of CALLS new calls through the proxy. Then the fleet
# and timeline views (issue 21: under 300 ms with 1,000 sidecars and a 500-call session): SIDECARS links speaking
# protocol version 2 stay open and report STATUS, one session of SESSION_CALLS calls is stored, and
# Benchmarks/views_bench.py measures each view over LOADS cold loads.
#
#   Benchmarks/dashboard.sh [sessions]            (default 10000)
#   LOADS=15 CALLS=20 SIDECARS=1000 SESSION_CALLS=500 SCRATCH_PATH=.build-release Benchmarks/dashboard.sh
set -euo pipefail
cd "$(dirname "$0")/.."
sessions="${1:-10000}"
python=.venv/bin/python
for tool in nginx curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y nginx curl python3" >&2; exit 1; }
done
[ -x /usr/bin/chromium ] || { echo "missing chromium: apt-get install -y chromium" >&2; exit 1; }
"$python" -c 'import httpx, playwright' 2>/dev/null ||
  { echo "missing playwright/httpx: .venv/bin/pip install playwright httpx" >&2; exit 1; }
source Benchmarks/lib.sh
bench_build

upstream_port=$(free_port); proxy_port=$(free_port); ingest_port=$(free_port)
write_nginx_conf "$upstream_port"
nginx -c "$work/nginx.conf" -p "$work" &
bench_pids+=($!)
AGENTLEDGER_HOST=127.0.0.1 AGENTLEDGER_PORT="$proxy_port" AGENTLEDGER_INGEST_HOST=127.0.0.1 \
  AGENTLEDGER_INGEST_PORT="$ingest_port" AGENTLEDGER_COLLECTOR="127.0.0.1:$ingest_port" \
  AGENTLEDGER_UPSTREAM_URL="http://127.0.0.1:$upstream_port" AGENTLEDGER_DSN="sqlite:///$work/ledger.db" \
  AGENTLEDGER_SPOOL_DIR="$work/spool" LOG_LEVEL=warning "$bin" up >"$work/up.log" 2>&1 &
up_pid=$!
bench_pids+=("$up_pid")
wait_http "http://127.0.0.1:$proxy_port/healthz"

echo "filling $sessions sessions through the ingest port"
started=$(date +%s.%N)
(cd Benchmarks && python3 dashboard_bench.py fill --port "$ingest_port" --sessions "$sessions") | tail -1
finished=$(date +%s.%N)
stored=$(curl -s -D - -o /dev/null "http://127.0.0.1:$proxy_port/api/sessions?limit=1" | awk 'tolower($1) == "x-total-count:" {print $2}' | tr -d '\r')
[ "$stored" = "$sessions" ] || { echo "the store lists $stored sessions, expected $sessions" >&2; exit 1; }
awk -v a="$started" -v b="$finished" -v n="$stored" 'BEGIN {printf "stored %d sessions in %.0f s\n", n, b - a}'

echo
echo "date: $(date -u '+%F %H:%M')  chromium: $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}')  cores: $(nproc)"
echo "store: SQLite $(du -h "$work/ledger.db" | cut -f1), $stored sessions"
echo "load before measuring: $(uptime | sed 's/.*load average: //')"
"$python" Benchmarks/dashboard_bench.py measure --base "http://127.0.0.1:$proxy_port" \
  --loads "${LOADS:-15}" --calls "${CALLS:-20}" --json "$work/dashboard.json" | sed '$d'
echo "load after measuring: $(uptime | sed 's/.*load average: //')"
echo "up: RSS $(($(rss_kib "$up_pid") / 1024)) MiB, CPU $(cpu_seconds "$up_pid") s"

# The fleet and timeline views (issue 21): SIDECARS links reporting STATUS, one session of SESSION_CALLS calls.
sidecars="${SIDECARS:-1000}"
session_calls="${SESSION_CALLS:-500}"
echo
echo "linking $sidecars sidecars and storing a $session_calls-call session"
(cd Benchmarks && exec "../$python" views_bench.py fleet --port "$ingest_port" --sidecars "$sidecars" --seconds 900) \
  >"$work/fleet.log" 2>&1 &
bench_pids+=($!)
session_id=$(cd Benchmarks && "../$python" views_bench.py session --port "$ingest_port" --calls "$session_calls")
for _ in $(seq 1 300); do grep -q "sidecars linked" "$work/fleet.log" && break; sleep 0.2; done
grep -q "sidecars linked" "$work/fleet.log" || { echo "the sidecars did not link: $(tail -3 "$work/fleet.log")" >&2; exit 1; }
sleep 3  # the collector writes its sidecars every 2 s
echo "load before measuring: $(uptime | sed 's/.*load average: //')"
(cd Benchmarks && "../$python" views_bench.py measure --base "http://127.0.0.1:$proxy_port" --session "$session_id" \
  --loads "${LOADS:-15}" --sidecars "$sidecars" --calls "$session_calls" --json "$work/views.json") | sed '$d'
echo "up: RSS $(($(rss_kib "$up_pid") / 1024)) MiB, CPU $(cpu_seconds "$up_pid") s"
