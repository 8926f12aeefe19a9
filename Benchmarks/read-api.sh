#!/usr/bin/env bash
# Read API latency over a store of N generated calls in Postgres (issue "Benchmarks": /api/sessions p99 < 50 ms,
# a search p99 < 200 ms, a session of 200 calls < 20 ms at 1,000,000 calls).
#
# Starts Postgres (default settings and durability) and a release `agentledger collector`, fills the store through
# the ingest port with Benchmarks/generate_calls.py (realistic sessions, seeded: the same N gives the same calls),
# runs VACUUM ANALYZE, then Benchmarks/read_latency.py (httpx from .venv): p50/p99 per endpoint and query at
# concurrency 1 and 8, medians over ROUNDS rounds. Every run is bounded (generation 30 min, each case 20 s).
#
#   Benchmarks/read-api.sh [calls]                               (default 1000000; throwaway cluster)
#   DATA_DIR=/tmp/agentledger-read-api Benchmarks/read-api.sh 20000
#       keeps the populated cluster in DATA_DIR (outside the repository, nothing for git to see) and reuses it
#       when it already holds the same number of generated calls; another count starts it afresh.
#   REQUESTS=200 ROUNDS=3 CONCURRENCY="1 8" ONLY=search CASE_SECONDS=20 Benchmarks/read-api.sh
#   EXPLAIN=1 ...     also prints EXPLAIN (ANALYZE, BUFFERS) of the store's read queries
#   MEASURE=0 ...     only fills (or checks) the store: generate into DATA_DIR now, measure when the machine is quiet
set -euo pipefail
cd "$(dirname "$0")/.."
calls="${1:-1000000}"
data_dir="${DATA_DIR:-}"
python=.venv/bin/python
for tool in psql curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y postgresql curl python3" >&2; exit 1; }
done
"$python" -c 'import httpx' 2>/dev/null || { echo "missing httpx: python3 -m venv .venv && .venv/bin/pip install httpx" >&2; exit 1; }
source Benchmarks/lib.sh

kept_data=""
# A cluster in DIR/pgdata that outlives the run (same settings as pg_start), on a fresh free port each time.
pg_start_kept() {
  pg_bin="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
  [ -x "$pg_bin/initdb" ] || { echo "no Postgres: apt-get install -y postgresql" >&2; exit 1; }
  mkdir -p "$1"
  ((EUID == 0)) && chown postgres: "$1"
  kept_data="$1/pgdata"
  pg_port=$(free_port)
  if [ ! -s "$kept_data/PG_VERSION" ]; then
    as_pg "$pg_bin/initdb" -D "$kept_data" -U postgres --auth=trust --encoding=UTF8 >/dev/null
  fi
  as_pg "$pg_bin/pg_ctl" -D "$kept_data" -l "$1/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$1" start >/dev/null
  if [ -z "$(psql -X -qAt -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres \
    -c "SELECT 1 FROM pg_database WHERE datname = 'agentledger'")" ]; then
    psql -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "CREATE DATABASE agentledger" >/dev/null
  fi
  pg_dsn="postgres://postgres@127.0.0.1:$pg_port/agentledger?sslmode=disable"
}
pg_stop_kept() {
  [ -n "$kept_data" ] || return 0
  as_pg "$pg_bin/pg_ctl" -D "$kept_data" -m fast -w stop >/dev/null 2>&1 || true
  kept_data=""
}
trap 'bench_cleanup; pg_stop_kept' EXIT

bench_build
if [ -n "$data_dir" ]; then
  manifest="$data_dir/manifest.json"
  if [ -s "$manifest" ] && [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["calls"])' "$manifest")" != "$calls" ]; then
    echo "$data_dir holds another number of calls: starting it afresh" >&2
    rm -rf "$data_dir"
  fi
  pg_start_kept "$data_dir"
else
  manifest="$work/manifest.json"
  pg_start
fi
ingest_port=$(free_port); api_port=$(free_port)
start_collector "$work/collector.log"

if [ -s "$manifest" ] && [ "$(pg_sql "SELECT count(*) FROM calls")" = "$calls" ]; then
  echo "reusing $data_dir: $calls calls already stored"
else
  if [ -n "$data_dir" ]; then rm -f "$manifest"; fi
  echo "generating $calls calls through the ingest port"
  started=$(date +%s.%N)
  python3 Benchmarks/generate_calls.py --port "$ingest_port" --calls "$calls" --manifest "$work/manifest.new"
  stored=$(pg_sql "SELECT count(*) FROM calls")
  [ "$stored" = "$calls" ] || { echo "stored $stored calls, expected $calls" >&2; exit 1; }
  # Day partitions (migration 11) reach a month back, so the generated 30 days land in them, not in calls_default.
  if [ -n "$(pg_sql "SELECT to_regclass('calls_default')")" ]; then
    echo "partitions of calls: $(pg_sql "SELECT count(*) FROM pg_inherits WHERE inhparent = 'calls'::regclass"), calls_default holding $(pg_sql "SELECT count(*) FROM calls_default")"
  fi
  vacuum_started=$(date +%s.%N)
  pg_sql "VACUUM (ANALYZE)" >/dev/null
  finished=$(date +%s.%N)
  awk -v a="$started" -v v="$vacuum_started" -v b="$finished" \
    'BEGIN {printf "generated and stored in %.0f s, VACUUM ANALYZE %.0f s\n", v - a, b - v}'
  mv "$work/manifest.new" "$manifest"
fi

echo
echo "date: $(date -u '+%F %H:%M')  postgres: $("$pg_bin/postgres" --version | awk '{print $3}')  cores: $(nproc)"
echo "store: $(pg_sql "SELECT count(*) FROM calls") calls, $(pg_sql "SELECT count(*) FROM sessions") sessions," \
  "database $(pg_sql "SELECT pg_size_pretty(pg_database_size('agentledger'))")"
pg_sql "SELECT relname || ' ' || pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class
  WHERE relkind IN ('r', 'i') AND relnamespace = 'public'::regnamespace ORDER BY pg_total_relation_size(oid) DESC LIMIT 12" |
  paste -sd, | sed 's/,/, /g'
[ "${MEASURE:-1}" != 0 ] || exit 0
echo "load before measuring: $(uptime | sed 's/.*load average: //')"
echo

status=0
# shellcheck disable=SC2086
"$python" Benchmarks/read_latency.py --base "http://127.0.0.1:$api_port" --manifest "$manifest" \
  --requests "${REQUESTS:-200}" --rounds "${ROUNDS:-3}" --concurrency ${CONCURRENCY:-1 8} \
  --case-seconds "${CASE_SECONDS:-20}" ${ONLY:+--only "$ONLY"} --json "$work/latency.json" || status=$?
echo "load after measuring: $(uptime | sed 's/.*load average: //')"
if [ -n "$data_dir" ]; then cp "$work/latency.json" "$data_dir/latency-$(date -u +%H%M%S).json"; fi

if [ -n "${EXPLAIN:-}" ]; then
  read -r common rare non_ascii session since until < <(python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
s = m["search"]
print(s["common"], s["rare"], s["non_ascii"].lower(), m["sessions_of_200"][0], m["since_micros"], m["until_micros"])' "$manifest")
  explain() { echo; echo "== $1"; pg_sql "EXPLAIN (ANALYZE, BUFFERS) $2"; }
  explain "sessions, deep page" "SELECT * FROM sessions ORDER BY started_at DESC, session_id LIMIT 50
    OFFSET (SELECT count(*) - 50 FROM sessions)"
  explain "sessions, app=" "SELECT * FROM sessions WHERE app_id = 'app-3' ORDER BY started_at DESC, session_id LIMIT 50"
  explain "sessions count, environment=" "SELECT count(*) FROM sessions WHERE environment = 'staging'"
  explain "search, common word" "SELECT action_id, message_hashes FROM calls
    WHERE search @@ phraseto_tsquery('simple', '$common') ORDER BY ts_micros DESC, action_id DESC LIMIT 50"
  explain "search, rare word" "SELECT action_id, message_hashes FROM calls
    WHERE search @@ phraseto_tsquery('simple', '$rare') ORDER BY ts_micros DESC, action_id DESC LIMIT 50"
  explain "search, non-ASCII word" "SELECT action_id, message_hashes FROM calls
    WHERE search @@ phraseto_tsquery('simple', '$non_ascii') ORDER BY ts_micros DESC, action_id DESC LIMIT 50"
  explain "session of 200 calls" "SELECT * FROM calls WHERE session_id = '$session' ORDER BY ts_micros, action_id"
  explain "stats, 30 days by day" "SELECT count(*), sum(cost_usd),
    percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY latency_ms)
    FROM calls WHERE ts_micros BETWEEN $since AND $until"
fi
exit "$status"  # non-zero when an answer was not 200 (a store timeout is a 503)
