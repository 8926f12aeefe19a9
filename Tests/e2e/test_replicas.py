"""Several collectors on one Postgres (issue 18): a call one collector stores reaches every other collector's live
feed (`/ws`, the dashboard's) and budgets through Postgres' LISTEN/NOTIFY, so a dashboard open on any replica behind a
Service shows the whole fleet. Real `agentledger collector` processes on the throwaway Postgres of scripts/test, a
real sidecar, and the `websockets` client."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect

from distributed import Collector, Fleet
from support import fresh_postgres_database, http_client, new_session_id

pytestmark = pytest.mark.timeout(120)


def replica(fleet: Fleet, tmp_path: Path, name: str, dsn: str) -> Collector:
    """A collector with its own working directory (its logs apart from the other replica's)."""
    collector = fleet.collector(dsn=dsn, start=False, AGENTLEDGER_BUDGET_DAILY="100")
    collector.workdir = tmp_path / name
    collector.workdir.mkdir()
    return collector.start()


def fleet_spend(collector: Collector) -> float:
    status, report = collector.get("/api/budgets")
    assert status == 200, report
    (fleet,) = [budget for budget in report["budgets"] if budget["scope"] == "fleet"]
    return fleet["keys"][0]["spent_usd"]


def test_a_call_stored_by_one_collector_reaches_the_other_ones_live_feed_and_budgets(fleet: Fleet, tmp_path: Path):
    dsn = fresh_postgres_database("replicas")
    a = replica(fleet, tmp_path, "collector-a", dsn)
    b = replica(fleet, tmp_path, "collector-b", dsn)
    pod = fleet.sidecar(a.ingest_address, source="pod-a")
    session = new_session_id("replicas")

    with connect(f"ws://127.0.0.1:{b.http_port}/ws", open_timeout=10) as feed:
        assert json.loads(feed.recv(timeout=10)) == {"type": "ready"}
        delays = []
        for index in range(5):
            result = pod.call(session, f"seen everywhere {index}")
            assert result.status == 200 and result.action_id, result
            answered = time.monotonic()
            event = json.loads(feed.recv(timeout=10))
            delays.append(time.monotonic() - answered)
            assert event["type"] == "call" and event["action_id"] == result.action_id, event
            assert event["session_id"] == session and event["source"] == "pod-a"
    # From the agent's answer to the other replica's feed: the sidecar's shipping, a's commit, NOTIFY and b's read.
    print(f"call answered by way of collector a, on collector b's live feed after {max(delays) * 1000:.0f} ms at most")
    assert max(delays) < 1.0, delays

    # b settled the spend a stored: its daily budget counts the fleet's calls, not only its own.
    status, records = a.get(f"/session/{session}")
    assert status == 200 and len(records) == 5, records
    spent = sum(record["cost_usd"] for record in records)
    assert spent > 0
    deadline = time.monotonic() + 5
    while fleet_spend(b) < spent - 1e-12 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fleet_spend(b) == pytest.approx(spent, abs=1e-12)
    assert fleet_spend(a) == pytest.approx(spent, abs=1e-12)
    assert b.metrics().get("agentledger_replica_records_seen_total") == 5
    assert a.metrics().get("agentledger_replica_records_seen_total", 0) == 0, "a skips what it announced itself"


def test_a_limit_changed_on_one_collector_applies_on_the_others(fleet: Fleet, tmp_path: Path):
    """A run-time change is stored once and announced over the same LISTEN/NOTIFY: the other replica applies it and
    its sidecars are judged by it, without a restart."""
    dsn = fresh_postgres_database("replica_limits")
    a = replica(fleet, tmp_path, "collector-a", dsn)
    b = replica(fleet, tmp_path, "collector-b", dsn)
    pod = fleet.sidecar(b.ingest_address, source="pod-b")
    session = new_session_id("replica-limits")
    assert pod.call(session, "before").status == 200

    with http_client(timeout=10.0) as client:
        response = client.put(f"{a.url}/api/budgets/session/{session}", json={"limit_usd": 0})
    assert response.status_code == 200, response.text
    deadline = time.monotonic() + 5
    limits: list = []
    while time.monotonic() < deadline:
        status, report = b.get("/api/budgets")
        limits = [budget for budget in report["budgets"] if budget["scope"] == "session"]
        if limits:
            break
        time.sleep(0.05)
    assert limits and limits[0]["named_keys"] == 1, f"collector b never applied the change\n{b.log_tail()}"
    assert pod.call(session, "after").status == 429
