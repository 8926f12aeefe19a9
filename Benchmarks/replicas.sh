#!/usr/bin/env bash
# Several collectors on one Postgres (issue 18), in one run.
#
# Part 1, admission through a follower: two collectors on one Postgres with the budgets and rate limits of
# admission.sh. The first to start is the elected enforcer; the other forwards every ADMIT to it over the frame
# protocol. Benchmarks/admission_load.py plays one sidecar link and keeps exactly 1, 16 and 64 ADMITs outstanding,
# against the enforcer and against the follower alternately, REPS times; the follower's extra is its p99 minus the
# enforcer's in the same repetition. PLACEMENT=shared (default): both collectors on core 0, the client on core 1, so
# the follower's extra work competes with the enforcer's. PLACEMENT=own: the follower on a core of its own (core 1),
# as a replica in a fleet has, and the enforcer with the client on core 0 in both cases, so the difference is the
# extra hop itself.
#
# Part 2, ingest with 1, 2 and 3 replicas: Benchmarks/ingest_load.py sends ~2 KB records in batches of 256 over
# LINKS_PER_REPLICA links to each replica at once (one loader per replica, all on core 1); records/s is the sum
# of what every replica acknowledged, CPU per record is each collector's CPU over the records it acknowledged.
# After each run the calls in Postgres must equal the records acknowledged. Collectors share core 0, Postgres
# runs where the scheduler puts it: on these 2 cores the machine is the ceiling, and the table says where it moved.
#
# Loopback only; every run is bounded by its seconds; lib.sh's trap stops every process started here.
#
#   Benchmarks/replicas.sh                              REPS=5, 5 s per admission run, 8 s per ingest run
#   AGENTLEDGER_BIN=/path/to/release/agentledger REPS=3 Benchmarks/replicas.sh
#   PARTS=1 Benchmarks/replicas.sh                      part 1 only
#   PARTS=1 PLACEMENT=own Benchmarks/replicas.sh        part 1, the follower on a core of its own
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${REPS:-5}"
duration="${SECONDS_PER_RUN:-5}"
ingest_seconds="${INGEST_SECONDS:-8}"
links_per_replica="${LINKS_PER_REPLICA:-2}"
parts="${PARTS:-1 2}"
placement="${PLACEMENT:-shared}"
case "$placement" in
  shared) enforcer_core=0 follower_core=0 client_core=1 ;;
  own) enforcer_core=0 follower_core=1 client_core=0 ;;
  *) echo "PLACEMENT is shared or own" >&2; exit 2 ;;
esac

for tool in psql curl python3 taskset; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y postgresql curl python3 util-linux" >&2; exit 1; }
done
python3 Benchmarks/admission_load.py selftest >/dev/null
source Benchmarks/lib.sh # $work, free_port, wait_http, metric, cpu_seconds, pg_start, pg_sql, bench_build, the trap
bench_build
pg_start

budget_env=(AGENTLEDGER_BUDGET_SESSION=1000 AGENTLEDGER_BUDGET_AGENT=1000000 AGENTLEDGER_BUDGET_USER=1000000
  AGENTLEDGER_BUDGET_DAILY=1000000 AGENTLEDGER_RATE_LIMIT_RPM=10000000 AGENTLEDGER_RATE_LIMIT_SESSION_RPM=10000000
  AGENTLEDGER_RATE_LIMIT_AGENT_RPM=10000000 AGENTLEDGER_RATE_LIMIT_USER_RPM=10000000)

declare -A ingest api pid
# replica NAME CORE [ENV...]: a collector on the benchmark Postgres; its ports in ${ingest,api}[NAME].
replica() {
  local name=$1 core=$2
  shift 2
  ingest[$name]=$(free_port); api[$name]=$(free_port)
  env AGENTLEDGER_DSN="$pg_dsn" AGENTLEDGER_INGEST_HOST=127.0.0.1 AGENTLEDGER_INGEST_PORT="${ingest[$name]}" \
    AGENTLEDGER_HTTP_HOST=127.0.0.1 AGENTLEDGER_HTTP_PORT="${api[$name]}" LOG_LEVEL=warning "$@" \
    taskset -c "$core" "$bin" collector >"$work/$name.log" 2>&1 &
  pid[$name]=$!
  bench_pids+=("${pid[$name]}")
  wait_http "http://127.0.0.1:${api[$name]}/healthz"
}
stop() { kill "${pid[$1]}" 2>/dev/null || true; wait "${pid[$1]}" 2>/dev/null || true; }
enforcer_of() { metric "http://127.0.0.1:${api[$1]}/metrics" agentledger_enforcer; }
median() { sort -g -k"$2,$2" "$1" | awk -v c="$2" '{v[NR]=$c} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

echo "date: $(date -u '+%F %H:%M UTC')  cores: $(nproc)  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary: $bin ($(git rev-parse --short HEAD 2>/dev/null || echo '?'), working tree as built)"
echo "postgres: $("$pg_bin/postgres" --version | awk '{print $3}'), default durability"
echo

# --- Part 1: ADMIT through the enforcer and through a follower ----------------------------------------------------
if [[ " $parts " == *" 1 "* ]]; then
# A fresh pair for each run: ADMITs without records leave their reservations held for their lifetime (15 min), and a
# ledger grown by an earlier run would stall the next one while its tables grow.
start_pair() {
  replica enforcer "$enforcer_core" "${budget_env[@]}"
  for _ in $(seq 1 100); do [ "$(enforcer_of enforcer)" = 1 ] && break; sleep 0.1; done
  [ "$(enforcer_of enforcer)" = 1 ] || { echo "the first collector never became the enforcer" >&2; exit 1; }
  replica follower "$follower_core" "${budget_env[@]}"
  sleep 1.5 # the follower reads the lease and links to the enforcer
  [ "$(enforcer_of follower)" = 0 ] || { echo "the second collector is not a follower" >&2; exit 1; }
}
forwarded_total=0
echo "## Part 1: ADMIT -> VERDICT round trip, one link; enforcer on core $enforcer_core, follower on core $follower_core, client on core $client_core"
echo "per run: concurrency via p50 p90 p99 p99.9 max (µs) verdicts/s"
for rep in $(seq 1 "$reps"); do
  for n in 1 16 64; do
    for name in enforcer follower; do
      start_pair
      result=$(taskset -c "$client_core" python3 Benchmarks/admission_load.py load --port "${ingest[$name]}" --concurrency "$n" \
        --seconds "$duration" --requests 200000 --warmup 2000 || true)
      python3 - "$result" "$name" "$work/rt-$name-$n" "$rep" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
if r["error"] or r["refused"] or not r["admission_required"]:
    sys.exit(f"bad run ({sys.argv[2]}): {r}")
cols = [r["p50_us"], r["p90_us"], r["p99_us"], r["p999_us"], r["max_us"], r["verdicts_per_s"]]
with open(sys.argv[3], "a") as f:
    f.write(" ".join(map(str, cols)) + "\n")
print(f'  rep {sys.argv[4]} {r["concurrency"]:>2} {sys.argv[2]:8} ' + " ".join(map(str, cols)))
PY
      forwarded=$(metric "http://127.0.0.1:${api[follower]}/metrics" agentledger_admissions_forwarded_total)
      unanswered=$(metric "http://127.0.0.1:${api[follower]}/metrics" agentledger_admissions_unanswered_total)
      forwarded_total=$((forwarded_total + ${forwarded%.*}))
      [ "${unanswered:-0}" = 0 ] || echo "  follower left ${unanswered} ADMITs unanswered"
      stop follower
      stop enforcer
    done
  done
done
echo
echo "follower: $forwarded_total ADMITs forwarded in all"
echo
echo "| concurrent ADMITs | via | p50 | p90 | p99 | p99.9 | verdicts/s |"
echo "|---|---|---|---|---|---|---|"
for n in 1 16 64; do
  for name in enforcer follower; do
    f="$work/rt-$name-$n"
    printf '| %s | %s | %s µs | %s µs | %s µs | %s µs | %s |\n' "$n" "$name" "$(median "$f" 1)" "$(median "$f" 2)" \
      "$(median "$f" 3)" "$(median "$f" 4)" "$(median "$f" 6)"
  done
done
# The follower's extra p99, repetition by repetition (rows of the two files pair up).
paste -d' ' "$work/rt-enforcer-64" "$work/rt-follower-64" | awk '{print $9 - $3}' >"$work/added-64"
added=$(median "$work/added-64" 1)
verdict=$(awk -v p="$added" 'BEGIN {print (p <= 1000) ? "met" : "MISSED"}')
echo
echo "added p99 through a follower at 64 concurrent ADMITs (median of per-repetition differences): $added µs"
echo "target p99 <= 1 ms added at 64 concurrent ADMITs: $verdict"
fi

# --- Part 2: ingest with 1, 2 and 3 replicas ---------------------------------------------------------------------
[[ " $parts " == *" 2 "* ]] || exit 0
echo
echo "## Part 2: ingest into one Postgres through 1, 2 and 3 replicas (collectors on core 0, loaders on core 1)"
echo
echo "| replicas | records/s (sum) | stored = acked | collector CPU per record (each) | postgres CPU | reference loop |"
echo "|---|---|---|---|---|---|"
for count in 1 2 3; do
  names=()
  for index in $(seq 1 "$count"); do replica "ingest-$index" 0; names+=("ingest-$index"); done
  pg_sql "TRUNCATE calls, call_ids, sessions, messages" >/dev/null
  pg_sql "CHECKPOINT" >/dev/null
  reference=$(reference_ms)
  declare -A cpu_before
  for name in "${names[@]}"; do cpu_before[$name]=$(cpu_seconds "${pid[$name]}"); done
  postgres_before=$(pg_cpu_seconds)
  loaders=()
  for name in "${names[@]}"; do
    taskset -c 1 python3 Benchmarks/ingest_load.py load --port "${ingest[$name]}" --links "$links_per_replica" \
      --batch 256 --seconds "$ingest_seconds" >"$work/load-$name.json" &
    loaders+=($!)
  done
  for loader in "${loaders[@]}"; do wait "$loader" || true; done
  postgres_cpu=$(awk -v a="$postgres_before" -v b="$(pg_cpu_seconds)" 'BEGIN {printf "%.1f", b - a}')
  stored=$(pg_sql "SELECT count(*) FROM calls")
  total_rate=0; acked_total=0; per_record=()
  for name in "${names[@]}"; do
    read -r rate acked < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["records_per_s"], r["stored"] + r["duplicates"])' "$work/load-$name.json")
    cpu=$(awk -v a="${cpu_before[$name]}" -v b="$(cpu_seconds "${pid[$name]}")" 'BEGIN {printf "%.2f", b - a}')
    total_rate=$((total_rate + ${rate%.*}))
    acked_total=$((acked_total + acked))
    per_record+=("$(awk -v c="$cpu" -v n="$acked" 'BEGIN {printf "%.0f µs", n ? c * 1e6 / n : 0}')")
  done
  check="$stored = $acked_total"
  [ "$stored" = "$acked_total" ] || check="**$stored ≠ $acked_total**"
  printf '| %s | %s | %s | %s | %s s | %s ms |\n' "$count" "$total_rate" "$check" "$(IFS=,; echo "${per_record[*]}" | sed 's/,/, /g')" \
    "$postgres_cpu" "$reference"
  for name in "${names[@]}"; do stop "$name"; done
  unset cpu_before
done
echo
echo "records: ~2 KB each, 256 per frame, $links_per_replica links per replica, ${ingest_seconds} s per run"
