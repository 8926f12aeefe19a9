#!/usr/bin/env bash
# Storage per call of a generated 50-turn conversation (each call resends the history plus one new user message of
# ~500 bytes, with tools defined; its output is the next assistant message), on SQLite and on Postgres: the layout of
# schema version 2 (each call's whole messages array, the whole history in its search document) against messages
# stored once by digest (version 3). SQLite counts the pages in use; Postgres pg_total_relation_size of calls and
# messages after VACUUM. The measurement is the test StoreTests.StorageGrowth (Tests/CollectorTests/Store).
#
#   Benchmarks/storage.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v psql >/dev/null || { echo "missing psql: apt-get install -y postgresql" >&2; exit 1; }
source Benchmarks/lib.sh
pg_start
report="$work/report"
: >"$report"
((EUID == 0)) && chmod a+rw "$report"
AGENTLEDGER_TEST_POSTGRES_DSN="$pg_dsn" AGENTLEDGER_STORAGE_REPORT="$report" \
  swift test --filter 'StoreTests.StorageGrowth' >"$work/test.log" 2>&1 || { cat "$work/test.log" >&2; exit 1; }

echo "date: $(date -u +%F)  postgres: $("$pg_bin/postgres" --version | awk '{print $3}')  sqlite: 3.54 (sqlite-nio)  cores: $(nproc)"
echo
echo "| store | calls | messages JSON per call | v2 bytes per call | v3 bytes per call | ratio | v2 last 25 calls, per call | v3 last 25 calls, per call |"
echo "|---|---|---|---|---|---|---|---|"
sort "$report" | while read -r store calls payload naive stored naive_late stored_late; do
  ratio=$(awk -v a="$naive" -v b="$stored" 'BEGIN {printf "%.1f×", a / b}')
  printf '| %s | %s | %s B | %s B | %s B | %s | %s B | %s B |\n' "$store" "$calls" "$payload" "$naive" "$stored" "$ratio" \
    "$naive_late" "$stored_late"
done
