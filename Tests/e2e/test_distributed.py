"""Distributed mode with real processes: sidecars and a collector apart, joined by the ingest link."""

from __future__ import annotations

import time

from distributed import Fleet, unused_address, wait_stored_exactly_once
from support import http_client, new_session_id


def test_two_sidecars_deliver_to_one_collector_each_record_naming_its_source(fleet: Fleet) -> None:
    collector = fleet.collector()
    pod_a = fleet.sidecar(collector.ingest_address, source="pod-a")
    pod_b = fleet.sidecar(collector.ingest_address, source="pod-b")
    session_id = new_session_id("two-pods")

    sources: dict[str, str] = {}
    for round_number in range(3):
        for sidecar in (pod_a, pod_b):
            result = sidecar.call(session_id, f"round {round_number} via {sidecar.source}")
            assert result.status == 200 and result.action_id, result
            sources[result.action_id] = sidecar.source

    records = wait_stored_exactly_once(collector.get, session_id, list(sources), timeout=15, diagnostics=fleet.logs)
    assert {record["action_id"]: record["source"] for record in records} == sources


def test_collector_with_ingest_token_refuses_wrong_and_missing_tokens_and_accepts_the_right_one(fleet: Fleet) -> None:
    collector = fleet.collector(token="secret")
    wrong = fleet.sidecar(collector.ingest_address, source="pod-wrong", token="not-the-secret")
    missing = fleet.sidecar(collector.ingest_address, source="pod-missing")
    right = fleet.sidecar(collector.ingest_address, source="pod-right", token="secret")
    refused_sessions = {new_session_id("wrong-token"): wrong, new_session_id("no-token"): missing}
    good_session = new_session_id("right-token")

    for session_id, sidecar in refused_sessions.items():
        assert len(sidecar.calls(session_id, 3, "refused link")) == 3
    good_ids = right.calls(good_session, 3, "accepted link")

    collector.wait_for_metric("agentledger_sidecar_links_refused_total", 2, timeout=10)
    wait_stored_exactly_once(collector.get, good_session, good_ids, timeout=15, diagnostics=fleet.logs)
    # The refused sidecars keep retrying; give them a few attempts, then make sure nothing of theirs got in.
    time.sleep(1.0)
    for session_id in refused_sessions:
        status, body = collector.get(f"/session/{session_id}")
        assert status == 404, f"records from a refused sidecar were stored: {str(body)[:300]}"
    assert collector.metrics().get("agentledger_sidecar_links_total", 0) >= 1


def test_on_collector_down_closed_refuses_with_503_and_open_forwards(fleet: Fleet) -> None:
    down = unused_address()
    closed = fleet.sidecar(down, source="pod-closed", AGENTLEDGER_ON_COLLECTOR_DOWN="closed")
    opened = fleet.sidecar(down, source="pod-open", AGENTLEDGER_ON_COLLECTOR_DOWN="open")
    session_id = new_session_id("collector-down")

    marker = new_session_id("never-forwarded")
    refused = closed.call(session_id, marker)
    assert refused.status == 503, refused
    with http_client() as client:
        body = client.post(
            f"{closed.url}/v1/chat/completions",
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": marker}]},
            headers={"authorization": "Bearer sk-test"},
        ).json()
        assert body["error"]["type"] == "collector_unavailable", body
        last = client.get(f"{fleet.upstream_url}/debug/last-request")
        assert marker not in last.text, "a call refused for want of a collector reached the upstream"

    forwarded = opened.call(session_id, "forwarded while the collector is down")
    assert forwarded.status == 200 and forwarded.action_id, forwarded


def test_on_collector_down_closed_serves_again_once_the_collector_is_up(fleet: Fleet) -> None:
    collector = fleet.collector(start=False)
    closed = fleet.sidecar(collector.ingest_address, source="pod-closed", AGENTLEDGER_ON_COLLECTOR_DOWN="closed")
    assert closed.call(new_session_id("closed-refused"), "before the collector").status == 503

    collector.start()
    # The sidecar reconnects with capped backoff (at most 5 s); 15 s and 60 attempts bound the wait. Each attempt
    # has its own session: whether refusals are recorded (as blocked) is not this test's concern.
    deadline = time.monotonic() + 15
    session_id, result = "", None
    for _ in range(60):
        session_id = new_session_id("closed-recovers")
        result = closed.call(session_id, "after the collector came up")
        if result.status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert result is not None and result.status == 200, f"still refused once the collector is up: {result}"
    assert result.action_id
    wait_stored_exactly_once(collector.get, session_id, [result.action_id], timeout=15, diagnostics=fleet.logs)
