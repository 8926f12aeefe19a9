#!/usr/bin/env bash
# What OTLP export costs the collector per record, in instructions counted by valgrind's callgrind: exact and
# independent of what else the shared machine does, where the CPU times of Benchmarks/otlp.sh swing by half from one
# run to the next. For each mode in turn (export off, on to nginx answering every POST 200, on to a closed port), a
# collector under callgrind on Postgres takes a warm-up load, then its counters are zeroed, RECORDS records arrive
# (Benchmarks/ingest_load.py, the wire protocol, ~2 KB records), export is given SETTLE_SECONDS to finish, and the
# counters are dumped: instructions (user space), less what the collector's timers execute idle in that time (counted
# over IDLE_SECONDS before), divided by the records stored meanwhile. Loopback only; every wait is bounded.
#
#   AGENTLEDGER_BIN=<build> Benchmarks/otlp-instructions.sh
#   RECORDS=8192 LINKS=2 BATCH=256 REPS=2 MODES="off on down" AGENTLEDGER_BIN=<build> Benchmarks/otlp-instructions.sh
#
# STORE=sqlite runs the collector on SQLite (a new file for each mode) instead of Postgres: with MODES=off, what a
# stored record costs on each store (issue 20).
#
# KEEP_PROFILES=<dir> keeps each measured dump there (callgrind.<mode>.<pid>), for callgrind_annotate; a build stripped
# with `strip --strip-debug` keeps the symbols the annotation names.
#
# MODES defaults to "off on": under callgrind, a collector exporting to a closed port was seen to stop answering
# callgrind_control for minutes; Benchmarks/otlp.sh measures that mode by throughput.
#
# Builds linked like scripts/build-release (`--static-swift-stdlib`): valgrind crashes on the dynamic Swift runtime,
# and gives up on the debug information of a build that is not stripped (`strip -o <copy> <build>` first).
set -euo pipefail
cd "$(dirname "$0")/.."
records="${RECORDS:-8192}"
links="${LINKS:-2}"
batch="${BATCH:-256}"
reps="${REPS:-1}"
modes="${MODES:-off on}"

for tool in psql curl python3 nginx valgrind callgrind_control; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y postgresql curl python3 nginx valgrind" >&2; exit 1; }
done
source Benchmarks/lib.sh
bench_build
store="${STORE:-postgres}"
[ "$store" = postgres ] && pg_start
ingest_port=$(free_port); api_port=$(free_port); sink_port=$(free_port); closed_port=$(free_port)
write_nginx_conf "$sink_port"
nginx -c "$work/nginx.conf" -p "$work" >"$work/nginx.log" 2>&1 &
bench_pids+=($!)
for _ in $(seq 1 100); do curl -s -m 5 -o /dev/null "http://127.0.0.1:$sink_port/" && break; sleep 0.1; done
per_link=$((records / links))
idle_seconds="${IDLE_SECONDS:-10}"
settle_seconds="${SETTLE_SECONDS:-6}"

# dump_total FILE: the instruction total of a callgrind dump, once it is written (bounded: 10 s).
dump_total() {
  for _ in $(seq 1 100); do [ -s "$1" ] && break; sleep 0.1; done
  awk '/^(totals|summary):/ {print $2; exit}' "$1"
}

# count MODE: sets $instructions and $stored for one collector under callgrind.
count() {
  local mode="$1" endpoint="" pid metrics before after
  case $mode in
    on) endpoint="http://127.0.0.1:$sink_port" ;;
    down) endpoint="http://127.0.0.1:$closed_port" ;;
  esac
  local otel=() profile=()
  [ -n "$endpoint" ] && otel=(AGENTLEDGER_OTEL_ENDPOINT="$endpoint")
  # A kept dump names its own functions (by default a later dump refers to names defined in the first one).
  [ -n "${KEEP_PROFILES:-}" ] && profile=(--compress-strings=no --compress-pos=no)
  local dsn="${pg_dsn:-}"
  if [ "$store" = sqlite ]; then
    rm -f "$work/ledger.db"*
    dsn="sqlite:///$work/ledger.db"
  fi
  env AGENTLEDGER_DSN="$dsn" AGENTLEDGER_INGEST_HOST=127.0.0.1 AGENTLEDGER_INGEST_PORT="$ingest_port" \
    AGENTLEDGER_HTTP_HOST=127.0.0.1 AGENTLEDGER_HTTP_PORT="$api_port" LOG_LEVEL=error "${otel[@]}" \
    valgrind --tool=callgrind --valgrind-stacksize=10485760 "${profile[@]}" --callgrind-out-file="$work/callgrind.%p" \
    "$bin" collector >"$work/collector-$mode.log" 2>&1 &
  pid=$!
  bench_pids+=("$pid")
  metrics="http://127.0.0.1:$api_port/metrics"
  for _ in $(seq 1 1200); do curl -s -m 10 -o /dev/null "http://127.0.0.1:$api_port/healthz" && break; sleep 0.1; done
  curl -s -m 10 -o /dev/null "http://127.0.0.1:$api_port/healthz" ||
    { echo "the collector under valgrind did not start: $(tail -5 "$work/collector-$mode.log")" >&2; exit 1; }
  # Each mode stores into empty tables.
  [ "$store" = postgres ] && pg_sql "TRUNCATE calls, call_ids, sessions, messages" >/dev/null
  python3 Benchmarks/ingest_load.py load --port "$ingest_port" --links "$links" --batch "$batch" \
    --max-records "$batch" --seconds 120 >/dev/null
  sleep 3  # the warm-up's spans leave (batch delay 1 s)
  # The collector's own timers (the lease, the fleet's writes, the sweeper) run whatever arrives: their instructions
  # per second, counted over IDLE seconds with no load, are taken off the measured interval's total.
  callgrind_control -z "$pid" >/dev/null 2>&1
  local idle_started idle_ended idle_instructions idle_rate started ended total
  idle_started=$(date +%s.%N)
  sleep "$idle_seconds"
  callgrind_control -d "$pid" >/dev/null 2>&1
  idle_ended=$(date +%s.%N)
  idle_instructions=$(dump_total "$work/callgrind.$pid.1")
  idle_rate=$(awk -v i="$idle_instructions" -v a="$idle_started" -v b="$idle_ended" 'BEGIN {printf "%.0f", i / (b - a)}')
  before=$(metric "$metrics" agentledger_records_stored_total)
  callgrind_control -z "$pid" >/dev/null 2>&1
  started=$(date +%s.%N)
  python3 Benchmarks/ingest_load.py load --port "$ingest_port" --links "$links" --batch "$batch" \
    --max-records "$per_link" --seconds 600 >/dev/null
  # The same time for every mode after the load: the last batch's spans are sent (batch delay 1 s), or with the
  # backend down, tried.
  sleep "$settle_seconds"
  callgrind_control -d "$pid" >/dev/null 2>&1
  ended=$(date +%s.%N)
  after=$(metric "$metrics" agentledger_records_stored_total)
  total=$(dump_total "$work/callgrind.$pid.2")
  instructions=$(awk -v t="$total" -v r="$idle_rate" -v a="$started" -v b="$ended" 'BEGIN {printf "%.0f", t - r * (b - a)}')
  exported=$(metric "$metrics" agentledger_otel_spans_exported_total)
  stored=$((after - before))
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -n "${KEEP_PROFILES:-}" ]; then
    mkdir -p "$KEEP_PROFILES"
    cp "$work/callgrind.$pid.2" "$KEEP_PROFILES/callgrind.$mode.$pid"
  fi
  rm -f "$work"/callgrind."$pid"*
}

echo "date: $(date -u '+%F %H:%M')  store: $store  records counted: $records ($links links × $batch per frame)  reference loop: $(reference_ms) ms"
echo
echo "| run | export | instructions (idle timers taken off) | records stored | spans exported | instructions per record |"
echo "|---|---|---|---|---|---|"
for rep in $(seq 1 "$reps"); do
  for mode in $modes; do
    count "$mode"
    per=$(awk -v i="$instructions" -v n="$stored" 'BEGIN {printf "%.0f", n ? i / n : 0}')
    printf '| %s | %s | %s | %s | %s | %s |\n' "$rep" "$mode" "$instructions" "$stored" "$exported" "$per"
    echo "$mode $per" >>"$work/results"
  done
done
echo
python3 - "$work/results" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
by = {mode: [float(v) for m, v in rows if m == mode] for mode in ("off", "on", "down")}
off = statistics.median(by["off"])
for mode in ("on", "down"):
    if not by[mode]:
        continue
    value = statistics.median(by[mode])
    print(f"export {mode}: median {value:.0f} instructions per record ({value / off - 1:+.1%} vs off {off:.0f})")
PY
