#!/usr/bin/env bash
# Chaos, longer than CI runs it: Tests/e2e/test_chaos.py against the release binary and a throwaway Postgres cluster
# (fsync on), every phase stretched to SECONDS (CI: 6). Under steady load through a sidecar, the spool's tmpfs fills
# and empties, Postgres restarts, the collector is SIGKILLed and restarted, and hostile peers write to the ingest
# port; at the end stored = captured - dropped, no duplicates, both processes alive, peak RSS bounded. Prints the
# run's summary (one JSON line). Root for the tmpfs and for Postgres; loopback only; every wait bounded.
#
#   Benchmarks/chaos.sh [seconds-per-phase]   (default 20; about 7 phases' worth plus up to a minute of draining)
set -euo pipefail
cd "$(dirname "$0")/.."
phase="${1:-20}"
[[ "$phase" =~ ^[0-9]+$ ]] || { echo "usage: Benchmarks/chaos.sh [seconds-per-phase]" >&2; exit 2; }
[ -x .venv/bin/python ] || { echo "no .venv: run scripts/test once (it installs requirements-test.txt)" >&2; exit 1; }
command -v psql >/dev/null || { echo "missing psql: apt-get install -y postgresql" >&2; exit 1; }
source Benchmarks/lib.sh
bench_build
pg_start

AGENTLEDGER_BIN="$bin" AGENTLEDGER_CHAOS_SECONDS="$phase" \
  AGENTLEDGER_TEST_POSTGRES_DSN="$pg_dsn" AGENTLEDGER_TEST_PG_CTL="$pg_bin/pg_ctl" \
  AGENTLEDGER_TEST_PGDATA="$pg_root/data" \
  .venv/bin/python -m pytest -q -s Tests/e2e/test_chaos.py 2>&1 | tee "$work/pytest.log" |
  grep -E "chaos summary|passed|failed|skipped|Error" || true
grep -q " passed" "$work/pytest.log"
