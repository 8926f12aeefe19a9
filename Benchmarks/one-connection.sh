#!/usr/bin/env bash
# Added latency at one connection, p50 and p99 (issue-3 targets: at most +0.2 ms and +0.5 ms): the same ~2 KB chat
# request, direct to a fixed nginx upstream and through a sidecar (capture and shipping on, to a collector on
# SQLite), one request at a time on one keep-alive connection per path, the paths alternating in blocks of 100
# (Benchmarks/sse_first_byte.py --whole). Each request is timed from its last byte written to the last byte of the
# answer. A hand-written client rather than wrk: wrk's own p99 at one connection is milliseconds here, which hides
# what the sidecar adds. Sidecar on core 0; nginx, collector and client on core 1. Loopback only; bounded by REQUESTS.
#
#   SCRATCH_PATH=.build-release Benchmarks/one-connection.sh        REQUESTS=10000 per path
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${REQUESTS:-10000}"
for tool in nginx taskset curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y nginx-light util-linux curl" >&2; exit 1; }
done
source Benchmarks/lib.sh # $work, free_port, write_nginx_conf, start_split_sidecar, bench_build (sets $bin), cleanup
bench_build

upstream_port=$(free_port)
write_nginx_conf "$upstream_port"
taskset -c 1 nginx -c "$work/nginx.conf" -p "$work" &
bench_pids+=($!)
start_split_sidecar "$upstream_port"

echo "date: $(date -u '+%F %H:%M UTC')  cores: $(nproc)  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary: $bin ($(git rev-parse --short HEAD 2>/dev/null || echo '?'), working tree as built)"
taskset -c 1 python3 Benchmarks/sse_first_byte.py --whole --direct "$upstream_port" --proxy "$proxy_port" --requests "$requests"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
