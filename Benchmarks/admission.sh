#!/usr/bin/env bash
# Budget admission (issue 5): what ADMIT costs, in one run.
#
# Part 1, the round trip: Benchmarks/admission_load.py plays one sidecar link and keeps exactly 1, 16 and 64 ADMITs
# outstanding against `agentledger collector` (SQLite in $work), timing every ADMIT -> VERDICT. Two collectors, run
# alternately: one with budgets and rate limits (session, agent, user, daily; limits high enough never to refuse),
# one with none (it still answers ADMIT, without enforcement: the protocol's own share). Collector on core 0,
# client on core 1.
#
# Part 2, the proxied call: wrk against the nginx mock upstream directly, through a sidecar whose collector has no
# budgets (no ADMIT) and through a sidecar whose collector enforces budgets (one ADMIT per call), alternately in
# each repetition: 1 connection (latency), 16 connections (throughput) and 64. For the sidecar with budgets, the
# admission round trip at 1, 16 and 64 concurrent calls is read from its own histogram
# (agentledger_sidecar_admission_seconds), scraped before and after each run. Sidecars on core 0; collectors, nginx
# and wrk on core 1 (as MODE=split in call-path.sh).
#
# The machine is shared and noisy: every figure is the median of REPS repetitions, each printed as it runs.
# Loopback only; every run is bounded by its seconds (and part 1 also by a request count); lib.sh's trap stops
# every process started here.
#
#   Benchmarks/admission.sh                      REPS=5, 5 s per load run, 5 s per wrk run
#   REPS=3 SECONDS_PER_RUN=3 SCRATCH_PATH=.build-release Benchmarks/admission.sh
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${REPS:-5}"
duration="${SECONDS_PER_RUN:-5}"
max_requests="${MAX_REQUESTS:-200000}"

for tool in wrk nginx taskset curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y wrk nginx-light util-linux curl" >&2; exit 1; }
done
python3 Benchmarks/admission_load.py selftest >/dev/null
source Benchmarks/lib.sh # $work, free_port, wait_http, metric, bench_build (sets $bin), the cleanup trap
bench_build

# Budgets in USD and limits in requests per minute: every key kind enforced, none ever reached in a run.
budget_env=(AGENTLEDGER_BUDGET_SESSION=1000 AGENTLEDGER_BUDGET_AGENT=1000000 AGENTLEDGER_BUDGET_USER=1000000
  AGENTLEDGER_BUDGET_DAILY=1000000 AGENTLEDGER_RATE_LIMIT_RPM=10000000 AGENTLEDGER_RATE_LIMIT_SESSION_RPM=10000000
  AGENTLEDGER_RATE_LIMIT_AGENT_RPM=10000000 AGENTLEDGER_RATE_LIMIT_USER_RPM=10000000)

declare -A ingest api pid
# ledger_collector NAME CORE budgets|none: a collector on its own SQLite file, ingest and API ports in ${ingest,api}[NAME].
ledger_collector() {
  local extra=()
  [ "$3" = budgets ] && extra=("${budget_env[@]}")
  ingest[$1]=$(free_port); api[$1]=$(free_port)
  env AGENTLEDGER_DSN="sqlite:///$work/$1.db" AGENTLEDGER_INGEST_HOST=127.0.0.1 AGENTLEDGER_INGEST_PORT="${ingest[$1]}" \
    AGENTLEDGER_HTTP_HOST=127.0.0.1 AGENTLEDGER_HTTP_PORT="${api[$1]}" LOG_LEVEL=warning "${extra[@]}" \
    taskset -c "$2" "$bin" collector >"$work/$1.log" 2>&1 &
  pid[$1]=$!
  bench_pids+=("${pid[$1]}")
  wait_http "http://127.0.0.1:${api[$1]}/healthz"
}

stop() { kill "${pid[$1]}" 2>/dev/null || true; wait "${pid[$1]}" 2>/dev/null || true; }

# median FILE COLUMN: the median of one whitespace-separated column.
median() { sort -g -k"$2,$2" "$1" | awk -v c="$2" '{v[NR]=$c} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

echo "date: $(date -u '+%F %H:%M UTC')  cores: $(nproc)  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary: $bin ($(git rev-parse --short HEAD 2>/dev/null || echo '?'), working tree as built)"
echo "repetitions: $reps, medians reported; $duration s per run"
echo

# --- Part 1: the ADMIT -> VERDICT round trip over loopback -------------------------------------------------------
ledger_collector enforcing 0 budgets
ledger_collector open 0 none
echo "## Part 1: ADMIT -> VERDICT round trip, one link, collector on core 0, client on core 1"
echo "per run: concurrency collector p50 p90 p99 p99.9 max (µs) verdicts/s collector-CPU-µs/verdict client-CPU-s"
for rep in $(seq 1 "$reps"); do
  for n in 1 16 64; do
    for name in enforcing open; do
      cpu_before=$(cpu_seconds "${pid[$name]}")
      result=$(taskset -c 1 python3 Benchmarks/admission_load.py load --port "${ingest[$name]}" --concurrency "$n" \
        --seconds "$duration" --requests "$max_requests" --warmup 2000 || true)
      python3 - "$result" "$name" "$work/rt-$name-$n" "$rep" "$cpu_before" "$(cpu_seconds "${pid[$name]}")" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
want = sys.argv[2] == "enforcing"
if r["error"] or r["refused"] or r["admission_required"] != want:
    sys.exit(f"bad run ({sys.argv[2]}): {r}")
# Collector CPU per verdict over the whole run, warm-up included (2,000 more verdicts than counted).
cpu_us = round((float(sys.argv[6]) - float(sys.argv[5])) * 1e6 / (r["verdicts"] + 2000), 1)
cols = [r["p50_us"], r["p90_us"], r["p99_us"], r["p999_us"], r["max_us"], r["verdicts_per_s"], cpu_us, r["loader_cpu_s"]]
with open(sys.argv[3], "a") as f:
    f.write(" ".join(map(str, cols)) + "\n")
print(f'  rep {sys.argv[4]} {r["concurrency"]:>2} {sys.argv[2]:9} ' + " ".join(map(str, cols)))
PY
    done
  done
done
admitted=$(metric "http://127.0.0.1:${api[enforcing]}/metrics" agentledger_admissions_total)
refused=$(curl -s "http://127.0.0.1:${api[enforcing]}/metrics" | awk '/^agentledger_refusals_total/ {s+=$2} END {print s+0}')
collector_rss=$(awk '/^VmHWM:/ {printf "%.0f MiB", $2/1024}' "/proc/${pid[enforcing]}/status")
echo
echo "enforcing collector: $admitted admitted, $refused refused, peak RSS $collector_rss"
echo
echo "| concurrent ADMITs | collector | p50 | p90 | p99 | p99.9 | max | verdicts/s | collector CPU per verdict |"
echo "|---|---|---|---|---|---|---|---|---|"
for n in 1 16 64; do
  for name in enforcing open; do
    f="$work/rt-$name-$n"
    label=$([ "$name" = enforcing ] && echo "budgets + rate limits" || echo "none (no enforcement)")
    printf '| %s | %s | %s µs | %s µs | %s µs | %s µs | %s µs | %s | %s µs |\n' "$n" "$label" "$(median "$f" 1)" \
      "$(median "$f" 2)" "$(median "$f" 3)" "$(median "$f" 4)" "$(median "$f" 5)" "$(median "$f" 6)" "$(median "$f" 7)"
  done
done
p99_64=$(median "$work/rt-enforcing-64" 3)
verdict=$(awk -v p="$p99_64" 'BEGIN {print (p < 1000) ? "met" : "MISSED"}')
echo
echo "target p99 < 1 ms at 64 concurrent ADMITs: $verdict (median p99 $p99_64 µs)"
echo "load average after part 1: $(cut -d' ' -f1-3 /proc/loadavg)"
stop enforcing
stop open

# --- Part 2: added latency of a proxied call, with and without budgets -------------------------------------------
upstream_port=$(free_port)
write_nginx_conf "$upstream_port"
write_chat_request 2>/dev/null
taskset -c 1 nginx -c "$work/nginx.conf" -p "$work" &
bench_pids+=($!)
ledger_collector budgets 1 budgets
ledger_collector plain 1 none

declare -A proxy
# ledger_sidecar NAME COLLECTOR: a sidecar on core 0 in front of nginx, shipping to COLLECTOR.
ledger_sidecar() {
  proxy[$1]=$(free_port)
  env AGENTLEDGER_HOST=127.0.0.1 AGENTLEDGER_PORT="${proxy[$1]}" AGENTLEDGER_UPSTREAM_URL="http://127.0.0.1:$upstream_port" \
    AGENTLEDGER_COLLECTOR="127.0.0.1:${ingest[$2]}" AGENTLEDGER_SPOOL_DIR="$work/spool-$1" LOG_LEVEL=warning \
    taskset -c 0 "$bin" sidecar >"$work/sidecar-$1.log" 2>&1 &
  pid[$1]=$!
  bench_pids+=("${pid[$1]}")
  local _
  for _ in $(seq 1 100); do
    [ "$(metric "http://127.0.0.1:${proxy[$1]}/agentledger/metrics" agentledger_sidecar_collector_link_up)" = 1 ] && return 0
    sleep 0.1
  done
  echo "sidecar $1 never linked to its collector" >&2
  exit 1
}
ledger_sidecar with-budgets budgets
ledger_sidecar no-budgets plain
declare -A url=([direct]="http://127.0.0.1:$upstream_port" [no-budgets]="http://127.0.0.1:${proxy[no-budgets]}"
  [with-budgets]="http://127.0.0.1:${proxy[with-budgets]}")

# wrk's latency with its unit (85.00us, 1.20ms, 1.00s) in µs.
micros() { awk '{v=$1+0; if ($1 ~ /us$/) print v; else if ($1 ~ /ms$/) print v*1000; else print v*1000000}' <<<"$1"; }

declare -A serving=([no-budgets]=plain [with-budgets]=budgets)
# CPU seconds of the sidecar of PATH and of its collector ("0 0" for direct).
path_cpu() { [ "$1" = direct ] && echo "0 0" || echo "$(cpu_seconds "${pid[$1]}") $(cpu_seconds "${pid[${serving[$1]}]}")"; }

wrk_run() { # path connections -> "p50_us p99_us requests/s sidecar-CPU-µs/call collector-CPU-µs/call"
  local out before after
  before=$(path_cpu "$1")
  out=$(taskset -c 1 wrk -t1 -c"$2" -d"${duration}s" --latency -s "$work/request.lua" "${url[$1]}/v1/chat/completions")
  after=$(path_cpu "$1")
  grep -q "Non-2xx\|Socket errors" <<<"$out" && { echo "wrk errors on $1: $out" >&2; exit 1; }
  echo "$(micros "$(awk '$1=="50%" {print $2}' <<<"$out")") $(micros "$(awk '$1=="99%" {print $2}' <<<"$out")")" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk -v b="$before" -v a="$after" -v n="$(awk '/requests in/ {print $1}' <<<"$out")" \
      'BEGIN {split(b, x, " "); split(a, y, " "); printf "%.0f %.0f", (y[1]-x[1])*1e6/n, (y[2]-x[2])*1e6/n}')"
}

# admission_percentiles BEFORE AFTER: the sidecar's agentledger_sidecar_admission_seconds histogram between two
# scrapes: "count p50 p99", each percentile as the upper bound of the bucket it falls in, in µs.
admission_percentiles() {
  python3 - "$1" "$2" <<'PY'
import re, sys
def buckets(path):
    found = re.findall(r'^agentledger_sidecar_admission_seconds_bucket\{le="([^"]+)"\} (\d+)$', open(path).read(), re.M)
    return [(float(le), int(n)) for le, n in found]
before, after = buckets(sys.argv[1]), buckets(sys.argv[2])
counts = [(le, n - m) for (le, n), (_, m) in zip(after, before)]
total = counts[-1][1]
def percentile(q):
    return next(("%.0f" % (le * 1e6) if le != float("inf") else "inf") for le, n in counts if n >= q * total)
print(total, percentile(0.5), percentile(0.99)) if total else print(0, "-", "-")
PY
}

for path in no-budgets with-budgets; do # warm the connection pools and the collector links
  taskset -c 1 wrk -t1 -c16 -d2s -s "$work/request.lua" "${url[$path]}/v1/chat/completions" >/dev/null
done
admits_before=$(metric "http://127.0.0.1:${api[budgets]}/metrics" agentledger_admissions_total)
echo
echo "## Part 2: proxied call, direct vs sidecar (collector without / with budgets), sidecars on core 0"
echo "per run: path connections p50-µs p99-µs requests/s sidecar-CPU-µs/call collector-CPU-µs/call"
sidecar_metrics="http://127.0.0.1:${proxy[with-budgets]}/agentledger/metrics"
for rep in $(seq 1 "$reps"); do
  for c in 1 16 64; do
    for path in direct no-budgets with-budgets; do
      [ "$path" = with-budgets ] && curl -fsS "$sidecar_metrics" >"$work/hist-before"
      line=$(wrk_run "$path" "$c")
      echo "$line" >>"$work/wrk-$path-$c"
      echo "  rep $rep $path c=$c $line"
      if [ "$path" = with-budgets ]; then
        curl -fsS "$sidecar_metrics" >"$work/hist-after"
        trip=$(admission_percentiles "$work/hist-before" "$work/hist-after")
        echo "$trip" >>"$work/trip-$c"
        echo "  rep $rep admission round trip in the sidecar, c=$c: count p50<= p99<= (µs) $trip"
      fi
    done
  done
done
admits=$(($(metric "http://127.0.0.1:${api[budgets]}/metrics" agentledger_admissions_total) - admits_before))
plain_admits=$(metric "http://127.0.0.1:${api[plain]}/metrics" agentledger_admissions_total)
unavailable=$(metric "http://127.0.0.1:${proxy[with-budgets]}/agentledger/metrics" \
  agentledger_sidecar_admission_unavailable_total)
echo
echo "budgets collector: $admits ADMITs answered during the runs; sidecar with budgets: $unavailable calls without a verdict"
echo "no-budgets collector: $plain_admits ADMITs (expected 0: its WELCOME says admission is not required)"
echo
echo -n "| path | 1 conn p50 | 1 conn p99 | added p50 | added p99 | 16 conn requests/s | vs direct "
echo "| sidecar CPU/call | collector CPU/call |"
echo "|---|---|---|---|---|---|---|---|---|"
direct_p50=$(median "$work/wrk-direct-1" 1); direct_p99=$(median "$work/wrk-direct-1" 2)
direct_rps=$(median "$work/wrk-direct-16" 3)
for path in direct no-budgets with-budgets; do
  p50=$(median "$work/wrk-$path-1" 1); p99=$(median "$work/wrk-$path-1" 2); rps=$(median "$work/wrk-$path-16" 3)
  sidecar_cpu=$(median "$work/wrk-$path-16" 4); collector_cpu=$(median "$work/wrk-$path-16" 5)
  awk -v path="$path" -v p50="$p50" -v p99="$p99" -v d50="$direct_p50" -v d99="$direct_p99" -v rps="$rps" \
    -v drps="$direct_rps" -v s="$sidecar_cpu" -v c="$collector_cpu" 'BEGIN {
      printf "| %s | %.0f µs | %.0f µs | %+.0f µs | %+.0f µs | %.0f | %.2f× | %s µs | %s µs |\n",
        path, p50, p99, p50-d50, p99-d99, rps, rps/drps, s, c}'
done
awk -v a50="$(median "$work/wrk-no-budgets-1" 1)" -v b50="$(median "$work/wrk-with-budgets-1" 1)" \
  -v a99="$(median "$work/wrk-no-budgets-1" 2)" -v b99="$(median "$work/wrk-with-budgets-1" 2)" \
  -v arps="$(median "$work/wrk-no-budgets-16" 3)" -v brps="$(median "$work/wrk-with-budgets-16" 3)" \
  'BEGIN {printf "\nbudgets vs no budgets: p50 %+.0f µs (%.2f×), p99 %+.0f µs (%.2f×), throughput %.2f×\n",
    b50-a50, b50/a50, b99-a99, b99/a99, brps/arps}'
echo
echo "Admission round trip as the sidecar with budgets waited for it (its agentledger_sidecar_admission_seconds"
echo "histogram between scrapes; a percentile is the upper bound of its bucket), and the calls at the same load:"
echo
echo "| concurrent calls | ADMITs per run | round trip p50 | round trip p99 | call p99, no budgets | call p99, budgets |"
echo "|---|---|---|---|---|---|"
for c in 1 16 64; do
  printf '| %s | %s | ≤ %s µs | ≤ %s µs | %.0f µs | %.0f µs |\n' "$c" "$(median "$work/trip-$c" 1)" \
    "$(median "$work/trip-$c" 2)" "$(median "$work/trip-$c" 3)" "$(median "$work/wrk-no-budgets-$c" 2)" \
    "$(median "$work/wrk-with-budgets-$c" 2)"
done
echo
echo "load average after part 2: $(cut -d' ' -f1-3 /proc/loadavg)"
