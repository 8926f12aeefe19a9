#!/usr/bin/env bash
# Time to the first byte of a streamed (SSE) answer, direct to a fixed nginx upstream and through a sidecar
# (capture and shipping on, to a collector on SQLite), in one run: the issue-3 target is at most +0.2 ms.
#
# nginx answers every streamed POST with a fixed chat-completions event stream (text/event-stream, ten `data:` events
# and `[DONE]`; Benchmarks/lib.sh, write_nginx_conf_with_stream). The request says `"stream": true`, so the sidecar also asks the upstream for stream usage and filters
# it back out, as it does for a real agent. Benchmarks/sse_first_byte.py sends REQUESTS requests one after another
# on one keep-alive connection per path, alternating paths in blocks of 100, and times each from the request's
# last byte written to the first byte of the answer's body. Sidecar on core 0; nginx, collector and client on
# core 1. Loopback only; bounded by REQUESTS.
#
#   SCRATCH_PATH=.build-release Benchmarks/sse-first-byte.sh        REQUESTS=5000 per path
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${REQUESTS:-5000}"
for tool in nginx taskset curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y nginx-light util-linux curl" >&2; exit 1; }
done
source Benchmarks/lib.sh # $work, free_port, wait_http, metric, bench_build (sets $bin), the cleanup trap
bench_build

upstream_port=$(free_port)
write_nginx_conf_with_stream "$upstream_port"
taskset -c 1 nginx -c "$work/nginx.conf" -p "$work" &
bench_pids+=($!)

start_split_sidecar "$upstream_port"

echo "date: $(date -u '+%F %H:%M UTC')  cores: $(nproc)  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary: $bin ($(git rev-parse --short HEAD 2>/dev/null || echo '?'), working tree as built)"
taskset -c 1 python3 Benchmarks/sse_first_byte.py --direct "$upstream_port" --proxy "$proxy_port" --requests "$requests"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
