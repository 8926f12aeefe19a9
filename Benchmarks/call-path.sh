#!/usr/bin/env bash
# Added latency and throughput of the proxy: the same wrk load against a fixed nginx upstream, direct and
# through `agentledger up` (capture and shipping on), in one run. The proxy is pinned to core 0; nginx and
# wrk share core 1. Loopback only; every run is bounded by wrk's duration.
#
#   Benchmarks/call-path.sh [seconds-per-run]   (default 10)
#   MODE=split Benchmarks/call-path.sh          sidecar alone on core 0, collector on core 1
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"

for tool in wrk nginx taskset; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y wrk nginx-light util-linux" >&2; exit 1; }
done
scratch="${SCRATCH_PATH:-.build}"  # a separate build folder keeps a debug build in .build undisturbed
swift build -c release --product agentledger --scratch-path "$scratch" >/dev/null
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/agentledger"

work="$(mktemp -d)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
upstream_port=$(free_port); proxy_port=$(free_port); ingest_port=$(free_port)

cat >"$work/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/body;
  server {
    listen 127.0.0.1:$upstream_port;
    keepalive_requests 1000000;
    location / {
      default_type application/json;
      return 200 '{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"The answer is 42."},"finish_reason":"stop"}],"usage":{"prompt_tokens":512,"completion_tokens":8,"total_tokens":520}}';
    }
  }
}
CONF

# A ~2 KB chat request, as an agent with a short history sends.
python3 - "$work/request.lua" <<'PY'
import json, sys
history = [{"role": "system", "content": "You are a careful research assistant. " * 8}]
for i in range(6):
    history.append({"role": "user", "content": f"Question {i}: what changed in the quarterly numbers and why? " * 2})
    history.append({"role": "assistant", "content": f"Answer {i}: revenue grew on volume; margins held. " * 2})
body = json.dumps({"model": "gpt-4o-mini", "messages": history, "temperature": 0.2})
with open(sys.argv[1], "w") as f:
    f.write('wrk.method = "POST"\n')
    f.write('wrk.headers["Content-Type"] = "application/json"\n')
    f.write('wrk.headers["Authorization"] = "Bearer sk-bench"\n')
    f.write('wrk.headers["x-agentledger-session-id"] = "bench"\n')
    f.write("wrk.body = " + json.dumps(body) + "\n")
print(f"request body: {len(body)} bytes", file=sys.stderr)
PY

cleanup() {
  [ -n "${proxy_pid:-}" ] && kill "$proxy_pid" 2>/dev/null || true
  [ -n "${collector_pid:-}" ] && kill "$collector_pid" 2>/dev/null || true
  [ -n "${nginx_pid:-}" ] && kill "$nginx_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

taskset -c 1 nginx -c "$work/nginx.conf" -p "$work" &
nginx_pid=$!
export AGENTLEDGER_PORT=$proxy_port AGENTLEDGER_HOST=127.0.0.1 AGENTLEDGER_INGEST_PORT=$ingest_port \
  AGENTLEDGER_INGEST_HOST=127.0.0.1 AGENTLEDGER_UPSTREAM_URL="http://127.0.0.1:$upstream_port" \
  AGENTLEDGER_DSN="sqlite:///$work/bench.db" AGENTLEDGER_COLLECTOR="127.0.0.1:$ingest_port" LOG_LEVEL=warning
if [ "${MODE:-up}" = split ]; then
  api_port=$(free_port)
  AGENTLEDGER_HTTP_PORT=$api_port taskset -c 1 "$bin" collector >"$work/collector.log" 2>&1 &
  collector_pid=$!
  taskset -c 0 "$bin" sidecar >"$work/sidecar.log" 2>&1 &
  proxy_pid=$!
  api="http://127.0.0.1:$api_port"
else
  taskset -c 0 "$bin" up >"$work/up.log" 2>&1 &
  proxy_pid=$!
  api="http://127.0.0.1:$proxy_port"
fi
for _ in $(seq 1 100); do
  curl -sf "$api/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

run() { # name url connections
  local out
  out=$(taskset -c 1 wrk -t1 -c"$3" -d"${duration}s" --latency -s "$work/request.lua" "$2/v1/chat/completions")
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  printf '| %-7s | %3s | %10s | %9s | %9s |\n' "$1" "$3" "$rps" "$p50" "$p99"
}

# Warm both paths (connection pools, caches) before measuring.
taskset -c 1 wrk -t1 -c4 -d2s -s "$work/request.lua" "http://127.0.0.1:$proxy_port/v1/chat/completions" >/dev/null

echo "mode: ${MODE:-up}"
echo "| path    | connections | requests/s | p50 | p99 |"
echo "|---------|-----|------------|-----|-----|"
run direct "http://127.0.0.1:$upstream_port" 1
run proxy "http://127.0.0.1:$proxy_port" 1
run direct "http://127.0.0.1:$upstream_port" 64
run proxy "http://127.0.0.1:$proxy_port" 64

sleep 2
stored=$(curl -s "$api/api/sessions" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[0]["call_count"] if d else 0)')
echo
echo "calls stored for session 'bench' after the runs: $stored"
curl -s "$api/metrics" | grep -E '^agentledger_(records|batches)' || true
