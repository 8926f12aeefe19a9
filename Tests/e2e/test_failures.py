"""Failures of the distributed mode with real processes: a collector killed, a sidecar killed with records
in its spool, the store going away, rogue peers on the ingest port. The agent never notices; no call is lost
or stored twice."""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from distributed import (
    Agent,
    Fleet,
    PostgresCluster,
    wait_stored_exactly_once,
)
from support import new_session_id


def test_collector_sigkilled_mid_run_loses_and_doubles_nothing(fleet: Fleet) -> None:
    collector = fleet.collector()
    sidecar = fleet.sidecar(collector.ingest_address)
    session_id = new_session_id("collector-kill")

    agent = Agent(sidecar.url, session_id, count=40, interval=0.1)
    agent.start()
    agent.wait_for_calls(15, timeout=10)
    collector.kill()
    agent.wait_for_calls(30, timeout=10)
    collector.start()
    action_ids = agent.finish(timeout=30)

    wait_stored_exactly_once(collector.get, session_id, action_ids, timeout=30, diagnostics=fleet.logs)


def test_sidecar_sigkilled_with_a_full_spool_replays_it_after_restart(fleet: Fleet, tmp_path: Path) -> None:
    """Needs the durable spool (AGENTLEDGER_SPOOL_DIR): records the collector never saw survive a SIGKILL."""
    collector = fleet.collector(start=False)
    spool = tmp_path / "spool-survives"
    sidecar = fleet.sidecar(collector.ingest_address, source="pod-spool", spool_dir=spool)
    session_id = new_session_id("sidecar-kill")

    action_ids = sidecar.calls(session_id, 12, "spooled while the collector is down")
    # A record is spooled as its response ends, off the agent's path: a moment's grace, then SIGKILL
    # (no drain; whatever reached the spool file survives, fsynced or not).
    time.sleep(0.2)
    sidecar.kill()

    sidecar.start()
    collector.start()
    action_ids += sidecar.calls(session_id, 3, "after the restart")
    wait_stored_exactly_once(collector.get, session_id, action_ids, timeout=30, diagnostics=fleet.logs)


def test_postgres_outage_under_load_stores_everything_once_it_is_back(fleet: Fleet, tmp_path: Path) -> None:
    postgres = PostgresCluster.from_environment(tmp_path / "pg_ctl.log")
    if isinstance(postgres, str):
        pytest.skip(f"no Postgres to stop: {postgres}")
    collector = fleet.collector(dsn=postgres.dsn)
    sidecar = fleet.sidecar(collector.ingest_address, source="pod-pg")
    session_id = new_session_id("pg-outage")
    warm_up = sidecar.calls(session_id, 1, "before the outage")
    wait_stored_exactly_once(collector.get, session_id, warm_up, timeout=15, diagnostics=fleet.logs)
    failed_before = collector.metrics().get("agentledger_batches_failed_total", 0.0)

    agent = Agent(sidecar.url, session_id, count=50, interval=0.1)
    try:
        agent.start()
        agent.wait_for_calls(10, timeout=10)
        postgres.stop()
        agent.wait_for_calls(40, timeout=15)
        answered_during = len(warm_up) + agent.calls_done
        failed_during = collector.metrics().get("agentledger_batches_failed_total", 0.0)
        # Reads of the store may hang until a store timeout while Postgres is away: a short wait is enough here.
        stored_during = collector.get(f"/session/{session_id}", timeout=2.0)
        ready_status, _ = collector.get("/readyz", timeout=2.0)
    finally:
        if not postgres.is_running():
            postgres.start()
    action_ids = warm_up + agent.finish(timeout=30)

    stored_count = len(stored_during[1]) if stored_during[0] == 200 and isinstance(stored_during[1], list) else 0
    assert failed_during > failed_before or stored_count < answered_during, (
        "the collector kept acknowledging while Postgres was down: "
        f"batches_failed {failed_before} -> {failed_during}, {stored_count} of {answered_during} calls stored"
    )
    assert ready_status != 200, "/readyz said ready while Postgres was down (0: no answer within 2 s)"
    wait_stored_exactly_once(collector.get, session_id, action_ids, timeout=30, diagnostics=fleet.logs)
    assert collector.get("/readyz")[0] == 200


def read_until_closed(sock: socket.socket, what: str, timeout: float = 5.0) -> bytes:
    """Reads until the collector closes the link (EOF or reset); returns what it sent before closing.

    Fails when the link is still open after `timeout` seconds (bounded by 200 reads as well).
    """
    received = b""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    for _ in range(200):
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        except socket.timeout:
            raise AssertionError(f"the collector kept the link open {timeout} s after {what}") from None
        if not chunk:
            return received
        received += chunk
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"the collector kept sending after {what}: {received[:64]!r}")


FRAME_TOO_LARGE, UNSUPPORTED_VERSION, MALFORMED_FRAME = 4, 2, 3


@dataclass
class Rogue:
    """Bytes a rogue peer sends, whether it then closes its side, and the ERROR code it should get back (if any)."""

    payload: bytes
    closes: bool = False
    expected_code: int | None = None


ROGUES = {
    "an HTTP request": Rogue(b"GET /v1/models HTTP/1.1\r\nHost: collector\r\n\r\n", expected_code=FRAME_TOO_LARGE),
    "an unknown version": Rogue(struct.pack(">I", 6) + b"\x07\x01\x00\x01\x00\x00", expected_code=UNSUPPORTED_VERSION),
    "an unknown type": Rogue(struct.pack(">I", 2) + b"\x01\xee", expected_code=MALFORMED_FRAME),
    "a HELLO that does not parse": Rogue(struct.pack(">I", 5) + b"\x01\x01\x00\x01\xff", expected_code=MALFORMED_FRAME),
    "an oversized length": Rogue(struct.pack(">I", 0x7FFFFFFF), expected_code=FRAME_TOO_LARGE),
    "an oversized length, then close": Rogue(struct.pack(">I", 0x7FFFFFFF) + b"\x01\x05", closes=True),
    "half a frame, then close": Rogue(struct.pack(">I", 32) + b"\x01\x01\x00\x01\x00\x00\x00\x05po", closes=True),
}


def error_code(reply: bytes) -> int | None:
    """The code of the ERROR frame (type 0x09) that opens `reply`, None when it opens with something else."""
    if len(reply) < 8 or reply[4:6] != b"\x01\x09":
        return None
    return struct.unpack(">H", reply[6:8])[0]


def test_rogue_clients_on_the_ingest_port_are_cut_off_and_counted(fleet: Fleet) -> None:
    collector = fleet.collector()
    sidecar = fleet.sidecar(collector.ingest_address, source="pod-good")
    session_id = new_session_id("rogue")
    bad_before = collector.metrics().get("agentledger_ingest_bad_frames_total", 0.0)

    agent = Agent(sidecar.url, session_id, count=20, interval=0.1)
    agent.start()
    address = ("127.0.0.1", collector.ingest_port)
    for name, rogue in ROGUES.items():
        with socket.create_connection(address, timeout=5.0) as sock:
            sock.sendall(rogue.payload)
            if rogue.closes:
                sock.shutdown(socket.SHUT_WR)
            reply = read_until_closed(sock, name)
        if rogue.expected_code is not None:
            assert error_code(reply) == rogue.expected_code, f"{name}: answered {reply[:80]!r} before closing"

    collector.wait_for_metric("agentledger_ingest_bad_frames_total", bad_before + len(ROGUES), timeout=5)
    action_ids = agent.finish(timeout=30)
    action_ids += sidecar.calls(session_id, 3, "after the rogues")
    wait_stored_exactly_once(collector.get, session_id, action_ids, timeout=15, diagnostics=fleet.logs)
    assert collector.process is not None and collector.process.process.poll() is None, "the collector died"
