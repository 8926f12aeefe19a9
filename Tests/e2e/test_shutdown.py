"""Graceful shutdown of the distributed mode: SIGTERM never cuts an agent's call and never loses a record."""

from __future__ import annotations

import signal
import threading
import time

import httpx

from distributed import Fleet, wait_stored_exactly_once


def test_sigterm_on_the_sidecar_finishes_the_stream_in_flight_and_delivers_it(fleet: Fleet) -> None:
    collector = fleet.collector()
    sidecar = fleet.sidecar(collector.ingest_address)
    session = "shutdown-stream"
    result: dict[str, object] = {}

    def slow_stream() -> None:
        body = {
            "model": "gpt-4o-mini",
            "stream": True,
            "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "count slowly"}],
        }
        headers = {"x-agentledger-session-id": session, "x-mock-scenario": "slow_stream", "authorization": "Bearer sk-test"}
        with httpx.Client(timeout=20.0) as client:
            with client.stream("POST", f"{sidecar.url}/v1/chat/completions", json=body, headers=headers) as response:
                result["status"] = response.status_code
                result["action_id"] = response.headers.get("x-agentledger-action-id")
                result["body"] = b"".join(response.iter_bytes())

    agent = threading.Thread(target=slow_stream, daemon=True)
    agent.start()
    time.sleep(0.3)  # the stream has begun: its events arrive 200 ms apart
    assert sidecar.process and sidecar.process.process
    sidecar.process.process.send_signal(signal.SIGTERM)
    agent.join(timeout=20)
    assert not agent.is_alive(), "the agent's stream did not finish"
    assert result.get("status") == 200
    assert b"data: [DONE]" in result["body"], "SIGTERM cut the stream short"
    assert sidecar.process.process.wait(timeout=15) == 0, sidecar.log_tail()
    wait_stored_exactly_once(collector.get, session, [str(result["action_id"])], timeout=15, diagnostics=fleet.logs)


def test_sigterm_on_the_sidecar_leaves_undelivered_records_in_the_spool(fleet: Fleet, tmp_path) -> None:
    collector = fleet.collector(start=False)
    spool = tmp_path / "spool-kept"
    sidecar = fleet.sidecar(collector.ingest_address, spool_dir=spool)
    ids = sidecar.calls("shutdown-spool", 6, "kept")
    assert sidecar.process and sidecar.process.process
    sidecar.process.process.send_signal(signal.SIGTERM)
    assert sidecar.process.process.wait(timeout=15) == 0, sidecar.log_tail()
    assert any(path.stat().st_size > 8 for path in spool.glob("segment-*.spool")), "records must wait in the spool"
    collector.start()
    sidecar.start()
    wait_stored_exactly_once(collector.get, "shutdown-spool", ids, timeout=20, diagnostics=fleet.logs)


def test_sigterm_on_the_collector_exits_cleanly_and_loses_nothing(fleet: Fleet) -> None:
    collector = fleet.collector()
    sidecar = fleet.sidecar(collector.ingest_address)
    first = sidecar.calls("shutdown-collector", 5, "before")
    assert collector.process and collector.process.process
    collector.process.process.send_signal(signal.SIGTERM)
    assert collector.process.process.wait(timeout=15) == 0, collector.log_tail()
    second = sidecar.calls("shutdown-collector", 5, "while down")
    collector.start()
    wait_stored_exactly_once(collector.get, "shutdown-collector", first + second, timeout=20, diagnostics=fleet.logs)
