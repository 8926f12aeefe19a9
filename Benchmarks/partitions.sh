#!/usr/bin/env bash
# The store's reads over a long history in Postgres, day partitions against one table (issue 18, "Postgres at
# scale"): DAYS day partitions of ROWS_PER_DAY calls each, made by the collector's own migration and upkeep, and the
# same rows in one unpartitioned table with the indexes the calls table had before migration 11, measured side by side
# in one run. Each case is the SQL the store sends (PostgresStore+Reads.swift), through pgbench in extended-protocol
# mode as PostgresNIO sends it (bound values, one plan per execution), one client, CASE_SECONDS each:
#
#   a call by id      call_ids for its time, then that day's partition / the table's primary key
#   a session         its span from `sessions`, then its calls in those days / the table's session index
#   a day's stats     count and spend over one random day
#   a search          the newest 50 matches of a common word, and of a rare one (every window walked)
#
# Rows are narrow (no messages, a short output), so the figures are Postgres's planning and execution, not the API's
# JSON. The point is how each read's cost grows with the history: it should not, with partitions.
#
#   Benchmarks/partitions.sh                              (DAYS=365 ROWS_PER_DAY=10000 CASE_SECONDS=10)
#   DAYS=730 ROWS_PER_DAY=20000 AGENTLEDGER_BIN=.build/debug/agentledger Benchmarks/partitions.sh
#   FLAT=0 ...      day partitions only: no copy in one table (half the disk and page cache: at 36.5 million calls the
#                   two layouts together no longer fit in memory, and each then reads the other's evictions from disk)
#   EXPLAIN=1 ...   also prints EXPLAIN (ANALYZE, BUFFERS) of the rare word's year window, after its cases ran
#
# Any build migrates (AGENTLEDGER_BIN: no build); every step is bounded (generation by the row count, each case by
# CASE_SECONDS).
set -euo pipefail
cd "$(dirname "$0")/.."
days="${DAYS:-365}"
per_day="${ROWS_PER_DAY:-10000}"
case_seconds="${CASE_SECONDS:-10}"
flat="${FLAT:-1}"
for tool in psql python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y postgresql python3" >&2; exit 1; }
done
source Benchmarks/lib.sh
bench_build
pg_start
ingest_port=$(free_port); api_port=$(free_port)
start_collector "$work/collector.log"
stop_collector
total=$((days * per_day))
day_micros=86400000000
today=$(( $(date -u +%s) / 86400 * day_micros ))
first=$((today - days * day_micros))
step=$((day_micros / per_day))
started=$(date +%s)
# The past days' partitions, as the upkeep makes the coming ones; then the rows, ids, and sessions of 50 calls.
pg_sql "SET client_min_messages = warning; DO \$\$ DECLARE d int; lo bigint; BEGIN
  FOR d IN 1..$days LOOP
    lo := $today - d::bigint * $day_micros;
    EXECUTE format('CREATE TABLE IF NOT EXISTS calls_%s PARTITION OF calls FOR VALUES FROM (%s) TO (%s)',
      to_char(to_timestamp(lo / 1000000) AT TIME ZONE 'UTC', 'YYYYMMDD'), lo, lo + $day_micros);
  END LOOP; END \$\$" >/dev/null
# Every call's output holds "answer"; one in 100,000 also "zebra", spread over the year.
pg_sql "INSERT INTO calls (action_id, session_id, ts_micros, model_id, content, cost_usd, latency_ms, stream, blocked,
    outcome, message_hashes, status_code, search)
  SELECT 'id' || g, 's' || (g / 50), $first + g::bigint * $step, 'gpt-4o', 'answer ' || g, 0.001, 800, false, false,
    'completed', ''::bytea, 200,
    to_tsvector('simple', 'answer ' || g || CASE WHEN g % 100000 = 99999 THEN ' zebra' ELSE '' END)
  FROM generate_series(0, $total - 1) g" >/dev/null
pg_sql "INSERT INTO call_ids SELECT action_id, ts_micros FROM calls" >/dev/null
pg_sql "INSERT INTO sessions (session_id, call_count, started_at, ended_at, total_latency_ms, total_tokens_in,
    total_tokens_out, total_cost_usd, error_count, blocked_count)
  SELECT session_id, count(*), min(ts_micros), max(ts_micros), 0, 0, 0, 0, 0, 0 FROM calls GROUP BY session_id" >/dev/null
layouts="partitioned"
if [ "$flat" = 1 ]; then
  layouts="partitioned flat"
  # The layout before migration 11: one table, its primary key on the id.
  pg_sql "CREATE TABLE flat (LIKE calls INCLUDING DEFAULTS INCLUDING GENERATED)" >/dev/null
  stored=$(pg_sql "SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) FROM information_schema.columns
    WHERE table_name = 'calls' AND is_generated = 'NEVER'")
  pg_sql "INSERT INTO flat ($stored) SELECT $stored FROM calls" >/dev/null
  pg_sql "ALTER TABLE flat ADD PRIMARY KEY (action_id)" >/dev/null
  pg_sql "CREATE INDEX flat_by_session ON flat (session_id, ts_micros) WHERE session_id IS NOT NULL" >/dev/null
  pg_sql "CREATE INDEX flat_by_time ON flat (ts_micros)" >/dev/null
  pg_sql "CREATE INDEX flat_search ON flat USING gin (search)" >/dev/null
fi
pg_sql "VACUUM ANALYZE" >/dev/null
partitions=$(pg_sql "SELECT count(*) FROM pg_inherits WHERE inhparent = 'calls'::regclass")
echo "date: $(date -u '+%F %H:%M UTC')  postgres: $("$pg_bin/postgres" --version | awk '{print $3}')  cores: $(nproc)"
echo "history: $total calls over $days days ($partitions partitions of calls), generated in $(( $(date +%s) - started )) s"
echo
columns="action_id, session_id, ts_micros, model_id, content, cost_usd, latency_ms, status_code"
sessions=$((total / 50))
write_case() { # name, body
  printf '%s\n' "$2" >"$work/$1.sql"
}
write_case id-partitioned "\\set n random(0, $((total - 1)))
SELECT ts_micros FROM call_ids WHERE action_id = ANY(ARRAY['id' || :n]) \\gset
SELECT $columns FROM calls WHERE ts_micros = ANY(ARRAY[:ts_micros]::int8[]) AND action_id = ANY(ARRAY['id' || :n]) ORDER BY ts_micros, action_id;"
write_case id-flat "\\set n random(0, $((total - 1)))
SELECT $columns FROM flat WHERE action_id = 'id' || :n;"
write_case session-partitioned "\\set s random(0, $((sessions - 1)))
SELECT started_at, ended_at FROM sessions WHERE session_id = 's' || :s \\gset
SELECT $columns FROM calls WHERE session_id = 's' || :s AND ts_micros BETWEEN :started_at AND :ended_at ORDER BY ts_micros, action_id;"
write_case session-flat "\\set s random(0, $((sessions - 1)))
SELECT $columns FROM flat WHERE session_id = 's' || :s ORDER BY ts_micros, action_id;"
write_case day-partitioned "\\set d random(1, $days)
SELECT count(*), sum(cost_usd), percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) FROM calls WHERE ts_micros BETWEEN $today - :d * $day_micros AND $today - (:d - 1) * $day_micros - 1;"
write_case day-flat "\\set d random(1, $days)
SELECT count(*), sum(cost_usd), percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) FROM flat WHERE ts_micros BETWEEN $today - :d * $day_micros AND $today - (:d - 1) * $day_micros - 1;"
# A search: newest first, in the store's windows (the last day, week, month, year, then the rest) until 50 are found.
now_micros=$(( $(date -u +%s) * 1000000 ))
search_case() { # name, word
  local steps=(1 7 30 365) upper=9223372036854775807 lower body="" d order=ts_micros
  for d in "${steps[@]}" ""; do
    if [ -n "$d" ]; then lower=$((now_micros - d * day_micros)); else lower=-9223372036854775808; fi
    body+="SELECT $columns FROM calls WHERE search @@ phraseto_tsquery('simple', '$2') AND ts_micros >= $lower AND ts_micros < $upper ORDER BY $order DESC, action_id DESC LIMIT 50;
"
    upper=$lower
    order="ts_micros + 0" # after the first window, the word index (PostgresStore.search)
  done
  # pgbench cannot stop early: a common word stops after the first window, as the store does.
  [ "$2" = answer ] && body=$(printf '%s\n' "$body" | head -1)
  write_case "$1-partitioned" "$body"
  write_case "$1-flat" "SELECT $columns FROM flat WHERE search @@ phraseto_tsquery('simple', '$2') ORDER BY ts_micros DESC, action_id DESC LIMIT 50;"
}
search_case search-common answer
search_case search-rare zebra

echo "| read | layout | executions | p50 | p99 | mean |"
echo "|---|---|---|---|---|---|"
for read in id session day search-common search-rare; do
  for layout in $layouts; do
    rm -f "$work"/pgbench_log.*
    (cd "$work" && "$pg_bin/pgbench" -n -M extended -c 1 -T "$case_seconds" -l -f "$work/$read-$layout.sql" \
      -h 127.0.0.1 -p "$pg_port" -U postgres agentledger >"$work/pgbench.out" 2>&1) ||
      { cat "$work/pgbench.out" >&2; exit 1; }
    # Each log line: client, transaction, latency in µs, ...
    cat "$work"/pgbench_log.* | python3 -c '
import statistics, sys
lat = sorted(int(line.split()[2]) for line in sys.stdin)
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] / 1000
print(f"| {sys.argv[1]} | {sys.argv[2]} | {len(lat):,} | {pick(0.5):.2f} ms | {pick(0.99):.2f} ms | {statistics.mean(lat) / 1000:.2f} ms |")
' "$read" "$layout"
  done
done
if [ "${EXPLAIN:-0}" = 1 ]; then
  echo
  echo "EXPLAIN (ANALYZE, BUFFERS) of the rare word's year window (the fourth statement of search-rare):"
  sed -n 4p "$work/search-rare-partitioned.sql" | sed 's/^/EXPLAIN (ANALYZE, BUFFERS) /' |
    psql -X -q -h 127.0.0.1 -p "$pg_port" -U postgres agentledger >"$work/explain.txt"
  head -24 "$work/explain.txt"
  echo "  …"
  tail -4 "$work/explain.txt"
fi
echo
echo "id: a call by action id; session: a session's 50 calls; day: count, spend and p99 latency of one day's $per_day calls;"
echo "search-common: the newest 50 calls holding a word every call holds (found in the last day's window);"
echo "search-rare: a word one call in 100,000 holds (every window searched, all found)."
echo "Each: one client, $case_seconds s, pgbench -M extended (bound values, planned per execution, as PostgresNIO)."
